/*
 * The meter's pacing is a GCRA (virtual scheduling): each byte counted pushes a due time by 1/rate,
 * starting from now when the meter was idle; a mover that is more than a burst ahead of its due time
 * sleeps the difference. Several rings (the local copy's workers) share one meter, so the due time
 * moves by compare-and-swap and the limit holds for their sum.
 */
#include <errno.h>
#include <time.h>
#include "meter.h"
#include "syscalls.h"

#define NS 1000000000LL
/* The longest single sleep: a cancel is noticed within this. */
#define NAP_NS (50LL * 1000 * 1000)

static int64_t now_ns(void)
{
	struct timespec ts;
	usync_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

void usync_meter_add(struct usync_meter *m, int64_t n)
{
	if (!m || n <= 0)
		return;
	__atomic_fetch_add(&m->bytes, n, __ATOMIC_RELAXED);
	int64_t rate = __atomic_load_n(&m->rate, __ATOMIC_RELAXED);
	if (rate <= 0)
		return;
	/* n / rate seconds, without overflow for any n below 2^63 / 10^9 (9 GB) per call */
	int64_t cost = n / rate * NS + n % rate * NS / rate;
	int64_t now = now_ns();
	int64_t tat = __atomic_load_n(&m->tat_ns, __ATOMIC_RELAXED);
	int64_t next;
	do
		next = (tat > now ? tat : now) + cost;
	while (!__atomic_compare_exchange_n(&m->tat_ns, &tat, next, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

void usync_meter_pace(struct usync_meter *m)
{
	if (!m || __atomic_load_n(&m->rate, __ATOMIC_RELAXED) <= 0)
		return;
	for (;;) {
		if (usync_meter_cancelled(m))
			return;
		int64_t ahead = __atomic_load_n(&m->tat_ns, __ATOMIC_RELAXED) - now_ns() - m->burst_ns;
		if (ahead <= 0)
			return;
		int64_t nap = ahead < NAP_NS ? ahead : NAP_NS;
		struct timespec ts = { .tv_sec = nap / NS, .tv_nsec = nap % NS };
		nanosleep(&ts, NULL); /* EINTR: the loop looks again */
	}
}

size_t usync_meter_slice(const struct usync_meter *m, size_t want)
{
	int64_t rate = m ? __atomic_load_n(&m->rate, __ATOMIC_RELAXED) : 0;
	if (rate <= 0)
		return want;
	int64_t burst = (int64_t)((__int128)rate * m->burst_ns / NS);
	size_t cap = burst < 4096 ? 4096 : (size_t)burst;
	return want < cap ? want : cap;
}
