/* Direct I/O for large transfers: file data moves between the ring's buffers and the device without
 * filling the page cache (no page allocation and no memcpy per page on either side of a copy). */
#ifndef USYNC_DIRECT_IO_H
#define USYNC_DIRECT_IO_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Offsets and lengths of direct transfers are multiples of this, and the ring's buffers are aligned to
 * it (mmap'd, page-aligned strides, USYNC_HEADROOM a multiple of it): a file system that asks for
 * more (statx) is not written directly. Not the page size, which can be larger (64 KiB on arm64).
 */
#define USYNC_DIO_ALIGN 4096u

/*
 * Turns on O_DIRECT for fd when its filesystem reports direct I/O alignments (statx STATX_DIOALIGN)
 * that USYNC_DIO_ALIGN satisfies. false leaves fd as it was: buffered I/O is always correct.
 */
bool usync_direct_io(int fd);

/* Turns O_DIRECT off again (for an unaligned tail); 0 or -errno. */
int usync_buffered_io(int fd);

static inline uint32_t usync_dio_round(uint32_t n)
{
	return (n + USYNC_DIO_ALIGN - 1) & ~(USYNC_DIO_ALIGN - 1);
}

#endif
