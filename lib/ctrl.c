/* SPDX-License-Identifier: MIT */
/*
 * An association with one controller: bring-up (NVMe-oF 1.1 §3.3, NVMe
 * Base 2.0 §3.5.1 initialisation), the I/O queues, keep-alive and async
 * events on a background thread, binding of threads to I/O queues, and
 * shutdown.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <uuid/uuid.h>

#include "host.h"
#include "netlink.h"

#define ADMIN_QUEUE_SIZE 32
#define ADMIN_INCAPSULE 8192 /* NVMe/TCP §3.3.1: 8 KiB on the admin queue */
/* With MDTS 0 ("no limit") a command still carries at most 1 MiB: Linux
 * nvmet 6.1 answers Data SGL Length Invalid above 4 MiB although it
 * reports MDTS 0, and Linux's own host never sends more than 1 MiB. */
#define MAX_CMD_BYTES (1u << 20)
#define NR_AER 1

static uint64_t next_ctrl_id = 1;
static void live_add(uint64_t id);
static void live_del(uint64_t id);

void nvmeof_opts_init(struct nvmeof_opts *o)
{
	memset(o, 0, sizeof *o);
	o->nr_io_queues = 1;
	o->queue_size = 128;
	o->kato_ms = -1; /* default: 5 s, or none for a discovery controller */
	o->reconnect_delay = 10;
	o->ctrl_loss_tmo = 600;
	o->fast_io_fail_tmo = -1;
	o->connect_timeout_ms = 10000;
	o->io_timeout_ms = 30000;
	o->busy_poll_us = -1;
}

/* Copy, truncating to fit. */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = src ? strnlen(src, len - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

int ctrl_admin_timeout(struct nvmeof_ctrl *c)
{
	return c->opts.io_timeout_ms > 0 ? c->opts.io_timeout_ms : 30000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int connect_queue(struct nvmeof_ctrl *c, uint16_t qid, uint16_t size,
			 uint32_t max_incapsule, struct queue **out)
{
	struct tcp_connect_params tp = {
		.traddr = c->traddr,
		.trsvcid = c->trsvcid,
		.host_iface = c->host_iface,
		.host_traddr = c->host_traddr,
		.timeout_ms = c->opts.connect_timeout_ms,
		.hdgst = c->opts.hdr_digest,
		.ddgst = c->opts.data_digest,
		.maxr2t = 0, /* one R2T outstanding per command */
	};
	struct queue_opts qo = {
		.qid = qid,
		.size = size,
		.max_incapsule = max_incapsule,
		.io_timeout_ms = c->opts.io_timeout_ms,
		/* Only I/O queues spin: the admin queue's waits are long. */
		.busy_poll_ns = !qid ? 0 :
				c->opts.busy_poll_us < 0 ? NVMEOF_BUSY_POLL_US * 1000u :
				(uint32_t)MIN(c->opts.busy_poll_us, 1000000) * 1000u,
	};
	struct tcp_conn *conn;
	struct queue *q;
	uint16_t cntlid = 0;
	int rc;

	rc = tcp_connect(&tp, &conn);
	if (rc < 0)
		return rc;
	rc = queue_create(conn, &qo, &q);
	if (rc < 0) {
		tcp_close(conn);
		return rc;
	}
	rc = fabrics_connect(q, c->subnqn, c->hostnqn, c->hostid,
			     qid ? c->cntlid : NVMF_CNTLID_DYNAMIC,
			     (uint32_t)c->kato_ms,
			     c->opts.disable_sqflow ? NVMF_CATTR_DISABLE_SQFLOW : 0,
			     c->opts.connect_timeout_ms, &cntlid);
	if (rc < 0) {
		queue_destroy(q);
		return rc;
	}
	if (!qid) /* a reconnect's new one: nvmeof_ctrl_cntlid() reads it */
		__atomic_store_n(&c->cntlid, cntlid, __ATOMIC_RELAXED);
	*out = q;
	return 0;
}

/* NVMe Base 2.0 §3.5.1: set CC.EN and wait for CSTS.RDY within CAP.TO. */
static int enable_ctrl(struct nvmeof_ctrl *c, struct queue *q)
{
	int tmo = c->opts.connect_timeout_ms, rc;
	uint64_t csts = 0, deadline;
	uint32_t cc, wait_ms = 1;

	rc = fabrics_prop_get(q, NVME_REG_CAP, true, &c->cap, tmo);
	if (rc < 0)
		return nvmeof_err(-rc, "Property Get CAP: %s", nvmeof_get_error());
	rc = fabrics_prop_get(q, NVME_REG_VS, false, &csts, tmo);
	if (rc < 0)
		return nvmeof_err(-rc, "Property Get VS: %s", nvmeof_get_error());
	c->vs = (uint32_t)csts;
	cc = NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4);
	rc = fabrics_prop_set(q, NVME_REG_CC, false, cc, tmo);
	if (rc < 0)
		return nvmeof_err(-rc, "Property Set CC.EN: %s", nvmeof_get_error());
	deadline = now_ns() +
		   (uint64_t)MAX(NVME_CAP_TO(c->cap), 1u) * 500000000ull;
	for (;;) {
		rc = fabrics_prop_get(q, NVME_REG_CSTS, false, &csts, tmo);
		if (rc < 0)
			return nvmeof_err(-rc, "Property Get CSTS: %s",
					  nvmeof_get_error());
		if (csts & NVME_CSTS_CFS)
			return nvmeof_err(EIO, "%s: controller fatal status (CSTS.CFS) while enabling",
					  q->conn->peer);
		if (csts & NVME_CSTS_RDY)
			return 0;
		if (now_ns() > deadline)
			return nvmeof_err(ETIMEDOUT,
					  "%s: controller not ready (CSTS.RDY) within CAP.TO = %u ms",
					  q->conn->peer, NVME_CAP_TO(c->cap) * 500);
		sleep_ms(wait_ms);
		wait_ms = MIN(wait_ms * 2, 100u);
	}
}

/* Admin commands of the bring-up, on a given (maybe not yet adopted) queue. */
static int q_admin(struct nvmeof_ctrl *c, struct queue *q, struct nvme_sqe *sqe,
		   void *buf, uint32_t len, uint32_t *dw0)
{
	return queue_sync_cmd(q, sqe, buf, len, len ? REQ_TO_HOST : REQ_NONE,
			      dw0, NULL, c->opts.connect_timeout_ms);
}

static int identify_ctrl(struct nvmeof_ctrl *c, struct queue *q,
			 struct nvme_id_ctrl *id)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_IDENTIFY };
	int rc;

	sqe.cdw10 = htole32(NVME_CNS_CTRL);
	rc = q_admin(c, q, &sqe, id, sizeof *id, NULL);
	if (rc < 0)
		return nvmeof_err(-rc, "Identify Controller: %s", nvmeof_get_error());
	return 0;
}

