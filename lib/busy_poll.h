/* SPDX-License-Identifier: MIT */
/*
 * Busy-poll: with work in flight, look for its completion without sleeping
 * for a short while before sleeping in poll(2).  On a machine whose idle
 * CPUs halt, waking a sleeping thread costs more than a short I/O takes;
 * spinning for a few tens of microseconds keeps the CPU awake for the
 * answer.  One routine for the library's queues, nvmeof-mount's workers
 * and nvmeof-target's queues (in the wire library, so all three link it).
 *
 * The tuning, in one place:
 *
 *   budget_ns           how long one spin may last (the caller's option:
 *                       busy_poll_us of libnvmeof(3), --busy-poll of
 *                       nvmeof-mount(8) and nvmeof-target(8)).
 *   BUSY_POLL_MISS_LIMIT  spins in a row that found nothing (the peer
 *                       answers more slowly than the budget) ...
 *   BUSY_POLL_BACKOFF   ... make the next this many waits sleep at once,
 *                       then spinning is tried again.
 *   BUSY_POLL_YIELD_BUSY_NS  between looks the spinner yields the CPU; a
 *                       yield that comes back this late ran another thread
 *                       for a time slice: the CPU has other work and will
 *                       not go idle, so spinning only delays that work and
 *                       our own completion.  The spin ends and the next
 *                       BUSY_POLL_BACKOFF waits sleep at once (a completion
 *                       then wakes us ahead of that work).  Shorter turns
 *                       are other queues' threads doing their completions:
 *                       spinning through them costs less than sleeping.
 */
#ifndef NVMEOF_BUSY_POLL_H
#define NVMEOF_BUSY_POLL_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#define BUSY_POLL_MISS_LIMIT 8
#define BUSY_POLL_BACKOFF 64
#define BUSY_POLL_YIELD_BUSY_NS 200000u

struct busy_poll {
	uint32_t budget_ns;     /* 0: never spin */
	uint32_t yield_busy_ns; /* BUSY_POLL_YIELD_BUSY_NS unless changed */
	uint8_t misses;         /* spins in a row that found nothing */
	uint8_t skip;           /* waits left to sleep at once */
};

void busy_poll_init(struct busy_poll *bp, uint32_t budget_ns);

/* How long to spin before this wait sleeps (0: sleep at once): only with
 * work in flight (something is coming), never beyond the deadline
 * (CLOCK_MONOTONIC ns), and not while backing off (counted down here). */
uint64_t busy_poll_budget(struct busy_poll *bp, bool inflight, uint64_t now,
			  uint64_t deadline);

/* Look at pfd with poll(..., 0) until something is ready or until (ns),
 * yielding the CPU between looks.  Returns poll()'s result (0: the time
 * ran out, or the CPU turned out busy: *busy set). */
int busy_poll_spin(const struct busy_poll *bp, struct pollfd *pfd, nfds_t n,
		   uint64_t until, bool *busy);

/* After a spin: hit (it found something), busy (as busy_poll_spin set). */
void busy_poll_account(struct busy_poll *bp, bool hit, bool busy);

/* The clock of the deadlines: CLOCK_MONOTONIC in ns. */
uint64_t busy_poll_clock_ns(void);

#endif
