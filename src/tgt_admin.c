/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target: controllers (associations), Fabrics commands (Connect,
 * Property Get/Set, Disconnect: NVMe-oF 1.1 §3), admin commands (NVMe Base
 * 2.0 §5) and the discovery log page (NVMe-oF 1.1 §5.3).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, fallocate, signalfd, eventfd */
#endif
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

#define AEN_BIT_NS 0x1   /* Namespace Attribute Changed notice sent */
#define AEN_BIT_DISC 0x2 /* Discovery Log Page Change notice sent */

#define DNR NVME_SF_DNR_BIT
#define ST_INVALID_FIELD (SF_GEN(NVME_SC_INVALID_FIELD) | DNR)
#define ST_INVALID_OPCODE (SF_GEN(NVME_SC_INVALID_OPCODE) | DNR)
#define ST_SGL_LENGTH (SF_GEN(NVME_SC_SGL_INVALID_DATA) | DNR)
#define ST_CONNECT_PARAM (SF_CMD(NVME_SC_CONNECT_INVALID_PARAM) | DNR)

/* Connect response dword 0 for Connect Invalid Parameters (NVMe-oF 1.1
 * §3.3, Figure 21): IPO in bits 15:0, IATTR (bit 0: in the data) in 23:16. */
#define IPO_DATA(field) \
	((1u << 16) | (uint32_t)offsetof(struct nvmf_connect_data, field))
#define IPO_SQE(off) ((uint32_t)(off))

static void send_data_done(struct tgt_conn *c, const struct nvme_sqe *sqe,
			   const void *buf, uint32_t len)
{
	struct iovec iov = { (void *)buf, len };

	if (len)
		conn_send_data(c, le16toh(sqe->cid), 0, &iov, 1, len, true);
	cmd_done(c, sqe, 0, 0);
	conn_flush(c); /* the admin buffer is reused by the next command */
}

/* ---- controllers -------------------------------------------------------- */

bool ctrl_ready(struct tgt_ctrl *ctrl)
{
	return __atomic_load_n(&ctrl->csts, __ATOMIC_RELAXED) & NVME_CSTS_RDY;
}

static void set_csts(struct tgt_ctrl *ctrl, uint32_t v)
{
	__atomic_store_n(&ctrl->csts, v, __ATOMIC_RELAXED);
}

static struct tgt_ctrl *ctrl_new(struct tgt_subsys *s, const char *hostnqn,
				 const uint8_t hostid[16], uint32_t kato_ms)
{
	struct tgt_ctrl *ctrl = calloc(1, sizeof *ctrl);
	uint16_t id = 0;

	if (!ctrl)
		return NULL;
	ctrl->ioq = calloc(opts.max_io_queues + 1, sizeof *ctrl->ioq);
	if (!ctrl->ioq) {
		free(ctrl);
		return NULL;
	}
	pthread_mutex_init(&ctrl->lock, NULL);
	ctrl->subsys = s;
	snprintf(ctrl->hostnqn, sizeof ctrl->hostnqn, "%s", hostnqn);
	memcpy(ctrl->hostid, hostid, 16);
	ctrl->kato_ms = kato_ms;
	atomic_store(&ctrl->last_rx_ms, now_ms());
	/* Asynchronous events the controller can report are on until the
	 * host says otherwise with Set Features (AEC). */
	ctrl->aec = s->discovery ? NVME_AEC_DISC_CHANGE : NVME_AEC_NS_ATTR;
	ctrl->refs = 1;

	pthread_mutex_lock(&g.lock);
	for (unsigned tries = 0; tries < TGT_MAX_CNTLID; tries++) {
		uint16_t cand = g.next_cntlid;
		struct tgt_ctrl *o;

		g.next_cntlid = cand >= TGT_MAX_CNTLID ? 1 : cand + 1;
		for (o = g.ctrls; o; o = o->next)
			if (o->cntlid == cand)
				break;
		if (!o) {
			id = cand;
			break;
		}
	}
	if (id) {
		ctrl->cntlid = id;
		ctrl->next = g.ctrls;
		g.ctrls = ctrl;
		atomic_fetch_add(&s->refs, 1);
	}
	pthread_mutex_unlock(&g.lock);
	if (!id) {
		pthread_mutex_destroy(&ctrl->lock);
		free(ctrl->ioq);
		free(ctrl);
		return NULL;
	}
	return ctrl;
}

/* Find an association an I/O queue may join; a reference. */
static struct tgt_ctrl *ctrl_find(struct tgt_subsys *s, uint16_t cntlid,
				  const char *hostnqn, const uint8_t hostid[16])
{
	struct tgt_ctrl *ctrl;

	pthread_mutex_lock(&g.lock);
	for (ctrl = g.ctrls; ctrl; ctrl = ctrl->next)
		if (ctrl->cntlid == cntlid && ctrl->subsys == s &&
		    !strcmp(ctrl->hostnqn, hostnqn) &&
		    !memcmp(ctrl->hostid, hostid, 16))
			break;
	if (ctrl)
		ctrl->refs++;
	pthread_mutex_unlock(&g.lock);
	return ctrl;
}

static double cpu_s(uint64_t ns)
{
	return (double)ns / 1e9;
}

int ctrl_format(char *buf, size_t len, struct tgt_ctrl *ctrl,
		const struct tgt_stats *st, int queues, const char *state)
{
	return snprintf(buf, len,
			"cntlid=%u subnqn=%s hostnqn=%s state=%s queues=%d io=%" PRIu64
			" reads=%" PRIu64 " writes=%" PRIu64 " other=%" PRIu64
			" read_bytes=%" PRIu64 " write_bytes=%" PRIu64
			" errors=%" PRIu64 " admin=%" PRIu64
			" cpu_s=%.3f cpu_us_per_io=%.2f",
			ctrl->cntlid, ctrl->subsys->nqn, ctrl->hostnqn, state,
			queues, st->io, st->reads, st->writes, st->others,
			st->rbytes, st->wbytes, st->errors, st->admin,
			cpu_s(st->cpu_ns),
			st->io ? (double)st->cpu_ns / 1e3 / (double)st->io : 0.0);
}

