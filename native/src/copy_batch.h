/* The local copy's batch on one ring: see copy_batch.c. */
#ifndef USYNC_COPY_BATCH_H
#define USYNC_COPY_BATCH_H

#include <stdint.h>
#include "batch.h"
#include "ring.h"

/* Runs every request (layout of batch.h) and writes one result each. 0, or -errno of the ring itself. */
int usync_run_batch(struct usync_ring *r, uint8_t *reqs, int count, struct usync_res *results);

#endif
