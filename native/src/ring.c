/*
 * JNI side of org.uringsync.nativeio.Ring: one io_uring with a registered buffer pool and a pool of
 * pipes - set-up, probe, submission (with room for linked entries, and injected refusals for tests),
 * and the entry point that runs a copy batch (copy_batch.c).
 */
#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "batch.h"
#include "copy_batch.h"
#include "ring.h"
#include "org_uringsync_nativeio_Meter.h"
#include "org_uringsync_nativeio_Ring.h"

#define M(name) org_uringsync_nativeio_Meter_##name
_Static_assert(offsetof(struct usync_meter, bytes) == M(BYTES), "Meter.BYTES");
_Static_assert(offsetof(struct usync_meter, cancelled) == M(CANCELLED), "Meter.CANCELLED");
_Static_assert(offsetof(struct usync_meter, rate) == M(RATE), "Meter.RATE");
_Static_assert(offsetof(struct usync_meter, tat_ns) == M(TAT_NS), "Meter.TAT_NS");
_Static_assert(offsetof(struct usync_meter, burst_ns) == M(BURST), "Meter.BURST");
_Static_assert(sizeof(struct usync_meter) == M(SIZE), "Meter.SIZE");
#undef M

static int inject_after = -1, inject_count; /* usync_ring_inject_sqe_failures; -1: off */

void usync_ring_inject_sqe_failures(int after, int count)
{
	__atomic_store_n(&inject_count, count, __ATOMIC_SEQ_CST);
	__atomic_store_n(&inject_after, after, __ATOMIC_SEQ_CST);
}

static bool injected_failure(void)
{
	if (__atomic_load_n(&inject_after, __ATOMIC_RELAXED) < 0)
		return false;
	if (__atomic_fetch_sub(&inject_after, 1, __ATOMIC_SEQ_CST) > 0)
		return false;
	__atomic_store_n(&inject_after, 0, __ATOMIC_SEQ_CST);
	if (__atomic_fetch_sub(&inject_count, 1, __ATOMIC_SEQ_CST) > 0)
		return true;
	__atomic_store_n(&inject_after, -1, __ATOMIC_SEQ_CST); /* spent */
	return false;
}

bool usync_ring_room(struct usync_ring *r, unsigned n)
{
	for (int tries = 0; io_uring_sq_space_left(&r->ring) < n; tries++) {
		int rc = io_uring_submit(&r->ring);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN)
			return false;
		if (tries >= 3)
			return false;
	}
	return true;
}

struct io_uring_sqe *usync_ring_sqe(struct usync_ring *r)
{
	if (injected_failure() || !usync_ring_room(r, 1))
		return NULL;
	return io_uring_get_sqe(&r->ring);
}

int usync_ring_submit(struct usync_ring *r, bool wait)
{
	int rc = wait ? io_uring_submit_and_wait(&r->ring, 1) : io_uring_submit(&r->ring);
	return rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY ? rc : 0;
}

int usync_ring_reap(struct usync_ring *r, bool wait, usync_cqe_fn fn, void *ctx)
{
	int rc = usync_ring_submit(r, wait);
	if (rc < 0)
		return rc;
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	io_uring_for_each_cqe(&r->ring, head, cqe) {
		fn(ctx, cqe->user_data, cqe->res);
		seen++;
	}
	io_uring_cq_advance(&r->ring, seen);
	return 0;
}

static int ring_init(struct io_uring *ring, unsigned entries)
{
	struct io_uring_params p = { 0 };
	p.flags = IORING_SETUP_COOP_TASKRUN;
	int rc = io_uring_queue_init_params(entries, ring, &p);
	if (rc == -EINVAL) {
		memset(&p, 0, sizeof p);
		rc = io_uring_queue_init_params(entries, ring, &p);
	}
	return rc;
}

