/*
 * Content hashes of whole regular files for -c/--checksum: XXH128 (xxHash's XXH3, 128 bits), the
 * hash rsync 3.2 chose for the same job; on this project's VMs it runs at memory speed on one core
 * (0.21 s per GiB against OpenSSL's SHA-256 at ~1 GB/s; see the README). Not a cryptographic hash:
 * it finds files that differ between two peers that already trust each other.
 *
 * Up to the ring's depth of files are read at once, each with one chunk-sized read in flight from
 * the ring's pooled buffers; a chunk is hashed as soon as it arrives, while the other files' reads
 * are in the kernel, and the kernel's readahead keeps a large file's next chunk coming meanwhile.
 * xxhash.h is compiled in (XXH_INLINE_ALL): the library gains no run-time dependency.
 */
#define XXH_INLINE_ALL
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include "jni_util.h"
#include "org_uringsync_nativeio_Ring.h"
#include "ring.h"
#include "syscalls.h"

#if XXH_VERSION_NUMBER < 800
#error "xxHash 0.8.0 or later: XXH3/XXH128 output before it differs (peers would disagree on every file)"
#endif

#define HASH_OPEN org_uringsync_nativeio_Ring_HASH_OPEN
#define HASH_READ org_uringsync_nativeio_Ring_HASH_READ

struct hslot {
	XXH3_state_t state;      /* first: XXH3_state_t wants 64-byte alignment */
	int item;                /* -1: free */
	int fd;
	off_t off;
};

struct hrun {
	struct usync_ring *r;
	struct hslot *slots;
	unsigned nslots;
	int count, next, active;
	int *dirs;
	char **names;
	jbyte *out;              /* 16 bytes per file, canonical (big-endian) XXH128 */
	jint *errs;              /* per file: -errno and the stage (HASH_OPEN, HASH_READ), 0 0 when hashed */
};

static void fail(struct hrun *h, int item, int err, int stage)
{
	h->errs[2 * item] = -err;
	h->errs[2 * item + 1] = stage;
}

static void end_slot(struct hrun *h, unsigned si)
{
	struct hslot *s = &h->slots[si];
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->item = -1;
	h->active--;
}

/* Queues the slot's next read; a file without a submission entry fails with EBUSY. */
static void queue_read(struct hrun *h, unsigned si)
{
	struct hslot *s = &h->slots[si];
	struct io_uring_sqe *sqe = usync_ring_sqe(h->r);
	if (!sqe) {
		fail(h, s->item, EBUSY, HASH_READ);
		end_slot(h, si);
		return;
	}
	uint8_t *buf = usync_ring_buf(h->r, si);
	if (h->r->fixed)
		io_uring_prep_read_fixed(sqe, s->fd, buf, (unsigned)h->r->chunk, (uint64_t)s->off, (int)si);
	else
		io_uring_prep_read(sqe, s->fd, buf, (unsigned)h->r->chunk, (uint64_t)s->off);
	io_uring_sqe_set_data64(sqe, si);
}

/*
 * The regular file `name` in dir opened for hashing (O_NOFOLLOW; O_NONBLOCK: a FIFO swapped in cannot
 * block the open), read sequentially: fd, or -errno (-EISDIR, -EINVAL: not a regular file).
 */
static int open_for_hash(int dir, const char *name)
{
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int err = usync_fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : !S_ISREG(st.st_mode) ? EINVAL : 0;
	/* O_NONBLOCK only guarded the open: io_uring hands EAGAIN back for a non-blocking file on a
	 * device without nowait support, and the read would be retried forever */
	if (!err && fcntl(fd, F_SETFL, 0) < 0)
		err = errno;
	if (err) {
		close(fd);
		return -err;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
}

/* Opens the next files into free slots. */
static void start_files(struct hrun *h)
{
	unsigned si = 0;
	while (h->next < h->count) {
		while (si < h->nslots && h->slots[si].item >= 0)
			si++;
		if (si == h->nslots)
			return;
		int item = h->next++;
		int fd = open_for_hash(h->dirs[item], h->names[item]);
		if (fd < 0) {
			fail(h, item, -fd, HASH_OPEN);
			continue;
		}
		struct hslot *s = &h->slots[si];
		s->item = item;
		s->fd = fd;
		s->off = 0;
		XXH3_128bits_reset(&s->state);
		h->active++;
		queue_read(h, si);
	}
}

static void on_read(void *ctx, uint64_t data, int res)
{
	struct hrun *h = ctx;
	unsigned si = (unsigned)data;
	if (si >= h->nslots || h->slots[si].item < 0)
		return; /* not one of this run's reads */
	struct hslot *s = &h->slots[si];
	if (res == -EINTR || res == -EAGAIN) {
		queue_read(h, si);
		return;
	}
	if (res < 0) {
		fail(h, s->item, -res, HASH_READ);
		end_slot(h, si);
		return;
	}
	if (res == 0) { /* the end: the hash of what the file held */
		XXH128_canonical_t c;
		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&s->state));
		memcpy(h->out + 16 * (size_t)s->item, c.digest, 16);
		end_slot(h, si);
		return;
	}
	XXH3_128bits_update(&s->state, usync_ring_buf(h->r, si), (size_t)res);
	s->off += res;
	queue_read(h, si);
}

