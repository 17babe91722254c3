/* SPDX-License-Identifier: MIT */
/*
 * A queue pair, independent of the transport: command slots (CIDs),
 * submission and completion, parking commands while the association comes
 * back and sending them again (queue_adopt), timeouts, waiting (the poller
 * and its busy-poll).  The NVMe/TCP data path (PDUs) is tcp_pdu.c's.
 *
 * Locking: everything in struct queue is under q->lock.  One thread at a
 * time (the "poller") waits in poll() on the socket with the lock released;
 * the others wait on q->cond.  The poller processes what arrived for every
 * thread and wakes them (leader/follower).  Completion callbacks run with
 * the lock released, so a callback may submit again.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

#define CID_IDX_BITS 10
#define CID_IDX_MASK ((1u << CID_IDX_BITS) - 1)
#define TIMEOUT_SCAN_NS 250000000ull

/* Commands of a thread that must never wait for a reconnect (the admin
 * thread, which performs it) fail instead of being parked. */
__thread bool queue_tls_no_park;

uint64_t now_ns(void)
{
	return busy_poll_clock_ns();
}

int queue_create(struct tcp_conn *conn, const struct queue_opts *o,
		 struct queue **out)
{
	struct queue *q = calloc(1, sizeof *q);
	unsigned i;

	if (!q)
		return set_error(ENOMEM, "out of memory");
	q->conn = conn;
	q->qid = o->qid;
	q->size = o->size;
	/* At most size - 1 commands in flight: the controller's submission
	 * queue can never be full, so the host need not follow SQHD (NVMe
	 * Base 2.0 §4.1 SQ flow control) to know it may submit. */
	q->nr_slots = o->size > 1 ? o->size - 1 : 1;
	if (q->nr_slots > CID_IDX_MASK + 1)
		q->nr_slots = CID_IDX_MASK + 1;
	q->max_incapsule = o->max_incapsule;
	q->io_timeout_ms = o->io_timeout_ms;
	busy_poll_init(&q->bp, o->busy_poll_ns);
	q->slots = calloc(q->nr_slots, sizeof *q->slots);
	q->free_ids = calloc(q->nr_slots, sizeof *q->free_ids);
	q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!q->slots || !q->free_ids || q->wake_fd < 0) {
		int e = q->wake_fd < 0 ? errno : ENOMEM;

		if (q->wake_fd >= 0)
			close(q->wake_fd);
		free(q->slots);
		free(q->free_ids);
		free(q);
		return set_error(e, "cannot create queue: %s", strerror(e));
	}
	/* Hand out low indices first: a stack popped from the end. */
	for (i = 0; i < q->nr_slots; i++)
		q->free_ids[i] = (uint16_t)(q->nr_slots - 1 - i);
	q->nr_free = q->nr_slots;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	*out = q;
	return 0;
}

void queue_destroy(struct queue *q)
{
	if (!q)
		return;
	tcp_close(q->conn);
	close(q->wake_fd);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q->slots);
	free(q->free_ids);
	free(q);
}

struct req *queue_get_req(struct queue *q)
{
	struct req *r;
	uint16_t idx, gen;

	if (!q->nr_free)
		return NULL;
	idx = q->free_ids[--q->nr_free];
	r = &q->slots[idx];
	gen = (uint16_t)(r->gen + 1);
	memset(r, 0, sizeof *r);
	r->gen = gen;
	/* Generation bits above the index make a stale or repeated completion
	 * for a reused slot visible instead of completing the wrong command. */
	r->cid = (uint16_t)((gen << CID_IDX_BITS) | idx);
	r->busy = true;
	return r;
}

static void req_put(struct queue *q, struct req *r)
{
	r->busy = false;
	q->free_ids[q->nr_free++] = (uint16_t)(r - q->slots);
}

struct req *queue_lookup(struct queue *q, uint16_t cid)
{
	uint32_t idx = cid & CID_IDX_MASK;
	struct req *r;

	if (idx >= q->nr_slots)
		return NULL;
	r = &q->slots[idx];
	if (!r->busy || !r->in_flight || r->cid != cid)
		return NULL;
	return r;
}

static int run_completions(struct queue *q);

