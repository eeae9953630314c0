/*
 * How completions say what they were: the io_uring user_data encoding, in one place.
 * - The local copy (copy_batch.c, copy_data.c): kind << 48 | slot << 24 | buffer-or-pipe (kinds 1..6,
 *   so bits 48..50).
 * - The network paths (send_batch.c, recv_file.c, splice.c): single tag bits 58..63 below, or, for a
 *   chunk read of the sender, the buffer index itself; for a file write of the receiver,
 *   buffer << 32 | length; for the receiver's splice into the file, the pipe (0 or 1). No value of
 *   one family can look like another's within a call: each call drains what it queued before it
 *   returns.
 */
#ifndef USYNC_URING_DATA_H
#define USYNC_URING_DATA_H

#include <stdint.h>

#define TAG_SPLICE (1ULL << 62)
#define TAG_SEND (1ULL << 61)
#define TAG_CLOSE (1ULL << 60)
#define TAG_NOP (1ULL << 59)
#define TAG_TIMEOUT (1ULL << 58)
#define TAG_RECV (1ULL << 63)

/* The copy batch's kinds and their packing. */
enum ud_kind { K_OPEN_SRC = 1, K_OPEN_DST, K_READ, K_WRITE, K_SPLICE_IN, K_SPLICE_OUT };

static inline uint64_t ud(enum ud_kind k, unsigned slot, unsigned buf)
{
	return (uint64_t)k << 48 | (uint64_t)slot << 24 | buf;
}

#endif
