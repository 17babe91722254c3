/* SPDX-License-Identifier: MIT */
/*
 * The admin thread of an association: Keep Alive on time (KATO / 2), an
 * Async Event Request kept outstanding and its events handled (the log
 * page read, the namespace cache told), Abort for commands past the I/O
 * timeout, the I/O queues' timeouts looked for, and reconnect run
 * (reconnect.c) when a queue went down.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

#define NR_AER 1

static void aer_done(struct req *r, int err, uint16_t status)
{
	struct nvmeof_ctrl *c = r->arg;

	/* Runs on whichever thread polls the admin queue; the keep-alive
	 * thread handles the event (reading the log re-arms the event). */
	__atomic_fetch_sub(&c->nr_aer, 1, __ATOMIC_RELAXED);
	if (err || status)
		return;
	pthread_mutex_lock(&c->ev_lock);
	if (c->nr_events < ARRAY_SIZE(c->events))
		c->events[c->nr_events++] = r->dw0;
	pthread_mutex_unlock(&c->ev_lock);
	c->aen_count++;
}

static int submit_aer(struct nvmeof_ctrl *c)
{
	struct queue *q = c->admin;
	struct req *r;

	pthread_mutex_lock(&q->lock);
	r = q->dead ? NULL : queue_get_req(q);
	if (!r) {
		pthread_mutex_unlock(&q->lock);
		return -EAGAIN;
	}
	memset(&r->sqe, 0, sizeof r->sqe);
	r->sqe.opcode = NVME_ADMIN_ASYNC_EVENT;
	r->dir = REQ_NONE;
	r->no_timeout = true;
	r->done = aer_done;
	r->arg = c;
	__atomic_fetch_add(&c->nr_aer, 1, __ATOMIC_RELAXED);
	queue_submit(q, r);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

static void handle_event(struct nvmeof_ctrl *c, uint32_t dw0)
{
	uint32_t nsids[NVME_CHANGED_NS_MAX];
	size_t nr = 0;
	uint8_t lid = (uint8_t)NVME_AER_LID(dw0);

	if (NVME_AER_TYPE(dw0) == NVME_AER_NOTICE &&
	    NVME_AER_INFO(dw0) == NVME_AER_NOTICE_NS_CHANGED) {
		/* Reading log 04h (without RAE) re-arms the event. */
		memset(nsids, 0, sizeof nsids);
		if (nvmeof_get_log_page(c, NVME_LOG_CHANGED_NS, 0xffffffff, 0,
					0, nsids, sizeof nsids) == 0) {
			while (nr < NVME_CHANGED_NS_MAX && nsids[nr]) {
				nsids[nr] = le32toh(nsids[nr]);
				if (nsids[nr] != 0xffffffff)
					ctrl_ns_forget(c, nsids[nr]);
				nr++;
			}
			if (nr && nsids[0] == 0xffffffff)
				ctrl_ns_forget(c, 0);
		}
	} else if (NVME_AER_TYPE(dw0) == NVME_AER_NOTICE &&
		   NVME_AER_INFO(dw0) == NVME_AER_NOTICE_DISC_CHANGED) {
		/* NVMe-oF 1.1 §5.3: reading log 70h without RAE re-arms the
		 * event; its header is enough (the user reads it whole). */
		uint8_t hdr[1024];

		(void)nvmeof_get_log_page(c, NVME_LOG_DISCOVERY, 0, 0, 0, hdr,
					  sizeof hdr);
	} else if (NVME_AER_TYPE(dw0) == NVME_AER_NOTICE &&
		   NVME_AER_INFO(dw0) == NVME_AER_NOTICE_ANA) {
		/* The new states, for nvmeof_ana_state(); reading log 0Ch
		 * without RAE re-arms the event. */
		(void)ctrl_ana_refresh(c);
	} else if (lid) {
		/* Read the log the event names, so the next event can come. */
		uint8_t buf[512];

		(void)nvmeof_get_log_page(c, lid, 0xffffffff, 0, 0, buf,
					  sizeof buf);
	}
	if (c->event_cb)
		c->event_cb(c->event_arg, dw0, nsids, nr);
}

void admin_thread_wake(struct nvmeof_ctrl *c)
{
	uint64_t one = 1;

	(void)!write(c->admin->wake_fd, &one, sizeof one);
}

/* A command passed the I/O timeout: the admin thread sends Abort. */
void ctrl_on_timeout(void *owner, struct queue *q, uint16_t cid)
{
	struct nvmeof_ctrl *c = owner;

	pthread_mutex_lock(&c->ev_lock);
	if (c->nr_aborts < ARRAY_SIZE(c->aborts))
		c->aborts[c->nr_aborts++] = (uint32_t)q->qid << 16 | cid;
	pthread_mutex_unlock(&c->ev_lock);
	admin_thread_wake(c);
}

/* Wait up to ms for a wake-up (link came back, disconnect). */
void admin_thread_sleep(struct nvmeof_ctrl *c, int ms)
{
	struct pollfd p = { .fd = c->admin->wake_fd, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, ms) > 0)
		(void)!read(c->admin->wake_fd, &v, sizeof v);
}