static void conn_stats(struct tgt_conn *c, struct tgt_stats *st,
		       bool live_cpu)
{
	st->io += STAT_GET(c->st.io);
	st->reads += STAT_GET(c->st.reads);
	st->writes += STAT_GET(c->st.writes);
	st->others += STAT_GET(c->st.others);
	st->rbytes += STAT_GET(c->st.rbytes);
	st->wbytes += STAT_GET(c->st.wbytes);
	st->errors += STAT_GET(c->st.errors);
	st->admin += STAT_GET(c->st.admin);
	if (live_cpu) {
		clockid_t cid;
		struct timespec ts;

		if (pthread_getcpuclockid(c->thread, &cid) == 0 &&
		    clock_gettime(cid, &ts) == 0)
			st->cpu_ns += (uint64_t)ts.tv_sec * 1000000000u +
				      (uint64_t)ts.tv_nsec;
	}
}

void ctrl_stats(struct tgt_ctrl *ctrl, struct tgt_stats *st, int *queues,
		bool live_cpu)
{
	int n = 0;

	pthread_mutex_lock(&ctrl->lock);
	*st = ctrl->closed;
	if (ctrl->admin) {
		conn_stats(ctrl->admin, st, live_cpu);
		n++;
	}
	for (uint32_t q = 1; q <= opts.max_io_queues; q++)
		if (ctrl->ioq[q]) {
			conn_stats(ctrl->ioq[q], st, live_cpu);
			n++;
		}
	pthread_mutex_unlock(&ctrl->lock);
	if (queues)
		*queues = n;
}

void ctrl_put(struct tgt_ctrl *ctrl)
{
	struct tgt_ctrl **pp;
	bool last;
	char line[1024];

	pthread_mutex_lock(&g.lock);
	last = --ctrl->refs == 0;
	if (last) {
		for (pp = &g.ctrls; *pp; pp = &(*pp)->next)
			if (*pp == ctrl) {
				*pp = ctrl->next;
				break;
			}
		/* Remembered for the report at exit. */
		ctrl_format(line, sizeof line, ctrl, &ctrl->closed,
			    ctrl->nr_queues_total, "ended");
		stats_add(&g.ended, &ctrl->closed);
		g.ended_count++;
		if (g.history_len < 64 * 1024) {
			size_t l = strlen(line);
			char *h = realloc(g.history, g.history_len + l + 2);

			if (h) {
				memcpy(h + g.history_len, line, l);
				h[g.history_len + l] = '\n';
				h[g.history_len + l + 1] = '\0';
				g.history = h;
				g.history_len += l + 1;
			}
		}
	}
	pthread_mutex_unlock(&g.lock);
	if (!last)
		return;
	infox("association %u (%s, host %s) ended", ctrl->cntlid,
	      ctrl->subsys->nqn, ctrl->hostnqn);
	subsys_put(ctrl->subsys);
	pthread_mutex_destroy(&ctrl->lock);
	free(ctrl->ioq);
	free(ctrl);
}

/* End an association: every queue's connection is shut down. */
void ctrl_kill(struct tgt_ctrl *ctrl, const char *why)
{
	pthread_mutex_lock(&ctrl->lock);
	if (!ctrl->dead) {
		ctrl->dead = true;
		set_csts(ctrl, ctrl->csts & ~NVME_CSTS_RDY);
		infox("association %u (%s, host %s): %s; closing its queues",
		      ctrl->cntlid, ctrl->subsys->nqn, ctrl->hostnqn, why);
		if (ctrl->admin)
			conn_stop(ctrl->admin);
		for (uint32_t q = 1; q <= opts.max_io_queues; q++)
			if (ctrl->ioq[q])
				conn_stop(ctrl->ioq[q]);
	}
	pthread_mutex_unlock(&ctrl->lock);
}

/* A queue's connection has ended (from its own thread). */
void ctrl_detach(struct tgt_conn *c)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	struct tgt_stats st = { 0 };

	conn_stats(c, &st, false);
	st.cpu_ns = STAT_GET(c->st.cpu_ns);
	pthread_mutex_lock(&ctrl->lock);
	if (c->qid == 0 && ctrl->admin == c)
		ctrl->admin = NULL;
	else if (c->qid && ctrl->ioq[c->qid] == c)
		ctrl->ioq[c->qid] = NULL;
	stats_add(&ctrl->closed, &st);
	pthread_mutex_unlock(&ctrl->lock);
	if (c->qid == 0)
		ctrl_kill(ctrl, "admin queue closed");
	c->ctrl = NULL;
	ctrl_put(ctrl);
}

/* Keep-alive (NVMe Base 2.0 §3.9): with traffic-based keep alive (CTRATT
 * TBKAS) any command on any queue counts.  Returns the poll timeout to
 * the deadline (-1: none), or -2 if the association is gone. */
int ctrl_kato_check(struct tgt_conn *c)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	uint64_t kato, slack, deadline, now;
	bool dead;

	if (!ctrl)
		return -1;
	pthread_mutex_lock(&ctrl->lock);
	kato = ctrl->kato_ms;
	dead = ctrl->dead;
	pthread_mutex_unlock(&ctrl->lock);
	if (dead)
		return -2;
	if (!kato)
		return -1;
	/* A little slack for the host's timer and the network. */
	slack = MIN(MAX(kato / 2, 250u), 5000u);
	deadline = atomic_load(&ctrl->last_rx_ms) + kato + slack;
	now = now_ms();
	if (now >= deadline) {
		warnx("association %u (%s, host %s): nothing received for %" PRIu64
		      " ms (KATO %" PRIu64 " ms)",
		      ctrl->cntlid, ctrl->subsys->nqn, ctrl->hostnqn,
		      now - atomic_load(&ctrl->last_rx_ms), kato);
		ctrl_kill(ctrl, "keep-alive timeout");
		return -2;
	}
	return (int)MIN(deadline - now, (uint64_t)INT_MAX);
}

void ctrl_log_error(struct tgt_conn *c, uint16_t cid, uint16_t status,
		    uint32_t nsid)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	struct nvme_error_log_entry *e;

	if (!ctrl)
		return;
	pthread_mutex_lock(&ctrl->lock);
	e = &ctrl->errlog[ctrl->err_count % TGT_ERRLOG_ENTRIES];
	memset(e, 0, sizeof *e);
	ctrl->err_count++;
	e->error_count = htole64(ctrl->err_count);
	e->sqid = htole16(c->qid);
	e->cmdid = htole16(cid);
	e->status = htole16((uint16_t)(status << 1));
	e->parm_error_location = htole16(0xffff);
	e->nsid = htole32(nsid);
	e->trtype = NVMF_TRTYPE_TCP;
	pthread_mutex_unlock(&ctrl->lock);
}

/* ---- asynchronous events ------------------------------------------------ */