static int set_features_q(struct nvmeof_ctrl *c, struct queue *q, uint8_t fid,
			  uint32_t cdw11, uint32_t *dw0)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_SET_FEATURES };

	sqe.cdw10 = htole32(fid);
	sqe.cdw11 = htole32(cdw11);
	return q_admin(c, q, &sqe, NULL, 0, dw0);
}

static int set_nr_queues(struct nvmeof_ctrl *c, struct queue *q, int want,
			 int *granted)
{
	uint32_t v = (uint32_t)(want - 1), dw0 = 0;
	int rc;

	rc = set_features_q(c, q, NVME_FEAT_NUM_QUEUES, v | v << 16, &dw0);
	if (rc < 0)
		return nvmeof_err(-rc, "Set Features Number of Queues: %s",
				  nvmeof_get_error());
	*granted = (int)MIN(dw0 & 0xffff, dw0 >> 16) + 1;
	return 0;
}

/* NVMe Base 2.0 §5.27.1.7: enable the notices we handle, of those the
 * controller reports in OAES.  A persistent discovery controller (one with
 * a keep-alive timeout) reports Discovery Log Page Change (bit 31, NVMe-oF
 * 1.1 §5.3); a one-shot one gets no Async Event Request at all. */
static void set_async_events(struct nvmeof_ctrl *c, struct queue *q)
{
	uint32_t oaes = le32toh(c->id_ctrl.oaes);
	uint32_t aec = !c->discovery ? oaes & NVME_OAES_NS_ATTR :
		       c->persistent ? oaes & NVME_OAES_DISC_CHANGE : 0;

	if (aec)
		(void)set_features_q(c, q, NVME_FEAT_ASYNC_EVENT, aec, NULL);
}

/* ---- async events ------------------------------------------------------ */

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
	} else if (lid) {
		/* Read the log the event names, so the next event can come. */
		uint8_t buf[512];

		(void)nvmeof_get_log_page(c, lid, 0xffffffff, 0, 0, buf,
					  sizeof buf);
	}
	if (c->event_cb)
		c->event_cb(c->event_arg, dw0, nsids, nr);
}

/* ---- state, reconnect ------------------------------------------------ */