/* The io_uring operations this core queues; Ring's constants name them (kernel ABI numbers). */
static const int required_ops[] = {
	org_uringsync_nativeio_Ring_OP_NOP,    org_uringsync_nativeio_Ring_OP_READ_FIXED,
	org_uringsync_nativeio_Ring_OP_WRITE_FIXED, org_uringsync_nativeio_Ring_OP_LINK_TIMEOUT,
	org_uringsync_nativeio_Ring_OP_OPENAT, org_uringsync_nativeio_Ring_OP_CLOSE,
	org_uringsync_nativeio_Ring_OP_READ,   org_uringsync_nativeio_Ring_OP_WRITE,
	org_uringsync_nativeio_Ring_OP_SEND,   org_uringsync_nativeio_Ring_OP_RECV,
	org_uringsync_nativeio_Ring_OP_SPLICE,
};
_Static_assert(org_uringsync_nativeio_Ring_OP_NOP == IORING_OP_NOP, "Ring.OP_NOP");
_Static_assert(org_uringsync_nativeio_Ring_OP_READ_FIXED == IORING_OP_READ_FIXED, "Ring.OP_READ_FIXED");
_Static_assert(org_uringsync_nativeio_Ring_OP_WRITE_FIXED == IORING_OP_WRITE_FIXED, "Ring.OP_WRITE_FIXED");
_Static_assert(org_uringsync_nativeio_Ring_OP_LINK_TIMEOUT == IORING_OP_LINK_TIMEOUT, "Ring.OP_LINK_TIMEOUT");
_Static_assert(org_uringsync_nativeio_Ring_OP_OPENAT == IORING_OP_OPENAT, "Ring.OP_OPENAT");
_Static_assert(org_uringsync_nativeio_Ring_OP_CLOSE == IORING_OP_CLOSE, "Ring.OP_CLOSE");
_Static_assert(org_uringsync_nativeio_Ring_OP_READ == IORING_OP_READ, "Ring.OP_READ");
_Static_assert(org_uringsync_nativeio_Ring_OP_WRITE == IORING_OP_WRITE, "Ring.OP_WRITE");
_Static_assert(org_uringsync_nativeio_Ring_OP_SEND == IORING_OP_SEND, "Ring.OP_SEND");
_Static_assert(org_uringsync_nativeio_Ring_OP_RECV == IORING_OP_RECV, "Ring.OP_RECV");
_Static_assert(org_uringsync_nativeio_Ring_OP_SPLICE == IORING_OP_SPLICE, "Ring.OP_SPLICE");

/*
 * Ring.probeNative(): 0 when a ring can be created and the kernel has every operation this core
 * queues, -errno when no ring can be created, 1 + the operation's number when the kernel lacks one.
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Ring_probeNative(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	struct io_uring ring;
	int rc = ring_init(&ring, 4);
	if (rc != 0)
		return rc;
	/* NULL when the kernel cannot say (before 5.6, or io_uring_register blocked): unknown, not missing */
	struct io_uring_probe *probe = io_uring_get_probe_ring(&ring);
	for (size_t i = 0; probe && i < sizeof required_ops / sizeof required_ops[0] && rc == 0; i++)
		if (!io_uring_opcode_supported(probe, required_ops[i]))
			rc = 1 + required_ops[i];
	io_uring_free_probe(probe);
	io_uring_queue_exit(&ring);
	return rc;
}

static void ring_free(struct usync_ring *r)
{
	if (!r)
		return;
	if (r->ring.ring_fd > 0)
		io_uring_queue_exit(&r->ring);
	if (r->bufmem)
		munmap(r->bufmem, (size_t)r->nbufs * r->stride);
	usync_pipes_close(&r->pipes);
	free(r->free_pipes);
	free(r->free_bufs);
	free(r);
}