void queue_tx_push(struct queue *q, struct req *r)
{
	r->tx_next = NULL;
	r->tx_queued = true;
	r->tx_done = 0;
	if (q->tx_tail)
		q->tx_tail->tx_next = r;
	else
		q->tx_head = r;
	q->tx_tail = r;
}

void queue_tx_pop(struct queue *q)
{
	struct req *r = q->tx_head;

	q->tx_head = r->tx_next;
	if (!q->tx_head)
		q->tx_tail = NULL;
	r->tx_next = NULL;
	r->tx_queued = false;
}

/* Send what is queued now; if the socket is full, make sure the thread in
 * poll() also waits for POLLOUT (lock held). */
void queue_kick(struct queue *q)
{
	int rc;

	if (!q->tx_head || q->dead || q->down)
		return;
	rc = tcp_pdu_flush(q);
	if (rc < 0) {
		queue_fail(q, -rc, nvmeof_get_error());
		return;
	}
	if (q->poller && q->tx_head) {
		uint64_t one = 1;
		(void)!write(q->wake_fd, &one, sizeof one);
	}
}

static void done_push(struct queue *q, struct req *r)
{
	r->done_next = NULL;
	if (q->done_tail)
		q->done_tail->done_next = r;
	else
		q->done_head = r;
	q->done_tail = r;
}

void queue_submit(struct queue *q, struct req *r)
{
	r->start_ns = now_ns();
	r->abort_ns = 0;
	r->in_flight = true;
	r->parked = false;
	q->inflight++;
	if (q->dead || (q->down && (q->fail_fast || r->no_park))) {
		/* Completed at once by the next wait. */
		r->err = -(q->dead ? q->dead : EIO);
		r->in_flight = false;
		q->inflight--;
		done_push(q, r);
		return;
	}
	if (q->down) {
		/* The association is coming back: sent when it has. */
		r->parked = true;
		return;
	}
	tcp_pdu_prepare(q, r);
	queue_tx_push(q, r);
	if (!q->plugged)
		queue_kick(q);
}

/* A read whose data failed its digest was damaged on the way, not by the
 * command: it is sent again, a few times, before it fails with EIO (Linux
 * completes it with Data Transfer Error, which its block layer retries). */
#define DDGST_RETRIES 3

/* A command that passed the I/O timeout and that the controller aborted
 * at our request (Command Abort Requested, DNR clear) is sent again as
 * well, a few times: the caller asked for the I/O, not for an Abort. */
#define ABORT_RETRIES 2

static bool aborted_by_us(const struct req *r, int err, uint16_t status)
{
	return !err && r->abort_ns && !(status & NVME_SF_DNR_BIT) &&
	       NVME_SF_SCT(status) == NVME_SCT_GENERIC &&
	       NVME_SF_SC(status) == NVME_SC_ABORT_REQ;
}

void queue_complete(struct queue *q, struct req *r, int err,
		    uint16_t status)
{
	bool ddgst = r->ddgst_bad && !err && !status &&
		     r->ddgst_tries < DDGST_RETRIES;
	bool aborted = aborted_by_us(r, err, status) &&
		       r->abort_tries < ABORT_RETRIES;

	if (ddgst || aborted) {
		r->ddgst_bad = false;
		r->err = 0;
		r->errmsg = NULL;
		r->ddgst_tries += ddgst;
		r->abort_tries += aborted;
		r->start_ns = now_ns();
		r->abort_ns = 0;
		tcp_pdu_prepare(q, r);
		queue_tx_push(q, r);
		q->n_retries++;
		return;
	}
	r->in_flight = false;
	q->inflight--;
	if (!r->err)
		r->err = err;
	r->status = status;
	q->n_cmds++;
	if (r->err || status)
		q->n_errors++;
	done_push(q, r);
}

/* The connection is gone but the association may come back: keep every
 * command, unsent, for queue_adopt() (lock held). */
/* A command that outlives the I/O timeout on this many associations in a
 * row fails with ETIMEDOUT when the last one is torn down, instead of
 * being sent again forever to a controller that never completes it
 * (Linux's nvme_max_retries is 5 too). */
#define MAX_TIMEOUTS 5