static const char *state_name(int st)
{
	switch (st) {
	case CTRL_LIVE: return "live";
	case CTRL_RECONNECTING: return "reconnecting";
	default: return "failed";
	}
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_state(struct nvmeof_ctrl *c, int st, const char *why)
{
	nvmeof_state_cb cb;

	pthread_mutex_lock(&c->ev_lock);
	c->state = st;
	c->since_ms = wall_ms();
	cb = c->state_cb;
	pthread_mutex_unlock(&c->ev_lock);
	if (cb)
		cb(c->state_arg, state_name(st), why);
}

static void wake_admin_thread(struct nvmeof_ctrl *c)
{
	uint64_t one = 1;

	(void)!write(c->admin->wake_fd, &one, sizeof one);
}

/* A queue went down (its lock held: take no queue lock here). */
static void ctrl_on_down(void *owner, struct queue *q)
{
	struct nvmeof_ctrl *c = owner;

	pthread_mutex_lock(&c->ev_lock);
	if (!c->need_reconnect) {
		c->need_reconnect = true;
		c->down_ns = now_ns();
		snprintf(c->last_error, sizeof c->last_error, "%s", q->dead_msg);
	}
	pthread_mutex_unlock(&c->ev_lock);
	wake_admin_thread(c);
}

/* A command passed the I/O timeout: the admin thread sends Abort. */
static void ctrl_on_timeout(void *owner, struct queue *q, uint16_t cid)
{
	struct nvmeof_ctrl *c = owner;

	pthread_mutex_lock(&c->ev_lock);
	if (c->nr_aborts < ARRAY_SIZE(c->aborts))
		c->aborts[c->nr_aborts++] = (uint32_t)q->qid << 16 | cid;
	pthread_mutex_unlock(&c->ev_lock);
	wake_admin_thread(c);
}

static void for_each_queue(struct nvmeof_ctrl *c,
			   void (*fn)(struct queue *q, void *arg), void *arg)
{
	int i;

	for (i = -1; i < c->nr_io; i++) {
		struct queue *q = i < 0 ? c->admin : c->io[i];

		pthread_mutex_lock(&q->lock);
		fn(q, arg);
		pthread_mutex_unlock(&q->lock);
	}
}

static void take_down(struct queue *q, void *why)
{
	queue_set_down(q, ECONNRESET, why);
}

static void fail_forever(struct queue *q, void *why)
{
	queue_fail_parked(q, EIO, true, why);
}

static void fail_fast(struct queue *q, void *why)
{
	if (q->qid) /* I/O only: the admin queue keeps its commands */
		queue_fail_parked(q, EIO, false, why);
}

/* c->stopping is set once by the thread that stops the admin thread and
 * read by every thread that waits: atomic, not volatile. */
static bool is_stopping(struct nvmeof_ctrl *c)
{
	return __atomic_load_n(&c->stopping, __ATOMIC_ACQUIRE);
}

/* Publish c->id_ctrl for nvmeof_ctrl_identify() when it differs from what
 * was published (a new copy: a caller may be reading the old one). */
static int publish_id_ctrl(struct nvmeof_ctrl *c)
{
	struct id_copy *cur = __atomic_load_n(&c->id_pub, __ATOMIC_ACQUIRE), *n;

	if (cur && !memcmp(&cur->id, &c->id_ctrl, sizeof cur->id))
		return 0;
	n = malloc(sizeof *n);
	if (!n)
		return nvmeof_err(ENOMEM, "out of memory");
	memcpy(&n->id, &c->id_ctrl, sizeof n->id);
	n->older = cur;
	__atomic_store_n(&c->id_pub, n, __ATOMIC_RELEASE);
	return 0;
}

/* One attempt: a whole new association on temporary queues; only when all
 * of it stands do the queues adopt the new connections and resend. */
static int try_reconnect(struct nvmeof_ctrl *c)
{
	struct queue *qa = NULL, **qi;
	struct nvme_id_ctrl *id;
	int rc, i, granted = 0;

	qi = calloc((size_t)c->nr_io + 1, sizeof *qi);
	id = malloc(sizeof *id);
	if (!qi || !id) {
		free(qi);
		free(id);
		return nvmeof_err(ENOMEM, "out of memory");
	}
	rc = connect_queue(c, 0, ADMIN_QUEUE_SIZE, ADMIN_INCAPSULE, &qa);
	if (rc < 0)
		goto out;
	rc = enable_ctrl(c, qa);
	if (rc < 0)
		goto out;
	rc = identify_ctrl(c, qa, id);
	if (rc < 0)
		goto out;
	if (c->nr_io) {
		rc = set_nr_queues(c, qa, c->nr_io, &granted);
		if (rc < 0)
			goto out;
		if (granted < c->nr_io) {
			rc = nvmeof_err(EIO, "the controller now grants %d I/O queues, %d are in use",
					granted, c->nr_io);
			goto out;
		}
	}
	for (i = 0; i < c->nr_io; i++) {
		rc = connect_queue(c, (uint16_t)(i + 1), (uint16_t)c->qsize,
				   c->io_incapsule, &qi[i]);
		if (rc < 0) {
			rc = nvmeof_err(-rc, "I/O queue %d: %s", i + 1,
					nvmeof_get_error());
			goto out;
		}
	}
	pthread_mutex_lock(&c->ns_lock);
	memcpy(&c->id_ctrl, id, sizeof *id);
	pthread_mutex_unlock(&c->ns_lock);
	(void)publish_id_ctrl(c); /* no memory: the old data stays published */
	ctrl_ns_forget(c, 0); /* formats may have changed */
	for (i = -1; i < c->nr_io; i++) {
		struct queue *q = i < 0 ? c->admin : c->io[i];
		struct queue *t = i < 0 ? qa : qi[i];

		pthread_mutex_lock(&q->lock);
		queue_adopt(q, t->conn);
		pthread_mutex_unlock(&q->lock);
		t->conn = NULL;
	}
	c->ka_sent_ns = now_ns();
	set_async_events(c, c->admin);
	rc = 0;
out:
	for (i = 0; i < c->nr_io; i++)
		queue_destroy(qi[i]);
	queue_destroy(qa);
	free(qi);
	free(id);
	return rc;
}

/* ---- ending the association on the user's word ------------------------ */

static void end_queue(struct queue *q, void *why)
{
	queue_cancel(q, EIO, why);
	queue_drain(q);
}

static bool fail_asked(struct nvmeof_ctrl *c)
{
	bool f;

	pthread_mutex_lock(&c->ev_lock);
	f = c->fail_req && !c->fail_done;
	pthread_mutex_unlock(&c->ev_lock);
	return f;
}

/* As when ctrl_loss_tmo runs out, but now: every queue ends, what was
 * pending fails with EIO (callbacks run here), no reconnect follows.
 * Runs on the admin thread, or in the caller when there is none. */
static void do_fail(struct nvmeof_ctrl *c)
{
	char why[256];

	pthread_mutex_lock(&c->ev_lock);
	copy_str(why, sizeof why, c->fail_why);
	pthread_mutex_unlock(&c->ev_lock);
	for_each_queue(c, end_queue, why);
	pthread_mutex_lock(&c->ev_lock);
	c->need_reconnect = false;
	copy_str(c->last_error, sizeof c->last_error, why);
	pthread_mutex_unlock(&c->ev_lock);
	set_state(c, CTRL_FAILED, why);
	pthread_mutex_lock(&c->ev_lock);
	c->fail_done = true;
	pthread_cond_broadcast(&c->fail_cond);
	pthread_mutex_unlock(&c->ev_lock);
}

/* Wait up to ms for a wake-up (link came back, disconnect). */
static void admin_sleep(struct nvmeof_ctrl *c, int ms)
{
	struct pollfd p = { .fd = c->admin->wake_fd, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, ms) > 0)
		(void)!read(c->admin->wake_fd, &v, sizeof v);
}

