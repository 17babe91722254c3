/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target controllers (associations): creation and lookup, the
 * controller state (CC/CSTS, keep-alive, error log, statistics), the end
 * of an association, and asynchronous events.
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

/* ---- controllers -------------------------------------------------------- */

bool ctrl_ready(struct tgt_ctrl *ctrl)
{
	return __atomic_load_n(&ctrl->csts, __ATOMIC_RELAXED) & NVME_CSTS_RDY;
}

void ctrl_set_csts(struct tgt_ctrl *ctrl, uint32_t v)
{
	__atomic_store_n(&ctrl->csts, v, __ATOMIC_RELAXED);
}

struct tgt_ctrl *ctrl_new(struct tgt_subsys *s, const char *hostnqn,
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
	atomic_store(&ctrl->last_rx_ms, tgt_now_ms());
	/* Asynchronous events the controller can report are on until the
	 * host says otherwise with Set Features (AEC). */
	ctrl->aec = s->discovery ? NVME_AEC_DISC_CHANGE :
				   NVME_AEC_NS_ATTR | NVME_AEC_ANA;
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
struct tgt_ctrl *ctrl_find(struct tgt_subsys *s, uint16_t cntlid,
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
		stats_add(&ctrl->subsys->ended, &ctrl->closed);
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
		ctrl_set_csts(ctrl, ctrl->csts & ~NVME_CSTS_RDY);
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
	/* Authenticating (DH-HMAC-CHAP): the host may compute for long
	 * without a word (ffdhe8192 on a slow CPU), so no keep-alive
	 * deadline yet: --login-timeout from the accept bounds it instead. */
	if (c->auth_pending) {
		now = tgt_now_ms();
		deadline = c->accepted_ms + opts.login_ms;
		if (now >= deadline) {
			warnx("%s: association %u: host %s not authenticated within %u s of connecting; closing",
			      c->peer, ctrl->cntlid, ctrl->hostnqn,
			      opts.login_ms / 1000);
			ctrl_kill(ctrl, "no authentication in time");
			return -2;
		}
		return (int)MIN(deadline - now, (uint64_t)INT_MAX);
	}
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
	now = tgt_now_ms();
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

/* An ANA group's state changed on listener l (under g.lock): an ANA
 * Change notice to the association if its admin queue came in on l, unless
 * one is waiting for the host to read log 0Ch.  1 if one was queued. */
int ctrl_ana_changed(struct tgt_ctrl *ctrl, const struct tgt_listener *l)
{
	int sent = 0;

	pthread_mutex_lock(&ctrl->lock);
	if (!ctrl->dead && ctrl->admin && ctrl->admin->lsn == l &&
	    (ctrl->aec & NVME_AEC_ANA) && !(ctrl->aen_masked & AEN_BIT_ANA)) {
		ctrl->aen_masked |= AEN_BIT_ANA;
		queue_event(ctrl, NVME_AER_NOTICE |
					  NVME_AER_NOTICE_ANA << 8 |
					  (uint32_t)NVME_LOG_ANA << 16);
		sent = 1;
	}
	pthread_mutex_unlock(&ctrl->lock);
	return sent;
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