static void wake_admin(struct tgt_ctrl *ctrl)
{
	uint64_t one = 1;

	if (ctrl->admin && ctrl->admin->evfd >= 0 &&
	    write(ctrl->admin->evfd, &one, sizeof one) < 0) {
		/* the counter cannot overflow in practice */
	}
}

static void queue_event(struct tgt_ctrl *ctrl, uint32_t ev)
{
	if (ctrl->nr_events < (int)ARRAY_SIZE(ctrl->events))
		ctrl->events[ctrl->nr_events++] = ev;
	wake_admin(ctrl);
}

/* A namespace was added, removed or resized: the Changed Namespace List
 * (log 04h) gets it, and a Namespace Attribute Changed notice goes out
 * unless one is already waiting for the host to read the log (as nvmet). */
void ctrl_ns_changed(struct tgt_ctrl *ctrl, uint32_t nsid)
{
	pthread_mutex_lock(&ctrl->lock);
	if (ctrl->nr_changed_ns != UINT32_MAX) {
		uint32_t i;

		for (i = 0; i < ctrl->nr_changed_ns; i++)
			if (ctrl->changed_ns[i] == nsid)
				break;
		if (i == ctrl->nr_changed_ns) {
			if (i == NVME_CHANGED_NS_MAX)
				ctrl->nr_changed_ns = UINT32_MAX;
			else
				ctrl->changed_ns[ctrl->nr_changed_ns++] = nsid;
		}
	}
	if (!ctrl->dead && (ctrl->aec & NVME_AEC_NS_ATTR) &&
	    !(ctrl->aen_masked & AEN_BIT_NS)) {
		ctrl->aen_masked |= AEN_BIT_NS;
		queue_event(ctrl, NVME_AER_NOTICE |
					  NVME_AER_NOTICE_NS_CHANGED << 8 |
					  (uint32_t)NVME_LOG_CHANGED_NS << 16);
	}
	pthread_mutex_unlock(&ctrl->lock);
}

void ctrl_disc_changed(struct tgt_ctrl *ctrl)
{
	pthread_mutex_lock(&ctrl->lock);
	if (!ctrl->dead && (ctrl->aec & NVME_AEC_DISC_CHANGE) &&
	    !(ctrl->aen_masked & AEN_BIT_DISC)) {
		ctrl->aen_masked |= AEN_BIT_DISC;
		queue_event(ctrl, NVME_AER_NOTICE |
					  NVME_AER_NOTICE_DISC_CHANGED << 8 |
					  (uint32_t)NVME_LOG_DISCOVERY << 16);
	}
	pthread_mutex_unlock(&ctrl->lock);
}

/* Pair outstanding AERs with queued events (admin queue thread). */
void admin_events(struct tgt_conn *c)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	uint16_t cid[TGT_AERL + 1];
	uint32_t ev[TGT_AERL + 1];
	int n = 0;

	if (!ctrl)
		return;
	pthread_mutex_lock(&ctrl->lock);
	while (ctrl->nr_aer && ctrl->nr_events && n < TGT_AERL + 1) {
		cid[n] = ctrl->aer_cid[0];
		ev[n] = ctrl->events[0];
		memmove(ctrl->aer_cid, ctrl->aer_cid + 1,
			--ctrl->nr_aer * sizeof *ctrl->aer_cid);
		memmove(ctrl->events, ctrl->events + 1,
			--ctrl->nr_events * sizeof *ctrl->events);
		n++;
	}
	pthread_mutex_unlock(&ctrl->lock);
	for (int i = 0; i < n; i++) {
		infox("association %u: AEN 0x%08x completes AER cid %u",
		      ctrl->cntlid, ev[i], cid[i]);
		conn_complete(c, cid[i], 0, ev[i]);
	}
}

/* ---- Fabrics commands --------------------------------------------------- */

static void connect_fail(struct tgt_conn *c, const struct nvme_sqe *sqe,
			 uint16_t status, uint32_t dw0, const char *why)
{
	infox("%s: Connect refused: %s", c->peer, why);
	conn_complete(c, le16toh(sqe->cid), status, dw0);
}

/* NVMe-oF 1.1 §3.3 Connect: admin queue (QID 0) makes an association,
 * an I/O queue joins one by CNTLID. */