static void reconnect(struct nvmeof_ctrl *c)
{
	char why[256], msg[600];
	bool fast_failed = false;
	uint64_t down_ns;
	int64_t delay_ms = (int64_t)MAX(c->opts.reconnect_delay, 0) * 1000;
	int64_t loss_ms = c->opts.ctrl_loss_tmo < 0 ? -1 :
			  (int64_t)c->opts.ctrl_loss_tmo * 1000;
	int64_t fast_ms = c->opts.fast_io_fail_tmo < 0 ? -1 :
			  (int64_t)c->opts.fast_io_fail_tmo * 1000;

	pthread_mutex_lock(&c->ev_lock);
	snprintf(why, sizeof why, "%s", c->last_error);
	down_ns = c->down_ns;
	c->attempts = 0;
	pthread_mutex_unlock(&c->ev_lock);
	/* Every queue belongs to the association that failed. */
	for_each_queue(c, take_down, why);
	if (loss_ms == 0) {
		/* ctrl_loss_tmo 0: the association ends here, all of it, and
		 * what was pending fails with EIO (libnvmeof(3)). */
		snprintf(msg, sizeof msg, "not reconnecting (ctrl-loss-tmo 0): %s",
			 why);
		for_each_queue(c, fail_forever, msg);
		pthread_mutex_lock(&c->ev_lock);
		c->need_reconnect = false;
		pthread_mutex_unlock(&c->ev_lock);
		set_state(c, CTRL_FAILED, msg);
		return;
	}
	snprintf(msg, sizeof msg, "association lost (%s); reconnecting", why);
	set_state(c, CTRL_RECONNECTING, msg);

	while (!is_stopping(c) && !fail_asked(c)) {
		int64_t el = (int64_t)((now_ns() - down_ns) / 1000000ull), wait;
		int rc;

		if (loss_ms >= 0 && el >= loss_ms) {
			snprintf(msg, sizeof msg,
				 "gave up after ctrl-loss-tmo %d s and %u attempts: %s",
				 c->opts.ctrl_loss_tmo, c->attempts, why);
			for_each_queue(c, fail_forever, msg);
			pthread_mutex_lock(&c->ev_lock);
			c->need_reconnect = false;
			pthread_mutex_unlock(&c->ev_lock);
			set_state(c, CTRL_FAILED, msg);
			return;
		}
		if (fast_ms >= 0 && !fast_failed && el >= fast_ms) {
			snprintf(msg, sizeof msg,
				 "I/O failed after fast-io-fail-tmo %d s: %s",
				 c->opts.fast_io_fail_tmo, why);
			for_each_queue(c, fail_fast, msg);
			fast_failed = true;
		}
		pthread_mutex_lock(&c->ev_lock); /* nvmeof_ctrl_status() reads */
		c->attempts++;
		pthread_mutex_unlock(&c->ev_lock);
		rc = try_reconnect(c);
		if (rc == 0) {
			pthread_mutex_lock(&c->ev_lock);
			c->reconnects++;
			c->need_reconnect = false;
			pthread_mutex_unlock(&c->ev_lock);
			snprintf(msg, sizeof msg,
				 "reconnected after %u attempt%s and %.1f s (cntlid %u)",
				 c->attempts, c->attempts == 1 ? "" : "s",
				 (double)(now_ns() - down_ns) / 1e9, c->cntlid);
			set_state(c, CTRL_LIVE, msg);
			return;
		}
		{
			char tmp[1024];

			snprintf(tmp, sizeof tmp, "%s (attempt %u: %s)", why,
				 c->attempts, nvmeof_get_error());
			pthread_mutex_lock(&c->ev_lock);
			copy_str(c->last_error, sizeof c->last_error, tmp);
			pthread_mutex_unlock(&c->ev_lock);
		}
		/* Next attempt after the delay, or sooner for a deadline. */
		el = (int64_t)((now_ns() - down_ns) / 1000000ull);
		wait = delay_ms;
		if (loss_ms >= 0 && loss_ms - el < wait)
			wait = MAX(loss_ms - el, 0);
		if (fast_ms >= 0 && !fast_failed && fast_ms - el < wait)
			wait = MAX(fast_ms - el, 0);
		admin_sleep(c, (int)MIN(wait, 3600000));
	}
}

/* ---- keep-alive, aborts, events: the admin thread ------------------------ */

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
		if (q_admin(c, c->admin, &sqe, NULL, 0, &dw0) < 0 ||
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
	while (!is_stopping(c) && (!c->discovery || c->persistent) &&
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
	     (c->fail_req && !c->fail_done);
	pthread_mutex_unlock(&c->ev_lock);
	return is_stopping(c) || ev;
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
	while (!is_stopping(c)) {
		uint64_t now = now_ns();
		int tmo = next == UINT64_MAX ? 1000 :
			  next <= now ? 0 : (int)((next - now) / 1000000ull) + 1;
		uint32_t evs[ARRAY_SIZE(c->events)];
		unsigned nev, i;
		bool need, failed;

		if (fail_asked(c)) {
			do_fail(c);
			continue;
		}
		pthread_mutex_lock(&c->ev_lock);
		need = c->need_reconnect;
		failed = c->state == CTRL_FAILED;
		pthread_mutex_unlock(&c->ev_lock);
		if (need) {
			reconnect(c);
			next = period == UINT64_MAX ? UINT64_MAX : now_ns() + period;
			continue;
		}
		if (!failed) {
			pthread_mutex_lock(&c->admin->lock);
			failed = c->admin->dead != 0;
			pthread_mutex_unlock(&c->admin->lock);
		}
		if (failed) {
			admin_sleep(c, 1000);
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
		if (is_stopping(c))
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

static int start_admin_thread(struct nvmeof_ctrl *c)
{
	int rc = pthread_create(&c->ka_thread, NULL, admin_thread, c);

	if (rc)
		return nvmeof_err(rc, "cannot start the admin thread: %s",
				  strerror(rc));
	c->ka_running = true;
	return 0;
}

static void stop_admin_thread(struct nvmeof_ctrl *c)
{
	if (!c->ka_running)
		return;
	__atomic_store_n(&c->stopping, true, __ATOMIC_RELEASE);
	wake_admin_thread(c);
	pthread_mutex_lock(&c->admin->lock);
	pthread_cond_broadcast(&c->admin->cond);
	pthread_mutex_unlock(&c->admin->lock);
	pthread_join(c->ka_thread, NULL);
	c->ka_running = false;
}

/* ---- the link under the association (libnl-route) --------------------- */

/* The interface whose address the connection leaves from. */
static int iface_of_socket(int fd, char *name, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct ifaddrs *ifa, *i;
	int rc = -ENODEV;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != ss.ss_family)
			continue;
		if (ss.ss_family == AF_INET &&
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
			    ((struct sockaddr_in *)&ss)->sin_addr.s_addr)
			break;
		if (ss.ss_family == AF_INET6 &&
		    !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, 16))
			break;
	}
	if (i) {
		copy_str(name, len, i->ifa_name);
		rc = 0;
	}
	freeifaddrs(ifa);
	return rc;
}

static void link_changed(void *arg, bool up)
{
	struct nvmeof_ctrl *c = arg;
	char why[128];

	if (up) {
		/* Try again now rather than at the next tick. */
		wake_admin_thread(c);
		return;
	}
	snprintf(why, sizeof why, "link %s went down", c->link_ifname);
	for_each_queue(c, take_down, why);
}

static void *link_thread(void *arg)
{
	struct nvmeof_ctrl *c = arg;
	struct pollfd p[2] = {
		{ .fd = nl_watch_fd(c->link_watch), .events = POLLIN },
		{ .fd = c->link_stop_fd, .events = POLLIN },
	};

	while (!is_stopping(c)) {
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents)
			(void)nl_watch_process(c->link_watch);
	}
	return NULL;
}

