/* System calls made directly where glibc's wrapper carries a newer symbol version than the floor the
 * README states (checked by NativeFloorTest): the stat family and mknodat (GLIBC_2.33), statx (2.28),
 * copy_file_range (2.27) and clock_gettime (2.17 on x86_64, where it left librt; only the meter's
 * pacing calls it, so the vDSO's speed does not matter). Same arguments, result and errno as the wrappers. Both supported
 * architectures (x86_64, aarch64) have newfstatat, whose struct stat is glibc's. */
#ifndef USYNC_SYSCALLS_H
#define USYNC_SYSCALLS_H

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline int usync_fstatat(int dir, const char *name, struct stat *st, int flags)
{
	return (int)syscall(SYS_newfstatat, dir, name, st, flags);
}

static inline int usync_fstat(int fd, struct stat *st)
{
	return usync_fstatat(fd, "", st, AT_EMPTY_PATH);
}

static inline int usync_lstat(const char *path, struct stat *st)
{
	return usync_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

static inline int usync_mknodat(int dir, const char *name, mode_t mode, dev_t dev)
{
	return (int)syscall(SYS_mknodat, dir, name, mode, dev);
}

static inline int usync_statx(int dir, const char *name, int flags, unsigned mask, struct statx *st)
{
	return (int)syscall(SYS_statx, dir, name, flags, mask, st);
}

static inline int usync_clock_gettime(clockid_t clock, struct timespec *ts)
{
	return (int)syscall(SYS_clock_gettime, clock, ts);
}

static inline ssize_t usync_copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len)
{
	return (ssize_t)syscall(SYS_copy_file_range, in, in_off, out, out_off, len, 0u);
}

#endif