static void queue_down(struct queue *q, int err, const char *why)
{
	unsigned i;

	q->down = true;
	q->down_err = err ? err : EIO;
	snprintf(q->dead_msg, sizeof q->dead_msg, "%s",
		 why && *why ? why : strerror(q->down_err));
	/* The owner hears of it before the socket is shut down: the
	 * controller then closes the other queues, and their "closed the
	 * connection" must not be taken for why the association was lost.
	 * (The owner acts only once it has this queue's lock.) */
	if (q->on_down)
		q->on_down(q->owner, q);
	if (q->conn)
		transport_shutdown(q->conn->t);
	while (q->tx_head)
		queue_tx_pop(q);
	for (i = 0; i < q->nr_slots; i++) {
		struct req *r = &q->slots[i];

		if (!r->busy || !r->in_flight)
			continue;
		if (r->timeouts >= MAX_TIMEOUTS) {
			r->errmsg = "the command outlived the I/O timeout on 5 associations; given up";
			queue_complete(q, r, -ETIMEDOUT, 0);
		} else if (r->no_park) {
			queue_complete(q, r, -q->down_err, 0);
		} else {
			r->parked = true;
		}
	}
	pthread_cond_broadcast(&q->cond);
}

void queue_fail(struct queue *q, int err, const char *why)
{
	unsigned i;

	if (q->dead || q->down)
		return;
	if (q->on_down) {
		queue_down(q, err, why);
		return;
	}
	q->dead = err ? err : EIO;
	snprintf(q->dead_msg, sizeof q->dead_msg, "%s",
		 why && *why ? why : strerror(q->dead));
	transport_shutdown(q->conn->t);
	while (q->tx_head)
		queue_tx_pop(q);
	for (i = 0; i < q->nr_slots; i++) {
		struct req *r = &q->slots[i];

		if (r->busy && r->in_flight)
			queue_complete(q, r, -q->dead, 0);
	}
	pthread_cond_broadcast(&q->cond);
}

void queue_set_down(struct queue *q, int err, const char *why)
{
	if (!q->dead && !q->down)
		queue_down(q, err, why);
}

void queue_cancel(struct queue *q, int err, const char *why)
{
	unsigned i;

	q->on_down = NULL; /* no reconnect from here on */
	if (!q->dead) {
		q->dead = err;
		snprintf(q->dead_msg, sizeof q->dead_msg, "%s", why);
	}
	if (q->conn)
		transport_shutdown(q->conn->t);
	while (q->tx_head)
		queue_tx_pop(q);
	for (i = 0; i < q->nr_slots; i++) {
		struct req *r = &q->slots[i];

		if (r->busy && r->in_flight) {
			r->parked = false;
			queue_complete(q, r, -err, 0);
		}
	}
	pthread_cond_broadcast(&q->cond);
}

void queue_drain(struct queue *q)
{
	run_completions(q);
	/* Let every other thread see its command end and leave. */
	while (q->waiters || q->poller || q->in_callbacks || q->done_head) {
		struct timespec ts;
		uint64_t one = 1;

		run_completions(q);
		pthread_cond_broadcast(&q->cond);
		(void)!write(q->wake_fd, &one, sizeof one);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&q->cond, &q->lock, &ts);
	}
}

void queue_fail_parked(struct queue *q, int err, bool forever,
		       const char *why)
{
	unsigned i;

	for (i = 0; i < q->nr_slots; i++) {
		struct req *r = &q->slots[i];

		if (r->busy && r->in_flight && r->parked) {
			r->parked = false;
			queue_complete(q, r, -err, 0);
		}
	}
	if (forever && !q->dead) {
		q->dead = err;
		snprintf(q->dead_msg, sizeof q->dead_msg, "%s", why);
	} else {
		q->fail_fast = true;
	}
	pthread_cond_broadcast(&q->cond);
}