/*
 * Ring.hashFilesNative(long ring, int[] dirs, byte[][] names, byte[] out, int[] errs): the XXH128 of
 * each file names[i] in directory dirs[i] (AT_FDCWD: a path) into out[16i..16i+16), or its failure
 * into errs[2i] (-errno) and errs[2i+1] (the stage). 0, or -errno of the ring itself.
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Ring_hashFilesNative(JNIEnv *env, jclass cls, jlong handle,
		jintArray jdirs, jobjectArray jnames, jbyteArray jout, jintArray jerrs)
{
	(void)cls;
	struct hrun h = { .r = (struct usync_ring *)(uintptr_t)handle };
	h.count = (*env)->GetArrayLength(env, jnames);
	if ((*env)->GetArrayLength(env, jdirs) != h.count || (*env)->GetArrayLength(env, jout) != 16 * h.count
	    || (*env)->GetArrayLength(env, jerrs) != 2 * h.count)
		return -EINVAL;
	if (h.count == 0)
		return 0;
	int rc = 0;
	h.nslots = h.r->depth < h.r->nbufs ? h.r->depth : h.r->nbufs;
	if (h.nslots > (unsigned)h.count)
		h.nslots = (unsigned)h.count;
	void *slots = NULL; /* posix_memalign, not aligned_alloc: glibc 2.2.5, not 2.16 (the README's floor) */
	if (posix_memalign(&slots, 64, sizeof *h.slots * h.nslots) == 0)
		h.slots = slots;
	h.dirs = calloc((size_t)h.count, sizeof *h.dirs);
	h.names = calloc((size_t)h.count, sizeof *h.names);
	h.out = calloc((size_t)h.count, 16);
	h.errs = calloc((size_t)h.count * 2, sizeof *h.errs);
	if (!h.slots || !h.dirs || !h.names || !h.out || !h.errs) {
		rc = -ENOMEM;
		goto out;
	}
	(*env)->GetIntArrayRegion(env, jdirs, 0, h.count, h.dirs);
	for (int i = 0; i < h.count; i++) {
		jbyteArray jn = (*env)->GetObjectArrayElement(env, jnames, i);
		h.names[i] = jn ? usync_path_of(env, jn) : NULL;
		if (jn)
			(*env)->DeleteLocalRef(env, jn);
		if (!h.names[i]) {
			rc = (*env)->ExceptionCheck(env) ? -ENOMEM : -EINVAL;
			goto out;
		}
	}
	for (unsigned si = 0; si < h.nslots; si++) {
		h.slots[si].item = -1;
		h.slots[si].fd = -1;
	}
	start_files(&h);
	while (h.active > 0) {
		rc = usync_ring_reap(h.r, true, on_read, &h);
		if (rc < 0) {
			/* the ring failed: what is in flight cannot be waited for, so its buffers stay untouched */
			for (unsigned si = 0; si < h.nslots; si++)
				if (h.slots[si].item >= 0) {
					fail(&h, h.slots[si].item, -rc, HASH_READ);
					end_slot(&h, si);
				}
			break;
		}
		start_files(&h);
	}
	for (int i = h.next; i < h.count; i++) /* never started: the ring failed first */
		fail(&h, i, rc < 0 ? -rc : EIO, HASH_READ);
	(*env)->SetByteArrayRegion(env, jout, 0, 16 * h.count, h.out);
	(*env)->SetIntArrayRegion(env, jerrs, 0, 2 * h.count, h.errs);
out:
	if (h.names)
		for (int i = 0; i < h.count; i++)
			free(h.names[i]);
	free(h.names);
	free(h.dirs);
	free(h.out);
	free(h.errs);
	free(h.slots);
	return rc;
}

/* Bytes of one read of hashFileNative. */
#define HASH_ALONE_READ (1 << 20)

/*
 * Ring.hashFileNative(int dir, byte[] name, byte[] out, int at, int[] err): the XXH128 of the regular
 * file `name` in dir (AT_FDCWD: a path; not followed) into out[at..at+16), by plain sequential reads on
 * the calling thread, no ring: for large files, which Ring.hash reads on two threads at once. 0, or
 * -errno with err[0] = -errno and err[1] = the stage (HASH_OPEN, HASH_READ).
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Ring_hashFileNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jname, jbyteArray jout, jint at, jintArray jerr)
{
	(void)cls;
	int rc = -EINVAL, stage = HASH_OPEN, fd = -1;
	char *name = usync_path_of(env, jname);
	uint8_t *buf = malloc(HASH_ALONE_READ);
	XXH3_state_t *state = XXH3_createState();
	if (!name) /* a NUL byte in it, or no memory: as the ring's call, which refuses such a name */
		goto out;
	rc = -ENOMEM;
	if (!buf || !state)
		goto out;
	fd = open_for_hash(dir, name);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	stage = HASH_READ;
	XXH3_128bits_reset(state);
	for (;;) {
		ssize_t n = read(fd, buf, HASH_ALONE_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		XXH3_128bits_update(state, buf, (size_t)n);
	}
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(state));
	(*env)->SetByteArrayRegion(env, jout, at, 16, (const jbyte *)c.digest);
	rc = 0;
out:
	if (rc < 0) {
		jint e[2] = { -rc, stage };
		(*env)->SetIntArrayRegion(env, jerr, 0, 2, e);
	}
	if (fd >= 0)
		close(fd);
	XXH3_freeState(state);
	free(buf);
	free(name);
	return rc;
}
