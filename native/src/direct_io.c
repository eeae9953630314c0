/* Direct I/O switches (see direct_io.h) and FileOps.cachedPercent (cachestat(2)). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "direct_io.h"
#include "org_uringsync_nativeio_FileOps.h"
#include "syscalls.h"

bool usync_direct_io(int fd)
{
	struct statx st;
	if (usync_statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &st) != 0 || !(st.stx_mask & STATX_DIOALIGN))
		return false;
	if (st.stx_dio_mem_align == 0 || st.stx_dio_offset_align == 0 || st.stx_dio_mem_align > USYNC_DIO_ALIGN ||
	    st.stx_dio_offset_align > USYNC_DIO_ALIGN)
		return false; /* no direct I/O here, or alignments our buffers cannot meet */
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
}

int usync_buffered_io(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_DIRECT) != 0)
		return -errno;
	return 0;
}

#ifndef __NR_cachestat
#define __NR_cachestat 451 /* Linux 6.5; the same number on every architecture */
#endif

struct usync_cachestat_range { uint64_t off, len; };
struct usync_cachestat { uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; };

/* FileOps.cachedPercentNative(int fd, long size): percent of the file's pages in the page cache, -errno if unknown. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_cachedPercentNative(JNIEnv *env, jclass cls, jint fd, jlong size)
{
	(void)env;
	(void)cls;
	struct usync_cachestat_range range = { 0, 0 }; /* len 0: to the end of the file */
	struct usync_cachestat cs;
	if (syscall(__NR_cachestat, fd, &range, &cs, 0) != 0)
		return -errno;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t pages = ((uint64_t)size + page - 1) / page;
	return pages == 0 ? 100 : (jint)(cs.nr_cache * 100 / pages > 100 ? 100 : cs.nr_cache * 100 / pages);
}