void queue_adopt(struct queue *q, struct tcp_conn *conn)
{
	struct tcp_conn *old = q->conn;
	unsigned i;

	/* A poller may still be leaving poll() on the old socket. */
	while (q->poller) {
		uint64_t one = 1;

		(void)!write(q->wake_fd, &one, sizeof one);
		pthread_mutex_unlock(&q->lock);
		sched_yield();
		pthread_mutex_lock(&q->lock);
	}
	q->conn = conn;
	tcp_close(old);
	q->down = false;
	q->fail_fast = false;
	/* Every command without a completion goes again, oldest first. */
	for (;;) {
		struct req *oldest = NULL;

		for (i = 0; i < q->nr_slots; i++) {
			struct req *r = &q->slots[i];

			if (r->busy && r->in_flight && r->parked &&
			    (!oldest || r->start_ns < oldest->start_ns))
				oldest = r;
		}
		if (!oldest)
			break;
		oldest->parked = false;
		oldest->abort_ns = 0;
		oldest->start_ns = now_ns();
		tcp_pdu_prepare(q, oldest);
		queue_tx_push(q, oldest);
		q->n_retries++;
	}
	queue_kick(q);
	pthread_cond_broadcast(&q->cond);
}

/* Run the callbacks of completed commands with the lock released, then
 * free their slots.  Returns how many completed. */
static int run_completions(struct queue *q)
{
	int n = 0;

	while (q->done_head) {
		struct req *list = q->done_head, *r;
		int batch = 0;

		q->done_head = q->done_tail = NULL;
		q->in_callbacks++;
		/* Commands the callbacks submit go out together, in one
		 * sendmsg after the last callback, not one each. */
		q->plugged++;
		pthread_mutex_unlock(&q->lock);
		for (r = list; r; r = r->done_next) {
			r->done(r, r->err, r->status);
			batch++;
		}
		pthread_mutex_lock(&q->lock);
		q->plugged--;
		q->in_callbacks--;
		q->n_callbacks += (uint64_t)batch;
		if (!q->plugged)
			queue_kick(q);
		n += batch;
		for (r = list; r; r = r->done_next)
			req_put(q, r);
	}
	if (n && (q->waiters || q->dead))
		pthread_cond_broadcast(&q->cond);
	if (n && q->poller) {
		/* A thread may have become the poller while these callbacks
		 * ran unlocked, one of them for its own command: wake it to
		 * look again, or it sleeps in poll() on a quiet socket. */
		uint64_t one = 1;

		(void)!write(q->wake_fd, &one, sizeof one);
	}
	return n;
}

/* A command older than the I/O timeout is aborted first (the owner sends
 * Abort on the admin queue); one that still has no completion a grace
 * period later fails the association (lock held). */
static void check_timeouts(struct queue *q, uint64_t now)
{
	uint64_t limit, grace;
	unsigned i;

	if (q->io_timeout_ms <= 0 || !q->inflight || q->down)
		return;
	limit = (uint64_t)q->io_timeout_ms * 1000000ull;
	grace = MIN(limit, 5000000000ull);
	for (i = 0; i < q->nr_slots; i++) {
		struct req *r = &q->slots[i];
		char why[320];

		if (!r->busy || !r->in_flight || r->no_timeout || r->parked ||
		    now - r->start_ns < limit)
			continue;
		if (!r->abort_ns && q->on_timeout) {
			r->abort_ns = now;
			if (r->timeouts < UINT8_MAX)
				r->timeouts++;
			q->on_timeout(q->owner, q, r->cid);
			continue;
		}
		if (r->abort_ns && now - r->abort_ns < grace)
			continue;
		snprintf(why, sizeof why,
			 "%s: queue %u: command ID %u (opcode 0x%02x) got no completion within %d ms%s",
			 q->conn->peer, q->qid, r->cid, r->sqe.opcode,
			 q->io_timeout_ms,
			 r->abort_ns ? ", nor after an Abort" : "");
		queue_fail(q, ETIMEDOUT, why);
		return;
	}
}

/* The controller answered the Abort of command cid with "not aborted"
 * (NVMe Base 2.0 5.1: CQE dword 0 bit 0).  If the command still has no
 * completion, the Abort failed and the association goes now, rather than
 * after the grace an aborted command gets to complete (lock held). */
void queue_abort_refused(struct queue *q, uint16_t cid)
{
	struct req *r = queue_lookup(q, cid);
	char why[320];

	if (!r || !r->abort_ns || q->down || q->dead)
		return;
	snprintf(why, sizeof why,
		 "%s: queue %u: command ID %u (opcode 0x%02x) got no completion within %d ms, nor after an Abort (the controller did not abort it)",
		 q->conn->peer, q->qid, r->cid, r->sqe.opcode, q->io_timeout_ms);
	queue_fail(q, ETIMEDOUT, why);
}