static void do_connect(struct tgt_conn *c, const struct nvme_sqe *sqe,
		       const uint8_t *data, uint32_t dlen)
{
	const uint8_t *b = (const uint8_t *)sqe;
	uint16_t recfmt = le16_get(b + NVMF_CONNECT_RECFMT);
	uint16_t qid = le16_get(b + NVMF_CONNECT_QID);
	uint16_t sqsize = le16_get(b + NVMF_CONNECT_SQSIZE);
	uint32_t kato = le32_get(b + NVMF_CONNECT_KATO);
	const struct nvmf_connect_data *d = (const void *)data;
	char subnqn[NVMF_NQN_SIZE], hostnqn[NVMF_NQN_SIZE], why[600];
	uint8_t hostid[16];
	uint16_t cntlid;
	struct tgt_subsys *s;
	struct tgt_ctrl *ctrl;

	if (c->connected) {
		connect_fail(c, sqe, SF_GEN(NVME_SC_CMD_SEQ_ERROR) | DNR, 0,
			     "the queue is already connected");
		return;
	}
	if (recfmt != 0) {
		connect_fail(c, sqe, SF_CMD(NVME_SC_CONNECT_FORMAT) | DNR, 0,
			     "unknown record format");
		return;
	}
	if (!data || dlen != sizeof(struct nvmf_connect_data)) {
		connect_fail(c, sqe, ST_SGL_LENGTH, 0,
			     "Connect data is not 1024 bytes");
		return;
	}
	if (!memchr(d->subnqn, 0, sizeof d->subnqn) || !d->subnqn[0]) {
		connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(subnqn),
			     "subsystem NQN not terminated");
		return;
	}
	/* An empty Host NQN is allowed (SPDK's host sends one unless
	 * given one): it may connect where any host may. */
	if (!memchr(d->hostnqn, 0, sizeof d->hostnqn)) {
		connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(hostnqn),
			     "host NQN not terminated");
		return;
	}
	memcpy(subnqn, d->subnqn, sizeof subnqn);
	memcpy(hostnqn, d->hostnqn, sizeof hostnqn);
	memcpy(hostid, d->hostid, 16);
	cntlid = le16toh(d->cntlid);
	if (sqsize == 0 || sqsize >= opts.queue_size) {
		snprintf(why, sizeof why, "SQSIZE %u (0's based, 1..%u)",
			 sqsize, opts.queue_size - 1);
		connect_fail(c, sqe, ST_CONNECT_PARAM,
			     IPO_SQE(NVMF_CONNECT_SQSIZE), why);
		return;
	}
	s = subsys_get(subnqn);
	if (!s || (c->lsn->discovery_only && !s->discovery)) {
		snprintf(why, sizeof why, "no subsystem '%s'%s", subnqn,
			 s ? " on this discovery port" : "");
		connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(subnqn), why);
		if (s)
			subsys_put(s);
		return;
	}
	if (!host_allowed(s, hostnqn)) {
		warnx("%s: Connect refused: host '%s' is not allowed on %s",
		      c->peer, hostnqn, subnqn);
		conn_complete(c, le16toh(sqe->cid),
			      SF_CMD(NVME_SC_CONNECT_INVALID_HOST) | DNR, 0);
		subsys_put(s);
		return;
	}
	if (!hostnqn[0] && !s->discovery) {
		static atomic_bool warned;

		if (!atomic_exchange(&warned, true))
			warnx("%s: a host with an empty host NQN connects to %s (any host is allowed there; this is said once)",
			      c->peer, subnqn);
	}

	if (qid == 0) {
		if (cntlid != NVMF_CNTLID_DYNAMIC) {
			/* Dynamic controller model only (FCATT 0). */
			snprintf(why, sizeof why,
				 "CNTLID %u on an admin queue (only FFFFh)", cntlid);
			connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(cntlid),
				     why);
			subsys_put(s);
			return;
		}
		ctrl = ctrl_new(s, hostnqn, hostid, kato);
		subsys_put(s);
		if (!ctrl) {
			connect_fail(c, sqe, SF_CMD(NVME_SC_CONNECT_CTRL_BUSY), 0,
				     "no controller ID free");
			return;
		}
		c->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->evfd < 0) {
			connect_fail(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0,
				     "eventfd failed");
			ctrl_put(ctrl);
			return;
		}
		pthread_mutex_lock(&ctrl->lock);
		ctrl->admin = c;
		ctrl->nr_queues_total++;
		pthread_mutex_unlock(&ctrl->lock);
		c->ctrl = ctrl;
		c->fscope = FS_ADMIN;
		c->rxp.max_incapsule = TGT_ADMIN_INCAPSULE;
		infox("%s: association %u: %s for host %s (KATO %u ms)", c->peer,
		      ctrl->cntlid, ctrl->subsys->nqn, hostnqn, kato);
	} else {
		if (s->discovery) {
			connect_fail(c, sqe, ST_CONNECT_PARAM,
				     IPO_SQE(NVMF_CONNECT_QID),
				     "I/O queue to the discovery subsystem");
			subsys_put(s);
			return;
		}
		ctrl = ctrl_find(s, cntlid, hostnqn, hostid);
		subsys_put(s);
		if (!ctrl) {
			snprintf(why, sizeof why,
				 "no controller %u of %s for host %s", cntlid,
				 subnqn, hostnqn);
			connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(cntlid),
				     why);
			return;
		}
		pthread_mutex_lock(&ctrl->lock);
		if (ctrl->dead) {
			pthread_mutex_unlock(&ctrl->lock);
			connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(cntlid),
				     "the association has ended");
			ctrl_put(ctrl);
			return;
		}
		if (!(ctrl->csts & NVME_CSTS_RDY)) {
			pthread_mutex_unlock(&ctrl->lock);
			connect_fail(c, sqe, SF_GEN(NVME_SC_CMD_SEQ_ERROR) | DNR, 0,
				     "controller not enabled (CC.EN, CSTS.RDY)");
			ctrl_put(ctrl);
			return;
		}
		if (qid > (ctrl->nr_ioq ? ctrl->nr_ioq : opts.max_io_queues)) {
			uint32_t max = ctrl->nr_ioq ? ctrl->nr_ioq :
						      opts.max_io_queues;

			pthread_mutex_unlock(&ctrl->lock);
			snprintf(why, sizeof why, "QID %u beyond the %u granted",
				 qid, max);
			connect_fail(c, sqe, ST_CONNECT_PARAM,
				     IPO_SQE(NVMF_CONNECT_QID), why);
			ctrl_put(ctrl);
			return;
		}
		if (ctrl->ioq[qid]) {
			pthread_mutex_unlock(&ctrl->lock);
			snprintf(why, sizeof why, "QID %u is already connected",
				 qid);
			connect_fail(c, sqe, SF_GEN(NVME_SC_CMD_SEQ_ERROR) | DNR,
				     0, why);
			ctrl_put(ctrl);
			return;
		}
		ctrl->ioq[qid] = c;
		ctrl->nr_queues_total++;
		pthread_mutex_unlock(&ctrl->lock);
		c->ctrl = ctrl;
		c->fscope = FS_IO;
		c->rxp.max_incapsule = opts.io_incapsule;
		debugx("%s: association %u: I/O queue %u (%u entries)", c->peer,
		       ctrl->cntlid, qid, sqsize + 1);
	}
	c->qid = qid;
	c->sqsize = (uint16_t)(sqsize + 1);
	c->sqhd %= c->sqsize;
	c->connected = true;
	atomic_store(&c->ctrl->last_rx_ms, now_ms());
	conn_complete(c, le16toh(sqe->cid), 0, c->ctrl->cntlid);
}

static uint64_t ctrl_cap(void)
{
	/* CAP (NVMe Base 2.0 §3.1.3.1): CSS NVM (bit 37), TO 15 (7.5 s),
	 * CQR, MQES; MPSMIN = MPSMAX = 0 (4 KiB). */
	return (1ull << 37) | (15ull << 24) | (1ull << 16) |
	       (opts.queue_size - 1);
}

/* CC written: the enable and shutdown state machine (NVMe Base 2.0 §3.6). */
static void update_cc(struct tgt_ctrl *ctrl, uint32_t cc)
{
	uint32_t old, csts;

	pthread_mutex_lock(&ctrl->lock);
	old = ctrl->cc;
	csts = ctrl->csts;
	ctrl->cc = cc;
	if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN)) {
		unsigned iosqes = (cc >> 16) & 0xf, iocqes = (cc >> 20) & 0xf;
		unsigned mps = (cc >> 7) & 0xf, ams = (cc >> 11) & 0x7;
		unsigned css = (cc >> 4) & 0x7;

		if (mps != 0 || ams != 0 || css != 0 ||
		    (!ctrl->subsys->discovery && (iosqes != 6 || iocqes != 4)))
			csts = NVME_CSTS_CFS;
		else
			csts = NVME_CSTS_RDY;
	} else if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN)) {
		csts = 0; /* controller reset */
	}
	if ((cc & NVME_CC_SHN_MASK) && !(old & NVME_CC_SHN_MASK))
		csts = (csts & ~NVME_CSTS_RDY) | NVME_CSTS_SHST_CMPLT;
	else if (!(cc & NVME_CC_SHN_MASK) && (old & NVME_CC_SHN_MASK))
		csts &= ~NVME_CSTS_SHST_MASK;
	set_csts(ctrl, csts);
	pthread_mutex_unlock(&ctrl->lock);
	debugx("association %u: CC 0x%x -> CSTS 0x%x", ctrl->cntlid, cc, csts);
}

