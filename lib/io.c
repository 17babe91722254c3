/* SPDX-License-Identifier: MIT */
/*
 * NVM I/O: Read, Write, Flush, Write Zeroes, Dataset Management (NVMe NVM
 * Command Set 1.0 §3).  Each call goes to the calling thread's I/O queue;
 * a request larger than one command may carry (MDTS, 16-bit NLB) is split
 * and completes when every part has.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

/* A request split into several commands. */
struct io_parent {
	nvmeof_cb cb;
	void *arg;
	int remaining;
	int err;
	uint16_t status;
	const char *errmsg; /* why err, when the queue said */
	const char **why;   /* where the caller wants errmsg (sync calls) */
	void *owned; /* freed with the parent (DSM ranges) */
};

/* The synchronous calls below keep the queue's reason for a failed command
 * (r->errmsg: a data digest error, a read completed without its data) so
 * that the caller's message says it, not just strerror(EIO). */
struct sync_io {
	bool done;
	int err;
	uint16_t status;
	const char *errmsg;
};

static int status_err(uint16_t status)
{
	return status ? -status_errno(status) : 0;
}

static void finish_parent(struct io_parent *p)
{
	if (p->why && p->err && p->errmsg)
		*p->why = p->errmsg;
	p->cb(p->arg, p->err, p->status);
	free(p->owned);
	free(p);
}