/* Watch the link of the association: down fails it at once, up brings the
 * next reconnect attempt forward.  Best effort: without netlink, the
 * association still recovers on keep-alive and TCP errors. */
static void start_link_watch(struct nvmeof_ctrl *c)
{
	if (c->host_iface[0])
		copy_str(c->link_ifname, sizeof c->link_ifname, c->host_iface);
	else if (iface_of_socket(c->admin->conn->fd, c->link_ifname,
				 sizeof c->link_ifname) < 0)
		return;
	c->link_watch = nl_watch_open(c->link_ifname, link_changed, c);
	if (!c->link_watch) {
		nvmeof_err_clear();
		return;
	}
	c->link_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->link_stop_fd < 0 ||
	    pthread_create(&c->link_tid, NULL, link_thread, c)) {
		if (c->link_stop_fd >= 0)
			close(c->link_stop_fd);
		nl_watch_close(c->link_watch);
		c->link_watch = NULL;
		return;
	}
	c->link_running = true;
}

static void stop_link_watch(struct nvmeof_ctrl *c)
{
	uint64_t one = 1;

	if (!c->link_running)
		return;
	(void)!write(c->link_stop_fd, &one, sizeof one);
	pthread_join(c->link_tid, NULL);
	close(c->link_stop_fd);
	nl_watch_close(c->link_watch);
	c->link_watch = NULL;
	c->link_running = false;
}

/* ---- connect / disconnect ---------------------------------------------- */

static int setup_identity(struct nvmeof_ctrl *c, const struct nvmeof_opts *o)
{
	char buf[NVMF_NQN_SIZE];
	int rc;

	if (o->hostnqn && *o->hostnqn) {
		rc = nvmeof_nqn_validate(o->hostnqn);
		if (rc < 0)
			return nvmeof_err(EINVAL, "host NQN: %s", nvmeof_get_error());
		copy_str(c->hostnqn, sizeof c->hostnqn, o->hostnqn);
	} else {
		rc = nvmeof_default_hostnqn(buf, sizeof buf);
		if (rc < 0)
			return rc;
		copy_str(c->hostnqn, sizeof c->hostnqn, buf);
	}
	if (o->hostid && *o->hostid) {
		copy_str(c->hostid_str, sizeof c->hostid_str, o->hostid);
	} else {
		rc = nvmeof_default_hostid(c->hostid_str, sizeof c->hostid_str);
		if (rc < 0)
			return rc;
	}
	if (uuid_parse(c->hostid_str, c->hostid) < 0)
		return nvmeof_err(EINVAL, "host ID '%s' is not a UUID",
				  c->hostid_str);
	return 0;
}