void fabrics_cmd(struct tgt_conn *c, const struct nvme_sqe *sqe,
		 const uint8_t *data, uint32_t dlen)
{
	const uint8_t *b = (const uint8_t *)sqe;
	uint8_t fctype = b[NVMF_SQE_FCTYPE];
	bool eight = b[NVMF_PROP_ATTRIB] & 1;
	uint32_t ofst = le32_get(b + NVMF_PROP_OFST);
	struct tgt_ctrl *ctrl = c->ctrl;
	uint64_t val = 0;

	switch (fctype) {
	case NVMF_FCTYPE_CONNECT:
		do_connect(c, sqe, data, dlen);
		return;
	case NVMF_FCTYPE_PROP_GET:
		if (c->qid) {
			conn_complete(c, le16toh(sqe->cid), ST_INVALID_OPCODE, 0);
			return;
		}
		if (eight && ofst == NVME_REG_CAP)
			val = ctrl_cap();
		else if (!eight && ofst == NVME_REG_VS)
			val = 0x10300; /* 1.3 */
		else if (!eight && ofst == NVME_REG_CC)
			val = __atomic_load_n(&ctrl->cc, __ATOMIC_RELAXED);
		else if (!eight && ofst == NVME_REG_CSTS)
			val = __atomic_load_n(&ctrl->csts, __ATOMIC_RELAXED);
		else {
			conn_complete(c, le16toh(sqe->cid), ST_INVALID_FIELD, 0);
			return;
		}
		conn_complete(c, le16toh(sqe->cid), 0, val);
		return;
	case NVMF_FCTYPE_PROP_SET:
		if (c->qid) {
			conn_complete(c, le16toh(sqe->cid), ST_INVALID_OPCODE, 0);
			return;
		}
		if (eight || ofst != NVME_REG_CC) {
			conn_complete(c, le16toh(sqe->cid), ST_INVALID_FIELD, 0);
			return;
		}
		update_cc(ctrl, le32_get(b + NVMF_PROP_VALUE));
		conn_complete(c, le16toh(sqe->cid), 0, 0);
		return;
	case NVMF_FCTYPE_DISCONNECT:
		/* NVMe-oF 1.1 §3.x: delete this queue (the admin queue: the
		 * whole association) once the answer is sent. */
		if (le16_get(b + NVMF_CONNECT_RECFMT) != 0) {
			conn_complete(c, le16toh(sqe->cid),
				      SF_CMD(NVME_SC_CONNECT_FORMAT) | DNR, 0);
			return;
		}
		conn_complete(c, le16toh(sqe->cid), 0, 0);
		c->kill_after_flush = true;
		return;
	default:
		conn_complete(c, le16toh(sqe->cid), ST_INVALID_OPCODE, 0);
		return;
	}
}

/* ---- Identify ----------------------------------------------------------- */

static void pad_copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, MIN(l, n));
}

static void id_ctrl(struct tgt_conn *c, struct nvme_id_ctrl *id)
{
	struct tgt_subsys *s = c->ctrl->subsys;

	pad_copy(id->sn, sizeof id->sn, s->serial);
	pad_copy(id->mn, sizeof id->mn, s->model);
	pad_copy(id->fr, sizeof id->fr, s->firmware);
	id->mdts = (uint8_t)opts.mdts;
	id->cntlid = htole16(c->ctrl->cntlid);
	id->ver = htole32(0x10300);
	id->maxcmd = htole16((uint16_t)opts.queue_size);
	id->aerl = TGT_AERL;
	id->lpa = 1u << 2; /* extended data for Get Log Page */
	id->elpe = TGT_ERRLOG_ENTRIES - 1;
	id->kas = htole16(10); /* 100 ms units: KATO granularity 1 s */
	id->sgls = htole32(0x100001); /* SGLs, offsets in data blocks */
	id->msdbd = 1;
	snprintf(id->subnqn, sizeof id->subnqn, "%s", s->nqn);
	if (s->discovery) {
		id->cntrltype = 2;
		id->oaes = htole32(NVME_OAES_DISC_CHANGE);
		return;
	}
	id->cntrltype = 1;
	id->rab = 6;
	id->cmic = 1u << 1; /* several controllers share namespaces */
	id->oaes = htole32(NVME_OAES_NS_ATTR);
	id->ctratt = htole32(1u << 0 | 1u << 6); /* 128-bit host ID, TBKAS */
	id->acl = 3;
	id->frmw = 0x3; /* one slot, read-only */
	id->lpa |= NVME_LPA_CMD_EFFECTS;
	id->sqes = 0x66;
	id->cqes = 0x44;
	id->nn = htole32(TGT_MAX_NSID);
	id->oncs = htole16(NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES);
	id->vwc = 0x7; /* volatile write cache; Flush to FFFFFFFFh supported */
	id->ioccsz = htole32((64 + opts.io_incapsule) / 16);
	id->iorcsz = htole32(1);
	id->ofcs = htole16(1); /* Disconnect */
}

static void id_ns(struct tgt_ns *ns, struct nvme_id_ns *id)
{
	uint64_t nb = ns_blocks(ns);
	uint64_t bytes = nb << ns->lba_shift;

	id->nsze = id->ncap = id->nuse = htole64(nb);
	id->nlbaf = 0;
	id->flbas = 0;
	id->nmic = 1;
	id->dlfeat = 1; /* deallocated blocks read as zeros */
	id->nsattr = ns->ro ? 1 : 0;
	le64_put(id->nvmcap, bytes);
	memcpy(id->nguid, ns->nguid, 16);
	id->lbaf[0].lbads = (uint8_t)ns->lba_shift;
}