void queue_scan_timeouts(struct queue *q)
{
	uint64_t now = now_ns();

	if (q->dead || q->down || q->poller ||
	    now - q->last_scan_ns < TIMEOUT_SCAN_NS)
		return;
	q->last_scan_ns = now;
	check_timeouts(q, now);
}

/* Receive and send what can be without blocking (lock held). */
static void pump(struct queue *q)
{
	int rc;

	if (q->dead || q->down)
		return;
	rc = tcp_pdu_rx(q);
	if (rc < 0) {
		queue_fail(q, -rc, nvmeof_get_error());
		return;
	}
	rc = tcp_pdu_flush(q);
	if (rc < 0)
		queue_fail(q, -rc, nvmeof_get_error());
}

int queue_wait(struct queue *q, bool (*pred)(void *), void *arg,
	       int timeout_ms)
{
	uint64_t start = now_ns();
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX :
			    start + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		uint64_t now;

		run_completions(q);
		/* Not while receive stopped at its budget: what it left may
		 * be where poll() on the socket does not see it (TLS). */
		if (pred(arg)) {
			if (q->poller || q->dead || q->down || !q->conn ||
			    !q->conn->rx_more)
				return 0;
			pump(q);
			continue;
		}
		if (q->dead && !q->done_head && !q->in_callbacks)
			return -q->dead; /* nothing can complete any more */
		if (!q->poller && !q->dead && !q->down) {
			/* Whatever has already arrived, without blocking. */
			pump(q);
			if (q->done_head || q->dead)
				continue;
		}
		now = now_ns();
		/* Callers that only look (nvmeof_poll(ctrl, 0) from an event
		 * loop, as nvmeof-mount does) never sleep in poll() below:
		 * the timeouts are looked for here too, on the queue's clock,
		 * not the call's. */
		if (!q->poller && !q->dead && !q->down &&
		    now - q->last_scan_ns >= TIMEOUT_SCAN_NS) {
			q->last_scan_ns = now;
			check_timeouts(q, now);
			if (q->dead || q->down)
				continue;
		}
		if (now >= deadline)
			return -ETIMEDOUT;
		if (!q->poller && !q->dead && !q->down) {
			struct pollfd pfd[2] = {
				{ .fd = transport_fd(q->conn->t), .events = POLLIN },
				{ .fd = q->wake_fd, .events = POLLIN },
			};
			uint64_t wait_ns = deadline - now;
			uint64_t spin = busy_poll_budget(&q->bp, q->inflight > 0,
							 now, deadline);
			int tmo, n = 0, spun;
			bool busy = false;

			if (q->tx_head)
				pfd[0].events |= POLLOUT;
			if (q->inflight && wait_ns > TIMEOUT_SCAN_NS)
				wait_ns = TIMEOUT_SCAN_NS;
			tmo = wait_ns == UINT64_MAX ? -1 :
			      (int)((wait_ns + 999999) / 1000000);
			q->poller = true;
			pthread_mutex_unlock(&q->lock);
			if (spin)
				n = busy_poll_spin(&q->bp, pfd, 2, now + spin,
						   &busy);
			spun = n;
			if (n == 0 && tmo != 0)
				n = poll(pfd, 2, tmo);
			pthread_mutex_lock(&q->lock);
			q->poller = false;
			if (spin && (spun == 0 || pfd[0].revents))
				busy_poll_account(&q->bp, spun > 0, busy);
			if (n > 0 && pfd[1].revents) {
				uint64_t v;
				(void)!read(q->wake_fd, &v, sizeof v);
			}
			pump(q);
			now = now_ns();
			if (now - q->last_scan_ns >= TIMEOUT_SCAN_NS) {
				q->last_scan_ns = now;
				check_timeouts(q, now);
			}
			if (q->waiters)
				pthread_cond_broadcast(&q->cond);
			continue;
		}
		/* Another thread polls (or runs callbacks of a dead queue):
		 * wait to be woken, a slice at a time. */
		{
			struct timespec ts, rt;
			uint64_t until = MIN(deadline, now + TIMEOUT_SCAN_NS * 4);
			uint64_t t;

			/* q->cond uses CLOCK_REALTIME: convert the slice. */
			clock_gettime(CLOCK_REALTIME, &rt);
			t = (uint64_t)rt.tv_sec * 1000000000ull +
			    (uint64_t)rt.tv_nsec + (until - now);
			ts.tv_sec = (time_t)(t / 1000000000ull);
			ts.tv_nsec = (long)(t % 1000000000ull);
			q->waiters++;
			pthread_cond_timedwait(&q->cond, &q->lock, &ts);
			q->waiters--;
		}
	}
}