int nvmeof_connect(const struct nvmeof_opts *o, struct nvmeof_ctrl **ctrlp)
{
	struct nvmeof_ctrl *c;
	int rc, i, want, granted = 0;
	uint32_t mps;

	nvmeof_err_clear();
	if (!o || !o->traddr || !*o->traddr)
		return nvmeof_err(EINVAL, "no target address given");
	if (o->subnqn && *o->subnqn && nvmeof_nqn_validate(o->subnqn) < 0)
		return nvmeof_err(EINVAL, "subsystem NQN: %s", nvmeof_get_error());
	if (o->queue_size && (o->queue_size < 2 || o->queue_size > 1024))
		return nvmeof_err(EINVAL, "queue size %d is outside 2..1024",
				  o->queue_size);
	if (o->nr_io_queues < 0 || o->nr_io_queues > 128)
		return nvmeof_err(EINVAL, "number of I/O queues %d is outside 0..128",
				  o->nr_io_queues);

	c = calloc(1, sizeof *c);
	if (!c)
		return nvmeof_err(ENOMEM, "out of memory");
	c->id = __atomic_fetch_add(&next_ctrl_id, 1, __ATOMIC_RELAXED);
	live_add(c->id);
	c->opts = *o;
	pthread_mutex_init(&c->ns_lock, NULL);
	pthread_mutex_init(&c->ev_lock, NULL);
	pthread_cond_init(&c->fail_cond, NULL);
	copy_str(c->traddr, sizeof c->traddr, o->traddr);
	copy_str(c->trsvcid, sizeof c->trsvcid,
		 o->trsvcid && *o->trsvcid ? o->trsvcid : "4420");
	copy_str(c->subnqn, sizeof c->subnqn,
		 o->subnqn && *o->subnqn ? o->subnqn : NVMF_DISCOVERY_NQN);
	copy_str(c->host_iface, sizeof c->host_iface, o->host_iface);
	copy_str(c->host_traddr, sizeof c->host_traddr, o->host_traddr);
	c->opts.traddr = c->traddr;
	c->opts.trsvcid = c->trsvcid;
	c->opts.subnqn = c->subnqn;
	c->opts.hostnqn = c->hostnqn;
	c->opts.hostid = c->hostid_str;
	c->opts.host_iface = c->host_iface;
	c->opts.host_traddr = c->host_traddr;
	if (c->opts.connect_timeout_ms <= 0)
		c->opts.connect_timeout_ms = 10000;
	c->discovery = strcmp(c->subnqn, NVMF_DISCOVERY_NQN) == 0;
	c->kato_ms = o->kato_ms >= 0 ? o->kato_ms : c->discovery ? 0 : 5000;
	/* Like nvme discover --persistent: a discovery controller with a
	 * keep-alive timeout stays, reconnects and reports log changes. */
	c->persistent = c->discovery && c->kato_ms > 0;
	c->qsize = o->queue_size ? o->queue_size : 128;

	rc = setup_identity(c, o);
	if (rc < 0)
		goto fail;
	rc = connect_queue(c, 0, ADMIN_QUEUE_SIZE, ADMIN_INCAPSULE, &c->admin);
	if (rc < 0)
		goto fail;
	rc = enable_ctrl(c, c->admin);
	if (rc < 0)
		goto fail;
	rc = identify_ctrl(c, c->admin, &c->id_ctrl);
	if (rc < 0)
		goto fail;
	rc = publish_id_ctrl(c);
	if (rc < 0)
		goto fail;
	mps = 12 + (uint32_t)((c->cap >> 48) & 0xf); /* CAP.MPSMIN */
	if (c->id_ctrl.mdts && mps + c->id_ctrl.mdts < 32)
		c->mdts_bytes = 1u << (mps + c->id_ctrl.mdts);
	else
		c->mdts_bytes = 0;
	/* IOCCSZ counts 16-byte units of the whole capsule (SQE included). */
	{
		uint32_t ioccsz = le32toh(c->id_ctrl.ioccsz);

		c->io_incapsule = ioccsz > 4 && ioccsz < (1u << 24) ?
				  ioccsz * 16 - 64 : 0;
	}

	want = c->discovery ? 0 : o->nr_io_queues;
	if (want > 0) {
		rc = set_nr_queues(c, c->admin, want, &granted);
		if (rc < 0)
			goto fail;
		c->nr_io = MIN(want, granted);
	}
	if (c->nr_io) {
		uint32_t mqes = NVME_CAP_MQES(c->cap) + 1;

		if ((uint32_t)c->qsize > mqes)
			c->qsize = (int)mqes;
		c->io = calloc((size_t)c->nr_io, sizeof *c->io);
		if (!c->io) {
			rc = nvmeof_err(ENOMEM, "out of memory");
			goto fail;
		}
		for (i = 0; i < c->nr_io; i++) {
			rc = connect_queue(c, (uint16_t)(i + 1),
					   (uint16_t)c->qsize, c->io_incapsule,
					   &c->io[i]);
			if (rc < 0) {
				rc = nvmeof_err(-rc, "I/O queue %d: %s", i + 1,
						nvmeof_get_error());
				goto fail;
			}
		}
	}
	set_async_events(c, c->admin);
	if (c->kato_ms > 0 || !c->discovery) {
		rc = start_admin_thread(c);
		if (rc < 0)
			goto fail;
		/* From now on a failure is the association's, not one
		 * queue's: the queues park their commands and the admin
		 * thread reconnects (or, with ctrl_loss_tmo 0, ends every
		 * queue and fails what was pending with EIO). */
		if (!c->discovery || c->persistent) {
			for (i = -1; i < c->nr_io; i++) {
				struct queue *q = i < 0 ? c->admin : c->io[i];

				pthread_mutex_lock(&q->lock);
				q->owner = c;
				q->on_down = ctrl_on_down;
				q->on_timeout = ctrl_on_timeout;
				pthread_mutex_unlock(&q->lock);
			}
			start_link_watch(c);
		}
	}
	/* The admin thread runs already and reads them under ev_lock. */
	pthread_mutex_lock(&c->ev_lock);
	c->state = CTRL_LIVE;
	c->since_ms = wall_ms();
	pthread_mutex_unlock(&c->ev_lock);
	*ctrlp = c;
	return 0;
fail:
	{
		int e = nvmeof_get_errno();
		uint16_t st = nvmeof_last_status();
		char msg[512];

		copy_str(msg, sizeof msg, nvmeof_get_error());
		c->shutdown_done = true; /* no shutdown on a half-made association */
		nvmeof_disconnect(c);
		rc = nvmeof_err(e ? e : -rc, "%s", msg);
		nvmeof_set_status(st); /* the caller may look at the NVMe status */
		return rc;
	}
}

