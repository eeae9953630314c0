/*
 * A transfer's meter (org.uringsync.nativeio.Meter): a few words of memory Java and C share, for
 * every ring of one transfer. C adds the data bytes it moves, checks a cancel flag between slices,
 * and paces itself to a rate (--bwlimit) by sleeping, never spinning. A ring without one does none
 * of this (every function takes NULL).
 */
#ifndef USYNC_METER_H
#define USYNC_METER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct usync_meter {         /* Meter's layout: a direct buffer of Meter.SIZE bytes */
	int64_t bytes;           /* data bytes moved; C adds, Java reads */
	int32_t cancelled;       /* Java sets 1: C stops between slices (ECANCELED) and stops pacing */
	int32_t pad;
	int64_t rate;            /* bytes per second; 0: unlimited (set before any ring uses it) */
	int64_t tat_ns;          /* pacing: when the bytes counted so far are due at the rate (CLOCK_MONOTONIC) */
	int64_t burst_ns;        /* how far ahead of the rate the bytes may run before a sleep */
};

/* Counts n bytes moved (and, with a rate, pushes their due time). */
void usync_meter_add(struct usync_meter *m, int64_t n);

/* Counts n bytes settled without moving (a hole skipped): no pacing. */
static inline void usync_meter_count(struct usync_meter *m, int64_t n)
{
	if (m && n > 0)
		__atomic_fetch_add(&m->bytes, n, __ATOMIC_RELAXED);
}

/* Whether the meter keeps to a rate. */
static inline bool usync_meter_paced(const struct usync_meter *m)
{
	return m && __atomic_load_n(&m->rate, __ATOMIC_RELAXED) > 0;
}

/* Whether Java asked to stop. */
static inline bool usync_meter_cancelled(const struct usync_meter *m)
{
	return m && __atomic_load_n(&m->cancelled, __ATOMIC_RELAXED);
}

/* With a rate: sleeps while the bytes counted run more than the burst ahead of it (waking for a cancel). */
void usync_meter_pace(struct usync_meter *m);

/* The most one call should move: want, or with a rate about a burst's worth (at least 4 KiB), so that
 * no single call runs far past the rate and then leaves the wire (or disk) idle for long. */
size_t usync_meter_slice(const struct usync_meter *m, size_t want);

#endif