struct sync_ctx {
	bool done;
	int err;
	uint16_t status;
	uint32_t dw0, dw1;
	const char *errmsg;
};

static void sync_done(struct req *r, int err, uint16_t status)
{
	struct sync_ctx *s = r->arg;

	s->err = err;
	s->status = status;
	s->dw0 = r->dw0;
	s->dw1 = r->dw1;
	s->errmsg = r->errmsg;
	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
}

static bool sync_is_done(void *arg)
{
	struct sync_ctx *s = arg;

	return __atomic_load_n(&s->done, __ATOMIC_ACQUIRE);
}

static bool has_free(void *arg)
{
	struct queue *q = arg;

	return q->nr_free > 0 || q->dead;
}

struct req *queue_get_req_wait(struct queue *q, int timeout_ms, int *rc)
{
	struct req *r;

	while (!(r = queue_get_req(q))) {
		*rc = queue_wait(q, has_free, q, timeout_ms);
		if (*rc < 0)
			return NULL;
		if (q->dead && !q->nr_free) {
			*rc = -q->dead;
			return NULL;
		}
	}
	*rc = 0;
	return r;
}

int queue_dead_err(struct queue *q)
{
	return set_error(q->dead, "association failed: %s", q->dead_msg);
}

int queue_sync_cmd(struct queue *q, struct nvme_sqe *sqe, void *buf,
		   uint32_t len, enum req_dir dir, uint32_t *dw0,
		   uint32_t *dw1, int timeout_ms)
{
	struct sync_ctx s = { 0 };
	struct req *r;
	int rc;

	pthread_mutex_lock(&q->lock);
	if (q->dead) {
		rc = queue_dead_err(q);
		pthread_mutex_unlock(&q->lock);
		return rc;
	}
	r = queue_get_req_wait(q, timeout_ms, &rc);
	if (!r) {
		if (q->dead)
			rc = queue_dead_err(q);
		else
			rc = set_error(-rc, "no free command slot: %s",
				       strerror(-rc));
		pthread_mutex_unlock(&q->lock);
		return rc;
	}
	r->sqe = *sqe;
	r->buf = buf;
	r->len = len;
	r->dir = len ? dir : REQ_NONE;
	r->done = sync_done;
	r->arg = &s;
	r->no_park = queue_tls_no_park;
	queue_submit(q, r);
	rc = queue_wait(q, sync_is_done, &s, timeout_ms);
	if (rc == -ETIMEDOUT && !sync_is_done(&s)) {
		char why[320];

		/* The command cannot stay in flight with s on our stack. */
		snprintf(why, sizeof why,
			 "%s: queue %u: no completion for opcode 0x%02x within %d ms",
			 q->conn->peer, q->qid, sqe->opcode, timeout_ms);
		queue_fail(q, ETIMEDOUT, why);
		queue_wait(q, sync_is_done, &s, -1);
	}
	if (s.err) {
		if (s.errmsg)
			rc = set_error(-s.err, "%s: %s", q->conn->peer,
				       s.errmsg);
		else if (q->dead)
			rc = queue_dead_err(q);
		else
			rc = set_error(-s.err, "%s", strerror(-s.err));
	} else if (s.status) {
		rc = set_error_status(s.status, "%s: opcode 0x%02x failed",
				      q->conn->peer, sqe->opcode);
	} else {
		rc = 0;
	}
	pthread_mutex_unlock(&q->lock);
	if (dw0)
		*dw0 = s.dw0;
	if (dw1)
		*dw1 = s.dw1;
	return rc;
}