static int shutdown_ctrl(struct nvmeof_ctrl *c)
{
	uint64_t csts = 0, deadline;
	uint32_t wait_ms = 1, rtd3e = le32toh(c->id_ctrl.rtd3e);
	uint64_t limit_ms = MAX(5000u, rtd3e / 1000);
	int tmo = MIN(c->opts.connect_timeout_ms, 5000), rc;
	uint32_t cc = NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_IOSQES(6) |
		      NVME_CC_IOCQES(4) | NVME_CC_SHN_NORMAL;

	if (limit_ms > 60000)
		limit_ms = 60000;
	rc = fabrics_prop_set(c->admin, NVME_REG_CC, false, cc, tmo);
	if (rc < 0)
		return rc;
	deadline = now_ns() + limit_ms * 1000000ull;
	for (;;) {
		rc = fabrics_prop_get(c->admin, NVME_REG_CSTS, false, &csts, tmo);
		if (rc < 0)
			return rc;
		if ((csts & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_CMPLT)
			return 0;
		if (now_ns() > deadline)
			return nvmeof_err(ETIMEDOUT,
					  "controller did not report shutdown complete within %llu ms",
					  (unsigned long long)limit_ms);
		sleep_ms(wait_ms);
		wait_ms = MIN(wait_ms * 2, 100u);
	}
}

static void cancel_queue(struct queue *q, void *why)
{
	queue_cancel(q, ECANCELED, why);
	queue_drain(q);
}

int nvmeof_disconnect(struct nvmeof_ctrl *c)
{
	int rc = 0, i;

	if (!c)
		return 0;
	stop_link_watch(c);
	stop_admin_thread(c);
	/* I/O queues first: what is still pending ends with ECANCELED (its
	 * callbacks run) and no thread is left inside before they go. */
	for (i = 0; c->io && i < c->nr_io; i++) {
		if (!c->io[i])
			continue;
		pthread_mutex_lock(&c->io[i]->lock);
		cancel_queue(c->io[i], "the association was disconnected");
		pthread_mutex_unlock(&c->io[i]->lock);
	}
	if (c->admin && !c->admin->dead && !c->admin->down && !c->shutdown_done) {
		pthread_mutex_lock(&c->admin->lock);
		c->admin->on_down = NULL; /* a failed shutdown is not reconnected */
		pthread_mutex_unlock(&c->admin->lock);
		rc = shutdown_ctrl(c);
	}
	if (c->admin) {
		pthread_mutex_lock(&c->admin->lock);
		cancel_queue(c->admin, "the association was disconnected");
		pthread_mutex_unlock(&c->admin->lock);
	}
	for (i = 0; c->io && i < c->nr_io; i++)
		queue_destroy(c->io[i]);
	queue_destroy(c->admin);
	free(c->io);
	free(c->ns);
	while (c->id_pub) {
		struct id_copy *o = c->id_pub->older;

		free(c->id_pub);
		c->id_pub = o;
	}
	pthread_mutex_destroy(&c->ns_lock);
	pthread_mutex_destroy(&c->ev_lock);
	pthread_cond_destroy(&c->fail_cond);
	live_del(c->id);
	free(c);
	return rc;
}

/* ---- binding threads to I/O queues -------------------------------------- */

#define TLS_BINDINGS 8
static __thread struct {
	uint64_t id;
	struct queue *q;
} tls_bind[TLS_BINDINGS];
static __thread unsigned tls_next;

/* The handles not yet disconnected: a thread's full table gives up the
 * binding of one of those gone first (subsystems that come and go would
 * otherwise fill it with dead ones and evict a live binding, whose
 * commands in flight the thread would then no longer poll).  Looked at
 * only when a binding is made. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *live_ids;
static size_t nr_live, live_cap;

static void live_add(uint64_t id)
{
	pthread_mutex_lock(&live_lock);
	if (nr_live == live_cap) {
		size_t cap = live_cap ? live_cap * 2 : 16;
		uint64_t *t = realloc(live_ids, cap * sizeof *t);

		if (t) {
			live_ids = t;
			live_cap = cap;
		}
	}
	if (nr_live < live_cap)
		live_ids[nr_live++] = id;
	pthread_mutex_unlock(&live_lock);
}

static void live_del(uint64_t id)
{
	size_t i;

	pthread_mutex_lock(&live_lock);
	for (i = 0; i < nr_live; i++)
		if (live_ids[i] == id) {
			live_ids[i] = live_ids[--nr_live];
			break;
		}
	if (!nr_live) {
		free(live_ids);
		live_ids = NULL;
		live_cap = 0;
	}
	pthread_mutex_unlock(&live_lock);
}

/* A full table's slot to reuse: one of a disconnected handle, else in turn. */
static unsigned evict_slot(void)
{
	unsigned slot;
	size_t i;

	pthread_mutex_lock(&live_lock);
	for (slot = 0; slot < TLS_BINDINGS; slot++) {
		for (i = 0; i < nr_live && live_ids[i] != tls_bind[slot].id; i++)
			;
		if (i == nr_live)
			break;
	}
	pthread_mutex_unlock(&live_lock);
	return slot < TLS_BINDINGS ? slot : tls_next++ % TLS_BINDINGS;
}

struct queue *ctrl_thread_queue(struct nvmeof_ctrl *c)
{
	unsigned slot, idx;
	struct queue *q;

	/* A small associative table: a thread may use several controllers
	 * (a mount of several subsystems) without them evicting each other. */
	for (slot = 0; slot < TLS_BINDINGS; slot++)
		if (tls_bind[slot].id == c->id)
			return tls_bind[slot].q;
	if (!c->nr_io) {
		nvmeof_err(ENOTSUP, "%s has no I/O queues",
			   c->discovery ? "a discovery controller" :
					  "this association");
		return NULL;
	}
	idx = __atomic_fetch_add(&c->next_bind, 1, __ATOMIC_RELAXED) %
	      (unsigned)c->nr_io;
	q = c->io[idx];
	__atomic_fetch_add(&q->users, 1, __ATOMIC_RELAXED);
	for (slot = 0; slot < TLS_BINDINGS && tls_bind[slot].id; slot++)
		;
	if (slot == TLS_BINDINGS)
		slot = evict_slot();
	tls_bind[slot].id = c->id;
	tls_bind[slot].q = q;
	return q;
}

/* ---- namespace cache ---------------------------------------------------- */

void ctrl_ns_forget(struct nvmeof_ctrl *c, uint32_t nsid)
{
	size_t i;

	pthread_mutex_lock(&c->ns_lock);
	for (i = 0; i < c->nr_ns;) {
		if (!nsid || c->ns[i].nsid == nsid)
			c->ns[i] = c->ns[--c->nr_ns];
		else
			i++;
	}
	pthread_mutex_unlock(&c->ns_lock);
}

static void ns_remember(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t shift)
{
	size_t i;

	pthread_mutex_lock(&c->ns_lock);
	for (i = 0; i < c->nr_ns; i++)
		if (c->ns[i].nsid == nsid)
			break;
	if (i == c->nr_ns) {
		if (c->nr_ns == c->ns_cap) {
			size_t cap = c->ns_cap ? c->ns_cap * 2 : 8;
			struct ns_cache *n = realloc(c->ns, cap * sizeof *n);

			if (!n) {
				pthread_mutex_unlock(&c->ns_lock);
				return;
			}
			c->ns = n;
			c->ns_cap = cap;
		}
		c->nr_ns++;
	}
	c->ns[i].nsid = nsid;
	c->ns[i].lba_shift = shift;
	pthread_mutex_unlock(&c->ns_lock);
}

int ctrl_lba_shift(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t *shift)
{
	struct nvmeof_ns_info info;
	size_t i;
	int rc;

	pthread_mutex_lock(&c->ns_lock);
	for (i = 0; i < c->nr_ns; i++) {
		if (c->ns[i].nsid == nsid) {
			*shift = c->ns[i].lba_shift;
			pthread_mutex_unlock(&c->ns_lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&c->ns_lock);
	rc = nvmeof_ns_info(c, nsid, &info); /* remembers the shift */
	if (rc < 0)
		return rc;
	*shift = (uint32_t)__builtin_ctz(info.lba_size);
	return 0;
}

void ctrl_ns_set(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t shift)
{
	ns_remember(c, nsid, shift);
}

uint32_t ctrl_max_cmd_bytes(struct nvmeof_ctrl *c, uint32_t shift)
{
	uint64_t m = MAX_CMD_BYTES;

	if (c->mdts_bytes && c->mdts_bytes < m)
		m = c->mdts_bytes;
	if (((uint64_t)65536 << shift) < m) /* NLB is 16 bits */
		m = (uint64_t)65536 << shift;
	return (uint32_t)m;
}

/* ---- accessors ---------------------------------------------------------- */

const void *nvmeof_ctrl_identify(struct nvmeof_ctrl *c)
{
	return &__atomic_load_n(&c->id_pub, __ATOMIC_ACQUIRE)->id;
}
uint16_t nvmeof_ctrl_cntlid(struct nvmeof_ctrl *c)
{
	return __atomic_load_n(&c->cntlid, __ATOMIC_RELAXED);
}
const char *nvmeof_ctrl_subnqn(struct nvmeof_ctrl *c) { return c->subnqn; }
const char *nvmeof_ctrl_hostnqn(struct nvmeof_ctrl *c) { return c->hostnqn; }
const char *nvmeof_ctrl_traddr(struct nvmeof_ctrl *c) { return c->traddr; }
const char *nvmeof_ctrl_trsvcid(struct nvmeof_ctrl *c) { return c->trsvcid; }
int nvmeof_ctrl_nr_io_queues(struct nvmeof_ctrl *c) { return c->nr_io; }
int nvmeof_ctrl_queue_size(struct nvmeof_ctrl *c) { return c->qsize; }
uint32_t nvmeof_ctrl_mdts_bytes(struct nvmeof_ctrl *c) { return c->mdts_bytes; }
uint64_t nvmeof_ctrl_cap(struct nvmeof_ctrl *c) { return c->cap; }
uint32_t nvmeof_ctrl_vs(struct nvmeof_ctrl *c) { return c->vs; }
bool nvmeof_ctrl_is_discovery(struct nvmeof_ctrl *c) { return c->discovery; }
int nvmeof_ctrl_kato_ms(struct nvmeof_ctrl *c) { return c->kato_ms; }

void nvmeof_set_event_cb(struct nvmeof_ctrl *c, nvmeof_event_cb cb, void *arg)
{
	c->event_arg = arg;
	__atomic_store_n(&c->event_cb, cb, __ATOMIC_RELEASE);
}

static void add_stats(struct queue *q, struct nvmeof_stats *st)
{
	pthread_mutex_lock(&q->lock);
	st->commands += q->n_cmds;
	st->errors += q->n_errors;
	st->bytes_read += q->n_read;
	st->bytes_written += q->n_written;
	st->retries += q->n_retries;
	st->c2h_success += q->n_c2h_success;
	pthread_mutex_unlock(&q->lock);
}

void nvmeof_ctrl_stats(struct nvmeof_ctrl *c, struct nvmeof_stats *st)
{
	int i;

	memset(st, 0, sizeof *st);
	add_stats(c->admin, st);
	for (i = 0; i < c->nr_io; i++)
		add_stats(c->io[i], st);
	pthread_mutex_lock(&c->ev_lock);
	st->aborts = c->n_aborts;
	pthread_mutex_unlock(&c->ev_lock);
}

const char *nvmeof_ctrl_state(struct nvmeof_ctrl *c)
{
	int st;

	pthread_mutex_lock(&c->ev_lock);
	st = c->state;
	pthread_mutex_unlock(&c->ev_lock);
	if (st == CTRL_LIVE) {
		bool dead;

		/* q->dead is written under the queue's lock (not nested in
		 * ev_lock here: the lock order is q->lock, then ev_lock). */
		pthread_mutex_lock(&c->admin->lock);
		dead = c->admin->dead != 0;
		pthread_mutex_unlock(&c->admin->lock);
		if (dead)
			st = CTRL_FAILED; /* no reconnect: a failure is final */
	}
	return state_name(st);
}

void nvmeof_ctrl_status(struct nvmeof_ctrl *c, struct nvmeof_ctrl_status *st)
{
	memset(st, 0, sizeof *st);
	st->state = nvmeof_ctrl_state(c);
	pthread_mutex_lock(&c->ev_lock);
	st->since_ms = c->since_ms;
	st->attempts = c->attempts;
	st->reconnects = c->reconnects;
	snprintf(st->last_error, sizeof st->last_error, "%s", c->last_error);
	pthread_mutex_unlock(&c->ev_lock);
}

int nvmeof_ctrl_fail(struct nvmeof_ctrl *c, const char *why)
{
	pthread_mutex_lock(&c->ev_lock);
	if (!c->fail_req) {
		c->fail_req = true;
		copy_str(c->fail_why, sizeof c->fail_why,
			 why && *why ? why : "ended by the host");
	}
	pthread_mutex_unlock(&c->ev_lock);
	/* Without an admin thread (or from its callbacks) do it here;
	 * otherwise the admin thread does, between two reconnect attempts. */
	if (!c->ka_running || pthread_equal(pthread_self(), c->ka_thread)) {
		if (fail_asked(c))
			do_fail(c);
		return 0;
	}
	wake_admin_thread(c);
	pthread_mutex_lock(&c->admin->lock);
	pthread_cond_broadcast(&c->admin->cond);
	pthread_mutex_unlock(&c->admin->lock);
	pthread_mutex_lock(&c->ev_lock);
	while (!c->fail_done)
		pthread_cond_wait(&c->fail_cond, &c->ev_lock);
	pthread_mutex_unlock(&c->ev_lock);
	return 0;
}

void nvmeof_set_state_cb(struct nvmeof_ctrl *c, nvmeof_state_cb cb, void *arg)
{
	pthread_mutex_lock(&c->ev_lock);
	c->state_arg = arg;
	c->state_cb = cb;
	pthread_mutex_unlock(&c->ev_lock);
}