static void identify(struct tgt_conn *c, const struct nvme_sqe *sqe,
		     uint32_t dlen)
{
	uint8_t cns = le32toh(sqe->cdw10) & 0xff;
	uint32_t nsid = le32toh(sqe->nsid);
	struct tgt_subsys *s = c->ctrl->subsys;
	struct tgt_ns *ns;
	uint8_t *buf;

	if (dlen != 4096) {
		cmd_done(c, sqe, ST_SGL_LENGTH, 0);
		return;
	}
	buf = conn_abuf(c, 4096);
	if (!buf) {
		cmd_done(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0);
		return;
	}
	if (s->discovery && cns != NVME_CNS_CTRL) {
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	switch (cns) {
	case NVME_CNS_CTRL:
		id_ctrl(c, (struct nvme_id_ctrl *)buf);
		break;
	case NVME_CNS_NS:
		if (nsid == 0 || nsid > TGT_MAX_NSID) {
			cmd_done(c, sqe, SF_GEN(NVME_SC_INVALID_NS) | DNR, 0);
			return;
		}
		/* An inactive NSID: a zero-filled structure (§5.17.2.1). */
		ns = subsys_ns_get(s, nsid);
		if (ns) {
			id_ns(ns, (struct nvme_id_ns *)buf);
			ns_put(ns);
		}
		break;
	case NVME_CNS_NS_ACTIVE_LIST: {
		uint32_t n = 0;

		if (nsid >= 0xfffffffe) {
			cmd_done(c, sqe, SF_GEN(NVME_SC_INVALID_NS) | DNR, 0);
			return;
		}
		pthread_mutex_lock(&s->lock);
		for (uint32_t i = nsid + 1; i <= TGT_MAX_NSID && n < 1024; i++)
			if (s->ns[i])
				le32_put(buf + 4 * n++, i);
		pthread_mutex_unlock(&s->lock);
		break;
	}
	case NVME_CNS_NS_DESC_LIST:
		ns = nsid ? subsys_ns_get(s, nsid) : NULL;
		if (!ns) {
			cmd_done(c, sqe, SF_GEN(NVME_SC_INVALID_NS) | DNR, 0);
			return;
		}
		buf[0] = NVME_NIDT_NGUID;
		buf[1] = 16;
		memcpy(buf + 4, ns->nguid, 16);
		buf[20] = NVME_NIDT_UUID;
		buf[21] = 16;
		memcpy(buf + 24, ns->uuid, 16);
		ns_put(ns);
		break;
	default:
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	send_data_done(c, sqe, buf, 4096);
}

/* ---- log pages ---------------------------------------------------------- */

static void put_u128(uint8_t *p, uint64_t v)
{
	memset(p, 0, 16);
	le64_put(p, v);
}

static size_t log_smart(struct tgt_conn *c, uint8_t *buf)
{
	struct nvme_smart_log *l = (void *)buf;
	struct tgt_stats st;
	uint64_t errs;

	ctrl_stats(c->ctrl, &st, NULL, false);
	pthread_mutex_lock(&c->ctrl->lock);
	errs = c->ctrl->err_count;
	pthread_mutex_unlock(&c->ctrl->lock);
	le16_put((uint8_t *)l + 1, 295); /* Kelvin */
	l->avail_spare = 100;
	l->spare_thresh = 10;
	/* data units: thousands of 512-byte units, rounded up */
	put_u128(l->data_units_read, (st.rbytes / 512 + 999) / 1000);
	put_u128(l->data_units_written, (st.wbytes / 512 + 999) / 1000);
	put_u128(l->host_reads, st.reads);
	put_u128(l->host_writes, st.writes);
	put_u128(l->power_cycles, 1);
	put_u128(l->power_on_hours, (now_ms() - g.start_ms) / 3600000u);
	put_u128(l->num_err_log_entries, errs);
	return sizeof *l;
}

static size_t log_error(struct tgt_conn *c, uint8_t *buf)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	size_t n = 0;

	pthread_mutex_lock(&ctrl->lock);
	for (uint64_t i = ctrl->err_count;
	     i > 0 && n < TGT_ERRLOG_ENTRIES; i--, n++) /* newest first */
		memcpy(buf + n * 64,
		       &ctrl->errlog[(i - 1) % TGT_ERRLOG_ENTRIES], 64);
	pthread_mutex_unlock(&ctrl->lock);
	return TGT_ERRLOG_ENTRIES * 64;
}

static size_t log_fw(struct tgt_conn *c, uint8_t *buf)
{
	struct nvme_fw_slot_log *l = (void *)buf;

	l->afi = 1;
	pad_copy(l->frs[0], sizeof l->frs[0], c->ctrl->subsys->firmware);
	return sizeof *l;
}

static size_t log_changed_ns(struct tgt_conn *c, uint8_t *buf, bool rae)
{
	struct tgt_ctrl *ctrl = c->ctrl;

	pthread_mutex_lock(&ctrl->lock);
	if (ctrl->nr_changed_ns == UINT32_MAX)
		le32_put(buf, 0xffffffff);
	else
		for (uint32_t i = 0; i < ctrl->nr_changed_ns; i++)
			le32_put(buf + 4 * i, ctrl->changed_ns[i]);
	if (!rae) {
		/* Read: cleared, and the next change may send an AEN. */
		ctrl->nr_changed_ns = 0;
		ctrl->aen_masked &= ~AEN_BIT_NS;
	}
	pthread_mutex_unlock(&ctrl->lock);
	return 4096;
}

static size_t log_cmd_effects(uint8_t *buf)
{
	static const uint8_t admin_ops[] = {
		NVME_ADMIN_GET_LOG_PAGE, NVME_ADMIN_IDENTIFY, NVME_ADMIN_ABORT,
		NVME_ADMIN_SET_FEATURES, NVME_ADMIN_GET_FEATURES,
		NVME_ADMIN_ASYNC_EVENT, NVME_ADMIN_KEEP_ALIVE,
	};
	struct nvme_cmd_effects_log *l = (void *)buf;
	const uint32_t csupp = 1, lbcc = 2;

	for (size_t i = 0; i < ARRAY_SIZE(admin_ops); i++)
		l->acs[admin_ops[i]] = htole32(csupp);
	l->iocs[NVME_NVM_FLUSH] = htole32(csupp);
	l->iocs[NVME_NVM_READ] = htole32(csupp);
	l->iocs[NVME_NVM_WRITE] = htole32(csupp | lbcc);
	l->iocs[NVME_NVM_WRITE_ZEROES] = htole32(csupp | lbcc);
	l->iocs[NVME_NVM_DSM] = htole32(csupp | lbcc);
	return sizeof *l;
}

static void disc_entry(struct nvmf_disc_log_entry *e,
		       const struct tgt_listener *l, const char *nqn,
		       const struct tgt_conn *c)
{
	char addr[INET6_ADDRSTRLEN] = "";

	e->trtype = NVMF_TRTYPE_TCP;
	e->adrfam = l->family == AF_INET6 ? NVMF_ADRFAM_IPV6 : NVMF_ADRFAM_IPV4;
	e->subtype = NVMF_SUBTYPE_NVME;
	e->treq = NVMF_TREQ_DISABLE_SQFLOW; /* secure channel not specified */
	e->portid = htole16((uint16_t)l->portid);
	e->cntlid = htole16(NVMF_CNTLID_DYNAMIC);
	e->asqsz = htole16(TGT_ADMIN_SQSIZE);
	snprintf(e->trsvcid, sizeof e->trsvcid, "%u", l->port);
	snprintf(e->subnqn, sizeof e->subnqn, "%s", nqn);
	if (l->wildcard) {
		/* Bound to any address: tell the host the one it used. */
		const struct sockaddr_storage *ss = &c->local;

		if (ss->ss_family == AF_INET)
			inet_ntop(AF_INET,
				  &((const struct sockaddr_in *)ss)->sin_addr,
				  addr, sizeof addr);
		else if (ss->ss_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)ss)->sin6_addr,
				  addr, sizeof addr);
		e->adrfam = ss->ss_family == AF_INET6 ? NVMF_ADRFAM_IPV6 :
							NVMF_ADRFAM_IPV4;
	}
	snprintf(e->traddr, sizeof e->traddr, "%s", addr[0] ? addr : l->addr);
}