static void ka_done(struct req *r, int err, uint16_t status)
{
	struct nvmeof_ctrl *c = r->arg;

	__atomic_store_n(&c->ka_outstanding, false, __ATOMIC_RELEASE);
}

/* Keep Alive sent without waiting: its answer is due within KATO. */
static void send_keep_alive(struct nvmeof_ctrl *c)
{
	struct queue *q = c->admin;
	struct req *r;

	pthread_mutex_lock(&q->lock);
	r = q->dead || q->down ? NULL : queue_get_req(q);
	if (r) {
		memset(&r->sqe, 0, sizeof r->sqe);
		r->sqe.opcode = NVME_ADMIN_KEEP_ALIVE;
		r->dir = REQ_NONE;
		r->no_timeout = true; /* KATO is its deadline */
		r->done = ka_done;
		r->arg = c;
		c->ka_outstanding = true;
		c->ka_sent_ns = now_ns();
		queue_submit(q, r);
	}
	pthread_mutex_unlock(&q->lock);
}

static void check_keep_alive(struct nvmeof_ctrl *c)
{
	char why[200];

	if (!__atomic_load_n(&c->ka_outstanding, __ATOMIC_ACQUIRE) ||
	    now_ns() - c->ka_sent_ns < (uint64_t)c->kato_ms * 1000000ull)
		return;
	snprintf(why, sizeof why,
		 "%s: no Keep Alive completion within KATO (%d ms)",
		 c->admin->conn->peer, c->kato_ms);
	pthread_mutex_lock(&c->admin->lock);
	queue_fail(c->admin, ETIMEDOUT, why);
	pthread_mutex_unlock(&c->admin->lock);
}

static void send_aborts(struct nvmeof_ctrl *c)
{
	uint32_t list[ARRAY_SIZE(c->aborts)];
	unsigned n, i;

	pthread_mutex_lock(&c->ev_lock);
	n = c->nr_aborts;
	memcpy(list, c->aborts, n * sizeof list[0]);
	c->nr_aborts = 0;
	c->n_aborts += n;
	pthread_mutex_unlock(&c->ev_lock);
	for (i = 0; i < n; i++) {
		/* NVMe Base 2.0 §5.1: CDW10 = SQID | CID << 16.  "Not
		 * aborted" (dw0 bit 0) ends the association at once; an
		 * aborted command completes with Command Abort Requested and
		 * is sent again; with no answer, the queue fails the
		 * association if the command still has no completion after a
		 * grace period. */
		struct nvme_sqe sqe = { .opcode = NVME_ADMIN_ABORT };
		unsigned qid = list[i] >> 16;
		uint32_t dw0 = 0;
		struct queue *q;

		sqe.cdw10 = htole32(qid | (list[i] & 0xffff) << 16);
		if (admin_cmd_q(c->admin, &sqe, NULL, 0, &dw0,
				c->opts.connect_timeout_ms) < 0 ||
		    !(dw0 & 1))
			continue;
		q = qid == 0 ? c->admin :
		    qid <= (unsigned)c->nr_io ? c->io[qid - 1] : NULL;
		if (!q)
			continue;
		pthread_mutex_lock(&q->lock);
		queue_abort_refused(q, (uint16_t)(list[i] & 0xffff));
		pthread_mutex_unlock(&q->lock);
	}
}

/* Keep NR_AER Async Event Requests outstanding (not on a one-shot
 * discovery controller). */
static void arm_aers(struct nvmeof_ctrl *c)
{
	while (!ctrl_stopping(c) && (!c->discovery || c->persistent) &&
	       !c->admin->down &&
	       __atomic_load_n(&c->nr_aer, __ATOMIC_RELAXED) < NR_AER &&
	       submit_aer(c) == 0)
		;
}

static bool admin_wake(void *arg)
{
	struct nvmeof_ctrl *c = arg;
	bool ev;

	pthread_mutex_lock(&c->ev_lock);
	ev = c->nr_events > 0 || c->need_reconnect || c->nr_aborts > 0 ||
	     c->reconnect_asked ||
	     (c->fail_req && !c->fail_done);
	pthread_mutex_unlock(&c->ev_lock);
	return ctrl_stopping(c) || ev;
}