static void io_done(struct req *r, int err, uint16_t status)
{
	struct io_parent *p = r->arg2;

	if (!err)
		err = status_err(status);
	if (!p) {
		if (r->uwhy && err && r->errmsg)
			*r->uwhy = r->errmsg;
		r->ucb(r->uarg, err, status);
		return;
	}
	if (err) {
		/* The first failure is what the caller sees. */
		int zero = 0;

		if (__atomic_compare_exchange_n(&p->err, &zero, err, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			p->status = status;
			p->errmsg = r->errmsg;
		}
	}
	if (__atomic_sub_fetch(&p->remaining, 1, __ATOMIC_ACQ_REL) == 0)
		finish_parent(p);
}

struct part {
	uint8_t opcode;
	uint64_t slba;
	uint32_t nlb;
	uint32_t cdw12_flags;
	uint32_t cdw11;
	uint8_t *buf;
	uint32_t len;
	enum req_dir dir;
};

/* Submit n parts, all belonging to one caller request. */
static int submit_parts(struct queue *q, uint32_t nsid, unsigned n,
			struct part *(*next)(void *, unsigned), void *nctx,
			nvmeof_cb cb, void *arg, const char **why, void *owned)
{
	struct io_parent *p = NULL;
	unsigned i;
	int rc = 0;

	if (n > 1 || owned) {
		p = malloc(sizeof *p);
		if (!p) {
			free(owned);
			return set_error(ENOMEM, "out of memory");
		}
		p->cb = cb;
		p->arg = arg;
		p->remaining = (int)n;
		p->err = 0;
		p->status = 0;
		p->errmsg = NULL;
		p->why = why;
		p->owned = owned;
	}
	pthread_mutex_lock(&q->lock);
	for (i = 0; i < n; i++) {
		struct part *pt = next(nctx, i);
		struct req *r = queue_get_req_wait(q, -1, &rc);

		if (!r) {
			/* The queue died: the parts not sent fail too. */
			unsigned left = n - i;

			rc = queue_dead_err(q);
			if (!p) {
				pthread_mutex_unlock(&q->lock);
				return rc;
			}
			__atomic_compare_exchange_n(&p->err, &(int){ 0 }, rc,
						    false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
			if (i == 0) {
				pthread_mutex_unlock(&q->lock);
				free(p->owned);
				free(p);
				return rc;
			}
			if (__atomic_sub_fetch(&p->remaining, (int)left,
					       __ATOMIC_ACQ_REL) == 0) {
				pthread_mutex_unlock(&q->lock);
				finish_parent(p);
				return 0;
			}
			break;
		}
		memset(&r->sqe, 0, sizeof r->sqe);
		r->sqe.opcode = pt->opcode;
		r->sqe.nsid = htole32(nsid);
		if (pt->opcode != NVME_NVM_FLUSH && pt->opcode != NVME_NVM_DSM) {
			r->sqe.cdw10 = htole32((uint32_t)pt->slba);
			r->sqe.cdw11 = htole32((uint32_t)(pt->slba >> 32));
			r->sqe.cdw12 = htole32((pt->nlb - 1) | pt->cdw12_flags);
		} else if (pt->opcode == NVME_NVM_DSM) {
			r->sqe.cdw10 = htole32(pt->nlb - 1); /* NR, 0's based */
			r->sqe.cdw11 = htole32(pt->cdw11);
		}
		r->buf = pt->buf;
		r->len = pt->len;
		r->dir = pt->len ? pt->dir : REQ_NONE;
		r->done = io_done;
		r->arg2 = p;
		r->ucb = cb;
		r->uarg = arg;
		r->uwhy = why;
		queue_submit(q, r);
	}
	pthread_mutex_unlock(&q->lock);
	return 0;
}

struct rw_ctx {
	struct part pt;
	uint8_t opcode;
	uint64_t slba;
	uint32_t nlb, max_nlb, shift, flags;
	uint8_t *buf;
	enum req_dir dir;
	bool has_data;
};

static struct part *rw_next(void *arg, unsigned i)
{
	struct rw_ctx *x = arg;
	uint64_t off = (uint64_t)i * x->max_nlb;
	uint32_t nlb = (uint32_t)MIN((uint64_t)x->max_nlb, x->nlb - off);

	x->pt.opcode = x->opcode;
	x->pt.slba = x->slba + off;
	x->pt.nlb = nlb;
	x->pt.cdw12_flags = x->flags;
	x->pt.buf = x->has_data ? x->buf + (off << x->shift) : NULL;
	x->pt.len = x->has_data ? nlb << x->shift : 0;
	x->pt.dir = x->dir;
	return &x->pt;
}

static int submit_rw(struct nvmeof_ctrl *c, uint8_t opcode, uint32_t nsid,
		     uint64_t slba, uint32_t nlb, void *buf, uint32_t flags,
		     nvmeof_cb cb, void *arg, const char **why)
{
	struct rw_ctx x = { .opcode = opcode, .slba = slba, .nlb = nlb,
			    .flags = flags, .buf = buf };
	struct queue *q;
	unsigned n;
	int rc;

	if (!nlb)
		return set_error(EINVAL, "zero blocks asked for");
	if (slba + nlb < slba)
		return set_error(EINVAL, "LBA range wraps around");
	q = ctrl_thread_queue(c);
	if (!q)
		return -nvmeof_get_errno();
	rc = ctrl_lba_shift(c, nsid, &x.shift);
	if (rc < 0)
		return rc;
	x.has_data = opcode == NVME_NVM_READ || opcode == NVME_NVM_WRITE;
	x.dir = opcode == NVME_NVM_READ ? REQ_TO_HOST : REQ_TO_CTRL;
	if (x.has_data) {
		if (((uint64_t)nlb << x.shift) > UINT32_MAX * 4ull)
			return set_error(EINVAL, "%u blocks is too large a request",
					 nlb);
		x.max_nlb = ctrl_max_cmd_bytes(c, x.shift) >> x.shift;
	} else {
		x.max_nlb = 65536; /* NLB field width */
	}
	if (!x.max_nlb)
		x.max_nlb = 1;
	n = (unsigned)((nlb + (uint64_t)x.max_nlb - 1) / x.max_nlb);
	return submit_parts(q, nsid, n, rw_next, &x, cb, arg, why, NULL);
}

int nvmeof_submit_read(struct nvmeof_ctrl *c, uint32_t nsid, uint64_t slba,
		       uint32_t nlb, void *buf, nvmeof_cb cb, void *arg)
{
	return submit_rw(c, NVME_NVM_READ, nsid, slba, nlb, buf, 0, cb, arg,
			 NULL);
}

int nvmeof_submit_write(struct nvmeof_ctrl *c, uint32_t nsid, uint64_t slba,
			uint32_t nlb, const void *buf, bool fua, nvmeof_cb cb,
			void *arg)
{
	return submit_rw(c, NVME_NVM_WRITE, nsid, slba, nlb, (void *)buf,
			 fua ? NVME_RW_FUA : 0, cb, arg, NULL);
}

int nvmeof_submit_write_zeroes(struct nvmeof_ctrl *c, uint32_t nsid,
			       uint64_t slba, uint32_t nlb, bool deallocate,
			       nvmeof_cb cb, void *arg)
{
	return submit_rw(c, NVME_NVM_WRITE_ZEROES, nsid, slba, nlb, NULL,
			 deallocate ? NVME_WZ_DEAC : 0, cb, arg, NULL);
}

static struct part *one_next(void *arg, unsigned i)
{
	(void)i;
	return arg;
}

static int submit_flush(struct nvmeof_ctrl *c, uint32_t nsid, nvmeof_cb cb,
			void *arg, const char **why)
{
	struct part pt = { .opcode = NVME_NVM_FLUSH };
	struct queue *q = ctrl_thread_queue(c);

	if (!q)
		return -nvmeof_get_errno();
	return submit_parts(q, nsid, 1, one_next, &pt, cb, arg, why, NULL);
}

int nvmeof_submit_flush(struct nvmeof_ctrl *c, uint32_t nsid, nvmeof_cb cb,
			void *arg)
{
	return submit_flush(c, nsid, cb, arg, NULL);
}

static int submit_dsm(struct nvmeof_ctrl *c, uint32_t nsid,
		      const struct nvmeof_range *ranges, unsigned nr,
		      nvmeof_cb cb, void *arg, const char **why)
{
	struct part pt = { .opcode = NVME_NVM_DSM, .cdw11 = NVME_DSM_AD,
			   .dir = REQ_TO_CTRL };
	struct nvme_dsm_range *d;
	struct queue *q;
	unsigned i;

	if (!nr || nr > NVME_DSM_MAX_RANGES)
		return set_error(EINVAL, "%u ranges: Dataset Management takes 1..256",
				 nr);
	q = ctrl_thread_queue(c);
	if (!q)
		return -nvmeof_get_errno();
	d = calloc(nr, sizeof *d);
	if (!d)
		return set_error(ENOMEM, "out of memory");
	for (i = 0; i < nr; i++) {
		d[i].nlb = htole32(ranges[i].nlb);
		d[i].slba = htole64(ranges[i].slba);
	}
	pt.nlb = nr;
	pt.buf = (uint8_t *)d;
	pt.len = nr * (uint32_t)sizeof *d;
	/* The range buffer lives until the completion: owned by the parent. */
	return submit_parts(q, nsid, 1, one_next, &pt, cb, arg, why, d);
}

int nvmeof_submit_deallocate(struct nvmeof_ctrl *c, uint32_t nsid,
			     const struct nvmeof_range *ranges, unsigned nr,
			     nvmeof_cb cb, void *arg)
{
	return submit_dsm(c, nsid, ranges, nr, cb, arg, NULL);
}

/* ---- synchronous calls ---------------------------------------------------- */

static void sync_cb(void *arg, int err, uint16_t status)
{
	struct sync_io *s = arg;

	s->err = err;
	s->status = status;
	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
}

static bool sync_done(void *arg)
{
	struct sync_io *s = arg;

	return __atomic_load_n(&s->done, __ATOMIC_ACQUIRE);
}

static int sync_wait(struct nvmeof_ctrl *c, struct sync_io *s, int rc,
		     const char *what, uint32_t nsid, uint64_t slba,
		     uint32_t nlb)
{
	struct queue *q;

	if (rc < 0)
		return rc;
	q = ctrl_thread_queue(c);
	pthread_mutex_lock(&q->lock);
	while (!sync_done(s))
		(void)queue_wait(q, sync_done, s, -1);
	if (s->status)
		rc = set_error_status_cmdset(s->status, CMDSET_NVM,
					     "%s of %u blocks at LBA %" PRIu64 " on namespace %u",
					     what, nlb, slba, nsid);
	else if (s->err && q->dead)
		rc = queue_dead_err(q);
	else if (s->err && s->errmsg)
		rc = set_error(-s->err, "%s of %u blocks at LBA %" PRIu64 " on namespace %u: %s: %s",
			       what, nlb, slba, nsid, q->conn->peer, s->errmsg);
	else if (s->err)
		rc = set_error(-s->err, "%s of %u blocks at LBA %" PRIu64 " on namespace %u: %s",
			       what, nlb, slba, nsid, strerror(-s->err));
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int nvmeof_read(struct nvmeof_ctrl *c, uint32_t nsid, uint64_t slba,
		uint32_t nlb, void *buf)
{
	struct sync_io s = { 0 };

	return sync_wait(c, &s,
			 submit_rw(c, NVME_NVM_READ, nsid, slba, nlb, buf, 0,
				   sync_cb, &s, &s.errmsg),
			 "read", nsid, slba, nlb);
}

int nvmeof_write(struct nvmeof_ctrl *c, uint32_t nsid, uint64_t slba,
		 uint32_t nlb, const void *buf, bool fua)
{
	struct sync_io s = { 0 };

	return sync_wait(c, &s,
			 submit_rw(c, NVME_NVM_WRITE, nsid, slba, nlb,
				   (void *)buf, fua ? NVME_RW_FUA : 0, sync_cb,
				   &s, &s.errmsg),
			 "write", nsid, slba, nlb);
}

int nvmeof_flush(struct nvmeof_ctrl *c, uint32_t nsid)
{
	struct sync_io s = { 0 };

	return sync_wait(c, &s, submit_flush(c, nsid, sync_cb, &s, &s.errmsg),
			 "flush", nsid, 0, 0);
}

int nvmeof_write_zeroes(struct nvmeof_ctrl *c, uint32_t nsid, uint64_t slba,
			uint32_t nlb, bool deallocate)
{
	struct sync_io s = { 0 };

	return sync_wait(c, &s,
			 submit_rw(c, NVME_NVM_WRITE_ZEROES, nsid, slba, nlb,
				   NULL, deallocate ? NVME_WZ_DEAC : 0, sync_cb,
				   &s, &s.errmsg),
			 "write zeroes", nsid, slba, nlb);
}

int nvmeof_deallocate(struct nvmeof_ctrl *c, uint32_t nsid,
		      const struct nvmeof_range *ranges, unsigned nr)
{
	struct sync_io s = { 0 };

	return sync_wait(c, &s,
			 submit_dsm(c, nsid, ranges, nr, sync_cb, &s,
				    &s.errmsg),
			 "deallocate", nsid, nr ? ranges[0].slba : 0,
			 nr ? ranges[0].nlb : 0);
}

/* ---- a raw I/O command ---------------------------------------------------- */

/* One command as the caller built it, on the calling thread's I/O queue:
 * the queue sets CID and the data pointer; opcode, NSID and CDWs go as given.
 * It is never split, so its data must fit in one command (MDTS). */
int nvmeof_io_cmd(struct nvmeof_ctrl *c, const void *sqe_in, void *buf,
		  size_t len, bool write, uint32_t *result)
{
	struct nvme_sqe sqe;
	struct queue *q;
	uint32_t max;
	int rc;

	if (!sqe_in)
		return set_error(EINVAL, "no command given");
	if (len && !buf)
		return set_error(EINVAL, "%zu data bytes but no buffer", len);
	memcpy(&sqe, sqe_in, sizeof sqe);
	/* Shift 16: the 16-bit NLB bound of Read/Write does not apply here,
	 * what remains is MDTS (or the library's cap when MDTS is 0). */
	max = ctrl_max_cmd_bytes(c, 16);
	if (len > max)
		return set_error(EMSGSIZE,
				 "I/O command 0x%02x: %zu data bytes exceed the %u bytes one command may carry (MDTS)",
				 sqe.opcode, len, max);
	q = ctrl_thread_queue(c);
	if (!q)
		return -nvmeof_get_errno();
	rc = queue_sync_cmd(q, &sqe, buf, (uint32_t)len,
			    write ? REQ_TO_CTRL : REQ_TO_HOST, result, NULL,
			    ctrl_admin_timeout(c));
	if (rc < 0 && nvmeof_last_status())
		/* The NVM command set's names for its own status codes. */
		rc = set_error_status_cmdset(nvmeof_last_status(), CMDSET_NVM,
					     "%s: I/O command 0x%02x on namespace %u failed",
					     q->conn->peer, sqe.opcode,
					     le32toh(sqe.nsid));
	return rc;
}

/* ---- polling -------------------------------------------------------------- */

struct poll_ctx {
	struct queue *q;
	uint64_t start;
};

static bool any_done(void *arg)
{
	struct poll_ctx *p = arg;

	return p->q->n_callbacks != p->start;
}

int nvmeof_poll(struct nvmeof_ctrl *c, int timeout_ms)
{
	struct queue *q = ctrl_thread_queue(c);
	struct poll_ctx p;
	int rc;

	if (!q)
		return -nvmeof_get_errno();
	pthread_mutex_lock(&q->lock);
	p.q = q;
	p.start = q->n_callbacks;
	rc = queue_wait(q, any_done, &p, timeout_ms);
	if (rc == 0 || rc == -ETIMEDOUT)
		rc = (int)(q->n_callbacks - p.start);
	else
		rc = queue_dead_err(q);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void nvmeof_plug(struct nvmeof_ctrl *c)
{
	struct queue *q = ctrl_thread_queue(c);

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->plugged++;
	pthread_mutex_unlock(&q->lock);
}

int nvmeof_unplug(struct nvmeof_ctrl *c)
{
	struct queue *q = ctrl_thread_queue(c);
	int rc = 0;

	if (!q)
		return -nvmeof_get_errno();
	pthread_mutex_lock(&q->lock);
	if (q->plugged > 0 && --q->plugged == 0)
		queue_kick(q);
	if (q->dead)
		rc = queue_dead_err(q);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int nvmeof_inflight(struct nvmeof_ctrl *c)
{
	struct queue *q = ctrl_thread_queue(c);
	int n;

	if (!q)
		return -nvmeof_get_errno();
	pthread_mutex_lock(&q->lock);
	n = q->inflight;
	pthread_mutex_unlock(&q->lock);
	return n;
}

int nvmeof_poll_fd(struct nvmeof_ctrl *c)
{
	struct queue *q = ctrl_thread_queue(c);
	int fd;

	if (!q)
		return -nvmeof_get_errno();
	pthread_mutex_lock(&q->lock);
	fd = q->down || q->dead ? -1 : transport_fd(q->conn->t);
	pthread_mutex_unlock(&q->lock);
	return fd;
}

short nvmeof_poll_events(struct nvmeof_ctrl *c)
{
	struct queue *q = ctrl_thread_queue(c);
	short ev = 0;

	if (!q)
		return 0;
	pthread_mutex_lock(&q->lock);
	if (!q->down && !q->dead) {
		ev = POLLIN;
		if (q->tx_head)
			ev |= POLLOUT; /* the socket did not take everything */
	}
	pthread_mutex_unlock(&q->lock);
	return ev;
}