/* Log 70h: one entry per NVM subsystem per listener (the discovery-only
 * port is not listed); allocated since its size is not bounded. */
static uint8_t *log_discovery(struct tgt_conn *c, size_t min, size_t *size)
{
	const char *hostnqn = c->ctrl->hostnqn;
	struct nvmf_disc_log_hdr *h;
	struct tgt_subsys *s;
	uint64_t n = 0, i = 0;
	uint8_t *buf;
	size_t len;

	/* A host sees the subsystems it may connect to (as nvmet does). */
	pthread_mutex_lock(&g.lock);
	for (int l = 0; l < g.nr_lsn; l++)
		if (!g.lsn[l].discovery_only)
			for (s = g.subsystems; s; s = s->next)
				n += host_allowed(s, hostnqn);
	len = (size_t)(n + 1) * 1024;
	*size = len;
	buf = conn_abuf(c, MAX(len, min));
	if (buf) {
		h = (void *)buf;
		h->genctr = htole64(atomic_load(&g.genctr));
		h->numrec = htole64(n);
		h->recfmt = 0;
		for (int l = 0; l < g.nr_lsn; l++) {
			if (g.lsn[l].discovery_only)
				continue;
			for (s = g.subsystems; s; s = s->next)
				/* i < n: the list may have changed since it
				 * was counted (hosts are under s->lock) */
				if (i < n && host_allowed(s, hostnqn))
					disc_entry((void *)(buf + 1024 * ++i),
						   &g.lsn[l], s->nqn, c);
		}
		h->numrec = htole64(i);
	}
	pthread_mutex_unlock(&g.lock);
	return buf;
}

