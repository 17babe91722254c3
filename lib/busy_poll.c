/* SPDX-License-Identifier: MIT */
/* Busy-poll before sleeping: see busy_poll.h for the why and the tuning. */
#include <sched.h>
#include <time.h>

#include "busy_poll.h"

uint64_t busy_poll_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void busy_poll_init(struct busy_poll *bp, uint32_t budget_ns)
{
	bp->budget_ns = budget_ns;
	bp->yield_busy_ns = BUSY_POLL_YIELD_BUSY_NS;
	bp->misses = 0;
	bp->skip = 0;
}

uint64_t busy_poll_budget(struct busy_poll *bp, bool inflight, uint64_t now,
			  uint64_t deadline)
{
	uint64_t left;

	if (!bp->budget_ns || !inflight || now >= deadline)
		return 0;
	if (bp->skip) {
		bp->skip--;
		return 0;
	}
	left = deadline - now;
	return left < bp->budget_ns ? left : bp->budget_ns;
}

int busy_poll_spin(const struct busy_poll *bp, struct pollfd *pfd, nfds_t n,
		   uint64_t until, bool *busy)
{
	for (;;) {
		int r = poll(pfd, n, 0);
		uint64_t now = busy_poll_clock_ns();

		if (r != 0 || now >= until)
			return r;
		sched_yield();
		if (busy_poll_clock_ns() - now > bp->yield_busy_ns) {
			*busy = true;
			return 0;
		}
	}
}

void busy_poll_account(struct busy_poll *bp, bool hit, bool busy)
{
	if (busy) {
		/* A spin cut short by other work is no miss. */
		bp->misses = 0;
		bp->skip = BUSY_POLL_BACKOFF;
	} else if (hit) {
		bp->misses = 0;
	} else if (++bp->misses >= BUSY_POLL_MISS_LIMIT) {
		bp->misses = 0;
		bp->skip = BUSY_POLL_BACKOFF;
	}
}