/* Ring.createNative(int depth, int chunk, long largeMin, int pipes, int pipeSize): handle, or -errno. */
JNIEXPORT jlong JNICALL Java_org_uringsync_nativeio_Ring_createNative(JNIEnv *env, jclass cls, jint depth,
		jint chunk, jlong large_min, jint npipes, jint pipe_size)
{
	(void)env;
	(void)cls;
	int rc;
	struct usync_ring *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->depth = (unsigned)depth;
	r->large_min = (off_t)large_min;
	r->nbufs = (unsigned)depth < 16 ? 16 : (unsigned)depth;
	r->chunk = (size_t)chunk;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	r->stride = (USYNC_HEADROOM + r->chunk + page - 1) / page * page;
	r->free_bufs = calloc(r->nbufs, sizeof *r->free_bufs);
	if (!r->free_bufs) {
		rc = -ENOMEM;
		goto err;
	}
	r->bufmem = mmap(NULL, (size_t)r->nbufs * r->stride, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->bufmem == MAP_FAILED) {
		r->bufmem = NULL;
		rc = -errno;
		goto err;
	}
	if (large_min > 0 && npipes > 0) {
		rc = usync_pipes_open(&r->pipes, (unsigned)npipes, (unsigned)pipe_size);
		if (rc < 0)
			goto err;
		r->free_pipes = calloc(r->pipes.count, sizeof *r->free_pipes);
		if (!r->free_pipes) {
			rc = -ENOMEM;
			goto err;
		}
		for (unsigned i = 0; i < r->pipes.count; i++)
			r->free_pipes[i] = (uint16_t)i;
		r->nfree_pipes = r->pipes.count;
	}
	rc = ring_init(&r->ring, r->depth + r->nbufs + r->pipes.count);
	if (rc < 0) {
		r->ring.ring_fd = -1;
		goto err;
	}
	struct iovec *iov = calloc(r->nbufs, sizeof *iov);
	if (iov) {
		for (unsigned i = 0; i < r->nbufs; i++) {
			iov[i].iov_base = r->bufmem + (size_t)i * r->stride;
			iov[i].iov_len = r->stride;
		}
		/* Registration can fail under a low memlock limit; plain reads/writes then do the job. */
		r->fixed = io_uring_register_buffers(&r->ring, iov, r->nbufs) == 0;
		free(iov);
	}
	for (unsigned i = 0; i < r->nbufs; i++)
		r->free_bufs[i] = (uint16_t)(r->nbufs - 1 - i);
	r->nfree = r->nbufs;
	return (jlong)(uintptr_t)r;
err:
	ring_free(r);
	return rc;
}

/* Ring.destroyNative(long handle) */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_Ring_destroyNative(JNIEnv *env, jclass cls, jlong handle)
{
	(void)env;
	(void)cls;
	ring_free((struct usync_ring *)(uintptr_t)handle);
}

/* Ring.attachNative(long handle, ByteBuffer meter): the transfer's meter (NULL buffer: none). */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_Ring_attachNative(JNIEnv *env, jclass cls, jlong handle, jobject meter)
{
	(void)cls;
	struct usync_ring *r = (struct usync_ring *)(uintptr_t)handle;
	r->meter = meter ? (*env)->GetDirectBufferAddress(env, meter) : NULL;
}

/* Ring.runBatchNative(long handle, ByteBuffer requests, int count, ByteBuffer results): 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Ring_runBatchNative(JNIEnv *env, jclass cls, jlong handle,
		jobject requests, jint count, jobject results)
{
	(void)cls;
	uint8_t *reqs = (*env)->GetDirectBufferAddress(env, requests);
	struct usync_res *res = (*env)->GetDirectBufferAddress(env, results);
	if (!reqs || !res || count < 0)
		return -EINVAL;
	if ((*env)->GetDirectBufferCapacity(env, results) < (jlong)count * (jlong)sizeof *res)
		return -EINVAL;
	return usync_run_batch((struct usync_ring *)(uintptr_t)handle, reqs, count, res);
}

/* Ring.injectSubmissionFailuresNative(int after, int count): tests of the no-entry paths. */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_Ring_injectSubmissionFailuresNative(JNIEnv *env, jclass cls,
		jint after, jint count)
{
	(void)env;
	(void)cls;
	usync_ring_inject_sqe_failures(after, count);
}