static void get_log_page(struct tgt_conn *c, const struct nvme_sqe *sqe,
			 uint32_t dlen)
{
	uint32_t cdw10 = le32toh(sqe->cdw10), cdw11 = le32toh(sqe->cdw11);
	uint8_t lid = cdw10 & 0xff;
	bool rae = cdw10 & (1u << 15);
	uint64_t numd = ((uint64_t)(cdw11 & 0xffff) << 16 | cdw10 >> 16) + 1;
	uint64_t len = numd * 4;
	uint64_t lpo = le32toh(sqe->cdw12) | (uint64_t)le32toh(sqe->cdw13) << 32;
	bool disc = c->ctrl->subsys->discovery;
	uint64_t max = tgt_mdts_bytes() ? tgt_mdts_bytes() : 16u << 20;
	size_t size = 0;
	uint8_t *buf;

	if (len != dlen) {
		cmd_done(c, sqe, ST_SGL_LENGTH, 0);
		return;
	}
	if (len > max || (lpo & 3)) {
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	if (disc && lid != NVME_LOG_DISCOVERY) {
		cmd_done(c, sqe, SF_CMD(NVME_SC_INVALID_LOG_PAGE) | DNR, 0);
		return;
	}
	if (lid == NVME_LOG_DISCOVERY) {
		if (!disc) {
			cmd_done(c, sqe, SF_CMD(NVME_SC_INVALID_LOG_PAGE) | DNR, 0);
			return;
		}
		/* room for the window past the end too (zero-filled) */
		buf = log_discovery(c, lpo < max ? lpo + len : len, &size);
		if (!rae) {
			pthread_mutex_lock(&c->ctrl->lock);
			c->ctrl->aen_masked &= ~AEN_BIT_DISC;
			pthread_mutex_unlock(&c->ctrl->lock);
		}
	} else {
		buf = conn_abuf(c, 4096 + len);
		if (buf) {
			switch (lid) {
			case NVME_LOG_ERROR:
				size = log_error(c, buf);
				break;
			case NVME_LOG_SMART:
				size = log_smart(c, buf);
				break;
			case NVME_LOG_FIRMWARE:
				size = log_fw(c, buf);
				break;
			case NVME_LOG_CHANGED_NS:
				size = log_changed_ns(c, buf, rae);
				break;
			case NVME_LOG_CMD_EFFECTS:
				size = log_cmd_effects(buf);
				break;
			default:
				cmd_done(c, sqe,
					 SF_CMD(NVME_SC_INVALID_LOG_PAGE) | DNR, 0);
				return;
			}
			if (lpo <= size) {
				/* shift the window to the start of the buffer */
				memmove(buf, buf + lpo, size - lpo);
				memset(buf + size - lpo, 0, 4096 + len - (size - lpo));
				lpo = 0;
			}
		}
	}
	if (!buf) {
		cmd_done(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0);
		return;
	}
	if (lpo > size) {
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	send_data_done(c, sqe, buf + lpo, (uint32_t)len);
}

/* ---- features ----------------------------------------------------------- */

static uint32_t numq_dw0(uint32_t n)
{
	return (n - 1) << 16 | (n - 1);
}

static void set_features(struct tgt_conn *c, const struct nvme_sqe *sqe)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	uint32_t cdw10 = le32toh(sqe->cdw10), cdw11 = le32toh(sqe->cdw11);
	uint8_t fid = cdw10 & 0xff;
	bool disc = ctrl->subsys->discovery;
	uint64_t res = 0;
	uint16_t st = 0;

	if (cdw10 & (1u << 31)) {
		cmd_done(c, sqe, SF_CMD(NVME_SC_FEATURE_NOT_SAVEABLE) | DNR, 0);
		return;
	}
	pthread_mutex_lock(&ctrl->lock);
	switch (fid) {
	case NVME_FEAT_NUM_QUEUES: {
		uint32_t nsqr = cdw11 & 0xffff, ncqr = cdw11 >> 16;

		if (disc || nsqr == 0xffff || ncqr == 0xffff) {
			st = ST_INVALID_FIELD;
			break;
		}
		/* Granted: min(asked, --max-io-queues), each 0's based. */
		nsqr = MIN(nsqr + 1, opts.max_io_queues);
		ncqr = MIN(ncqr + 1, opts.max_io_queues);
		ctrl->nr_ioq = MIN(nsqr, ncqr);
		res = (ncqr - 1) << 16 | (nsqr - 1);
		break;
	}
	case NVME_FEAT_ASYNC_EVENT:
		ctrl->aec = cdw11;
		break;
	case NVME_FEAT_KATO:
		ctrl->kato_ms = cdw11;
		break;
	case NVME_FEAT_VOLATILE_WC:
		if (disc)
			st = ST_INVALID_FIELD;
		/* Writes always reach the page cache; Flush always syncs. */
		break;
	case NVME_FEAT_HOST_ID:
		/* NVMe-oF: the host ID comes with Connect. */
		st = SF_GEN(NVME_SC_CMD_SEQ_ERROR) | DNR;
		break;
	default:
		st = ST_INVALID_FIELD;
		break;
	}
	pthread_mutex_unlock(&ctrl->lock);
	cmd_done(c, sqe, st, res);
}

static void get_features(struct tgt_conn *c, const struct nvme_sqe *sqe,
			 uint32_t dlen)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	uint32_t cdw10 = le32toh(sqe->cdw10), cdw11 = le32toh(sqe->cdw11);
	uint8_t fid = cdw10 & 0xff, sel = (cdw10 >> 8) & 7;
	bool disc = ctrl->subsys->discovery;
	bool known, changeable = false;
	uint64_t res = 0;

	switch (fid) {
	case NVME_FEAT_ASYNC_EVENT:
	case NVME_FEAT_KATO:
		known = changeable = true;
		break;
	case NVME_FEAT_NUM_QUEUES:
		known = changeable = !disc;
		break;
	case NVME_FEAT_ARBITRATION:
	case NVME_FEAT_POWER_MGMT:
	case NVME_FEAT_TEMP_THRESH:
	case NVME_FEAT_ERR_RECOVERY:
	case NVME_FEAT_VOLATILE_WC:
	case NVME_FEAT_IRQ_COALESCE:
	case NVME_FEAT_WRITE_ATOMIC:
	case NVME_FEAT_HOST_ID:
		known = !disc;
		break;
	default:
		known = false;
	}
	if (!known || sel > 3) {
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	if (sel == 3) { /* supported capabilities: bit 2 changeable */
		cmd_done(c, sqe, 0, changeable ? 0x4 : 0);
		return;
	}
	pthread_mutex_lock(&ctrl->lock);
	switch (fid) {
	case NVME_FEAT_ASYNC_EVENT:
		res = sel == 1 ? 0 : ctrl->aec;
		break;
	case NVME_FEAT_KATO:
		res = sel == 1 ? 0 : ctrl->kato_ms;
		break;
	case NVME_FEAT_NUM_QUEUES:
		res = numq_dw0(sel == 1 || !ctrl->nr_ioq ? opts.max_io_queues :
							   ctrl->nr_ioq);
		break;
	case NVME_FEAT_VOLATILE_WC:
		res = 1;
		break;
	case NVME_FEAT_TEMP_THRESH:
		res = 0x157; /* 70 °C in Kelvin, as nvmet */
		break;
	default:
		res = 0;
	}
	pthread_mutex_unlock(&ctrl->lock);
	if (fid == NVME_FEAT_HOST_ID) {
		/* EXHID (cdw11 bit 0): the 128-bit host identifier */
		uint8_t *buf;

		if (!(cdw11 & 1) || dlen != 16) {
			cmd_done(c, sqe, ST_INVALID_FIELD, 0);
			return;
		}
		buf = conn_abuf(c, 16);
		if (!buf) {
			cmd_done(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0);
			return;
		}
		memcpy(buf, ctrl->hostid, 16);
		send_data_done(c, sqe, buf, 16);
		return;
	}
	cmd_done(c, sqe, 0, res);
}

/* ---- admin dispatch ----------------------------------------------------- */

static void async_event(struct tgt_conn *c, const struct nvme_sqe *sqe)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	bool full;

	pthread_mutex_lock(&ctrl->lock);
	full = ctrl->nr_aer >= TGT_AERL + 1;
	if (!full)
		ctrl->aer_cid[ctrl->nr_aer++] = le16toh(sqe->cid);
	pthread_mutex_unlock(&ctrl->lock);
	if (full) {
		cmd_done(c, sqe, SF_CMD(NVME_SC_AER_LIMIT) | DNR, 0);
		return;
	}
	admin_events(c);
}

void admin_cmd(struct tgt_conn *c, const struct nvme_sqe *sqe,
	       const uint8_t *data, uint32_t dlen)
{
	bool disc = c->ctrl->subsys->discovery;
	uint64_t mdts = tgt_mdts_bytes();

	(void)data;
	if (mdts && dlen > mdts) {
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	switch (sqe->opcode) {
	case NVME_ADMIN_IDENTIFY:
		identify(c, sqe, dlen);
		return;
	case NVME_ADMIN_GET_LOG_PAGE:
		get_log_page(c, sqe, dlen);
		return;
	case NVME_ADMIN_SET_FEATURES:
		set_features(c, sqe);
		return;
	case NVME_ADMIN_GET_FEATURES:
		get_features(c, sqe, dlen);
		return;
	case NVME_ADMIN_ASYNC_EVENT:
		async_event(c, sqe);
		return;
	case NVME_ADMIN_KEEP_ALIVE:
		cmd_done(c, sqe, 0, 0);
		return;
	case NVME_ADMIN_ABORT:
		if (disc)
			break;
		cmd_done(c, sqe, 0, 1); /* dw0 bit 0: command not aborted */
		return;
	}
	cmd_done(c, sqe, ST_INVALID_OPCODE, 0);
}