/* Commands past the I/O timeout are found by whoever waits on their
 * queue; a caller with its own event loop (nvmeof-mount) may not look for
 * a while when the socket is quiet and other work keeps it busy, so the
 * admin thread looks too. */
static void scan_io_timeouts(struct nvmeof_ctrl *c)
{
	int i;

	for (i = 0; i < c->nr_io; i++) {
		pthread_mutex_lock(&c->io[i]->lock);
		queue_scan_timeouts(c->io[i]);
		pthread_mutex_unlock(&c->io[i]->lock);
	}
}

/* The admin queue's background thread: keep-alive on time, the poller that
 * receives async events while nobody else waits, aborts, and reconnect. */
static void *admin_thread(void *arg)
{
	struct nvmeof_ctrl *c = arg;
	uint64_t period = c->kato_ms > 0 ?
			  (uint64_t)c->kato_ms * 1000000ull / 2 : UINT64_MAX;
	uint64_t next = period == UINT64_MAX ? UINT64_MAX : now_ns() + period;

	queue_tls_no_park = true;
	while (!ctrl_stopping(c)) {
		uint64_t now = now_ns();
		int tmo = next == UINT64_MAX ? 1000 :
			  next <= now ? 0 : (int)((next - now) / 1000000ull) + 1;
		uint32_t evs[ARRAY_SIZE(c->events)];
		unsigned nev, i;
		bool need, failed;

		if (ctrl_fail_asked(c)) {
			ctrl_do_fail(c);
			continue;
		}
		pthread_mutex_lock(&c->ev_lock);
		need = c->need_reconnect;
		pthread_mutex_unlock(&c->ev_lock);
		if (need) {
			ctrl_reconnect_run(c);
			next = period == UINT64_MAX ? UINT64_MAX : now_ns() + period;
			continue;
		}
		failed = c->state == CTRL_FAILED;
		if (!failed) {
			/* q->dead is written under the queue's lock */
			pthread_mutex_lock(&c->admin->lock);
			failed = c->admin->dead != 0;
			pthread_mutex_unlock(&c->admin->lock);
		}
		if (failed) {
			admin_thread_sleep(c, 1000);
			continue;
		}
		if (tmo > 1000)
			tmo = 1000;
		/* Often enough to see I/O time out (scan_io_timeouts). */
		if (c->opts.io_timeout_ms > 0 && tmo > c->opts.io_timeout_ms / 4)
			tmo = MAX(c->opts.io_timeout_ms / 4, 50);
		/* Before waiting: an event that happens now (right after a
		 * connect) must find an Async Event Request to complete. */
		arm_aers(c);
		pthread_mutex_lock(&c->admin->lock);
		(void)queue_wait(c->admin, admin_wake, c, tmo);
		pthread_mutex_unlock(&c->admin->lock);
		if (ctrl_stopping(c))
			break;
		scan_io_timeouts(c);
		send_aborts(c);
		pthread_mutex_lock(&c->ev_lock);
		nev = c->nr_events;
		memcpy(evs, c->events, nev * sizeof evs[0]);
		c->nr_events = 0;
		pthread_mutex_unlock(&c->ev_lock);
		for (i = 0; i < nev; i++)
			handle_event(c, evs[i]);
		arm_aers(c);
		if (period != UINT64_MAX) {
			check_keep_alive(c);
			if (now_ns() >= next) {
				if (!__atomic_load_n(&c->ka_outstanding,
						     __ATOMIC_ACQUIRE))
					send_keep_alive(c);
				next = now_ns() + period;
			}
		}
	}
	return NULL;
}

int admin_thread_start(struct nvmeof_ctrl *c)
{
	int rc = pthread_create(&c->ka_thread, NULL, admin_thread, c);

	if (rc)
		return set_error(rc, "cannot start the admin thread: %s",
				 strerror(rc));
	c->ka_running = true;
	return 0;
}

void admin_thread_stop(struct nvmeof_ctrl *c)
{
	if (!c->ka_running)
		return;
	__atomic_store_n(&c->stopping, true, __ATOMIC_RELEASE);
	admin_thread_wake(c);
	pthread_mutex_lock(&c->admin->lock);
	pthread_cond_broadcast(&c->admin->cond);
	pthread_mutex_unlock(&c->admin->lock);
	pthread_join(c->ka_thread, NULL);
	c->ka_running = false;
}
