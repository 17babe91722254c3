/* SPDX-License-Identifier: MIT */
/*
 * A queue pair over one NVMe/TCP connection: command slots (CIDs), capsule
 * building, the R2T → H2CData flow, completions, timeouts.
 *
 * Locking: everything in struct queue is under q->lock.  One thread at a
 * time (the "poller") waits in poll() on the socket with the lock released;
 * the others wait on q->cond.  The poller processes what arrived for every
 * thread and wakes them (leader/follower).  Completion callbacks run with
 * the lock released, so a callback may submit again.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

enum { TX_CAPSULE = 1, TX_H2C = 2 };

#define CID_IDX_BITS 10
#define CID_IDX_MASK ((1u << CID_IDX_BITS) - 1)
#define TX_MAX_IOV 64
#define TIMEOUT_SCAN_NS 250000000ull

/* Commands of a thread that must never wait for a reconnect (the admin
 * thread, which performs it) fail instead of being parked. */
__thread bool queue_tls_no_park;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int queue_create(struct tcp_conn *conn, const struct queue_opts *o,
		 struct queue **out)
{
	struct queue *q = calloc(1, sizeof *q);
	unsigned i;

	if (!q)
		return nvmeof_err(ENOMEM, "out of memory");
	q->conn = conn;
	q->qid = o->qid;
	q->size = o->size;
	q->nr_slots = o->size > 1 ? o->size - 1 : 1;
	if (q->nr_slots > CID_IDX_MASK + 1)
		q->nr_slots = CID_IDX_MASK + 1;
	q->max_incapsule = o->max_incapsule;
	q->io_timeout_ms = o->io_timeout_ms;
	q->busy_poll_ns = o->busy_poll_ns;
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
		return nvmeof_err(e, "cannot create queue: %s", strerror(e));
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

static struct req *lookup(struct queue *q, uint16_t cid)
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

static void tx_push(struct queue *q, struct req *r)
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

static void tx_pop(struct queue *q)
{
	struct req *r = q->tx_head;

	q->tx_head = r->tx_next;
	if (!q->tx_head)
		q->tx_tail = NULL;
	r->tx_next = NULL;
	r->tx_queued = false;
}

/* The next H2CData PDU of the current R2T (§3.6.2.8: each at most
 * MAXH2CDATA; the last one of the R2T carries LAST_PDU). */
static void build_h2c(struct queue *q, struct req *r)
{
	struct tcp_conn *c = q->conn;
	uint32_t len = r->r2t_end - r->h2c_off;

	if (len > c->maxh2cdata)
		len = c->maxh2cdata;
	r->tx_kind = TX_H2C;
	r->txhdr_len = (uint32_t)pdu_build_h2c_data(
		r->txhdr, r->cid, r->ttag, r->h2c_off, len,
		r->h2c_off + len == r->r2t_end, c->hdgst, c->ddgst,
		c->tx_align);
	r->tx_data_off = r->h2c_off;
	r->tx_data_len = len;
	if (c->ddgst)
		pdu_put_digest(r->txdgst, crc32c(0, r->buf + r->h2c_off, len));
	r->h2c_off += len;
}

static uint32_t pdu_wire_len(const struct queue *q, const struct req *r)
{
	return r->txhdr_len + r->tx_data_len +
	       (q->conn->ddgst && r->tx_data_len ? NVME_TCP_DIGEST_LEN : 0);
}

/* Send what is queued, as far as the socket takes it, several PDUs per
 * sendmsg.  Returns 0 or a negative errno (connection failed). */
static int tx_flush(struct queue *q)
{
	while (q->tx_head) {
		struct iovec iov[TX_MAX_IOV];
		int n = 0;
		struct req *r;
		ssize_t sent;

		for (r = q->tx_head; r && n + 3 <= TX_MAX_IOV; r = r->tx_next) {
			uint32_t skip = r->tx_done, dl = r->tx_data_len;
			struct { const uint8_t *p; uint32_t len; } seg[3] = {
				{ r->txhdr, r->txhdr_len },
				/* no data: no pointer arithmetic on NULL */
				{ dl ? r->buf + r->tx_data_off : NULL, dl },
				{ r->txdgst, q->conn->ddgst && dl ?
					     NVME_TCP_DIGEST_LEN : 0 },
			};
			for (int s = 0; s < 3; s++) {
				if (skip >= seg[s].len) {
					skip -= seg[s].len;
					continue;
				}
				iov[n].iov_base = (void *)(seg[s].p + skip);
				iov[n].iov_len = seg[s].len - skip;
				n++;
				skip = 0;
			}
			/* Its next H2CData PDU is built only once this one
			 * has gone: nothing may follow it in this send, or
			 * the bytes sent past it would be counted as part
			 * of that next PDU. */
			if (r->tx_kind == TX_H2C && r->h2c_off < r->r2t_end)
				break;
		}
		sent = tcp_sendv(q->conn, iov, n);
		if (sent < 0)
			return (int)sent;
		if (sent == 0)
			return 0; /* socket full: wait for POLLOUT */
		while (sent > 0 && q->tx_head) {
			uint32_t left;

			r = q->tx_head;
			left = pdu_wire_len(q, r) - r->tx_done;
			if ((size_t)sent < left) {
				r->tx_done += (uint32_t)sent;
				break;
			}
			sent -= left;
			if (r->tx_kind == TX_CAPSULE && r->dir == REQ_TO_CTRL)
				q->n_written += r->incapsule ? r->len : 0;
			if (r->tx_kind == TX_H2C)
				q->n_written += r->tx_data_len;
			if (r->tx_kind == TX_H2C && r->h2c_off < r->r2t_end) {
				/* More of this R2T: keep streaming it. */
				build_h2c(q, r);
				r->tx_done = 0;
				continue;
			}
			tx_pop(q);
		}
	}
	return 0;
}

/* Send what is queued now; if the socket is full, make sure the thread in
 * poll() also waits for POLLOUT (lock held). */
void queue_kick(struct queue *q)
{
	int rc;

	if (!q->tx_head || q->dead || q->down)
		return;
	rc = tx_flush(q);
	if (rc < 0) {
		queue_fail(q, -rc, nvmeof_get_error());
		return;
	}
	if (q->poller && q->tx_head) {
		uint64_t one = 1;
		(void)!write(q->wake_fd, &one, sizeof one);
	}
}

/* Build the CapsuleCmd of r for the current connection. */
static void prepare_capsule(struct queue *q, struct req *r)
{
	struct tcp_conn *c = q->conn;
	struct nvme_sgl_desc *sgl = &r->sqe.dptr;
	uint32_t data = 0;

	r->sqe.cid = htole16(r->cid);
	r->sqe.flags = NVME_CMD_FLAGS_SGL;
	memset(sgl, 0, sizeof *sgl);
	r->incapsule = false;
	r->xfer = 0;
	r->data_success = false;
	r->r2t_off = r->r2t_end = r->h2c_off = 0;
	if (r->dir == REQ_TO_CTRL && r->len && r->len <= q->max_incapsule) {
		/* NVMe/TCP §3.3.1: data in the capsule, SGL offset 0. */
		sgl->type = NVME_SGL_INCAPSULE;
		sgl->length = htole32(r->len);
		r->incapsule = true;
		data = r->len;
	} else {
		/* Transport SGL: data by C2HData, or by R2T → H2CData. */
		sgl->type = NVME_SGL_TRANSPORT;
		sgl->length = htole32(r->dir == REQ_NONE ? 0 : r->len);
	}
	r->tx_kind = TX_CAPSULE;
	r->txhdr_len = (uint32_t)pdu_build_cmd(r->txhdr, &r->sqe, data, c->hdgst,
					       c->ddgst, c->tx_align);
	r->tx_data_off = 0;
	r->tx_data_len = data;
	if (data && c->ddgst)
		pdu_put_digest(r->txdgst, crc32c(0, r->buf, data));
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
	prepare_capsule(q, r);
	tx_push(q, r);
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

static void complete(struct queue *q, struct req *r, int err, uint16_t status)
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
		prepare_capsule(q, r);
		tx_push(q, r);
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

static int proto_err(struct queue *q, const char *fmt, ...)
	NVMEOF_PRINTF(2, 3);
static int proto_err(struct queue *q, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return nvmeof_err(EPROTO, "%s: queue %u: %s", q->conn->peer, q->qid,
			  msg);
}

static int on_hdr(void *ctx, const struct pdu_info *info, const uint8_t *hdr,
		  uint8_t **dst)
{
	struct queue *q = ctx;
	struct req *r;
	uint16_t cid = le16_get(hdr + 8);

	switch (info->type) {
	case NVME_TCP_RSP: {
		struct nvme_cqe cqe;
		uint16_t sf;

		memcpy(&cqe, hdr + 8, sizeof cqe);
		cid = le16toh(cqe.cid);
		r = lookup(q, cid);
		if (!r)
			return proto_err(q, "CapsuleResp for command ID %u, which is not in flight",
					 cid);
		if (r->tx_queued)
			return proto_err(q, "CapsuleResp for command ID %u before the host finished sending it",
					 cid);
		q->sqhd = le16toh(cqe.sqhd);
		r->dw0 = le32toh(cqe.dw0);
		r->dw1 = le32toh(cqe.dw1);
		sf = (uint16_t)(le16toh(cqe.status) >> 1);
		if (!sf && r->dir == REQ_TO_HOST && r->xfer != r->len) {
			/* Success without all the data: never hand the
			 * caller a buffer with holes. */
			r->err = -EIO;
			r->errmsg = "the controller completed a read without sending all its data";
		}
		if (!sf && r->dir == REQ_TO_CTRL && !r->incapsule &&
		    r->xfer != r->len) {
			/* It cannot have written what it never asked for. */
			r->err = -EIO;
			r->errmsg = "the controller completed a write without asking for all its data";
		}
		if (r->dir == REQ_TO_HOST)
			q->n_read += r->xfer;
		complete(q, r, 0, sf);
		return 0;
	}
	case NVME_TCP_C2H_DATA: {
		uint32_t datao = le32_get(hdr + 12), datal = le32_get(hdr + 16);

		r = lookup(q, cid);
		if (!r)
			return proto_err(q, "C2HData for command ID %u, which is not in flight",
					 cid);
		if (r->dir != REQ_TO_HOST)
			return proto_err(q, "C2HData for command ID %u, which reads no data",
					 cid);
		if (datal != info->data_len)
			return proto_err(q, "C2HData DATAL %u but the PDU carries %u bytes",
					 datal, info->data_len);
		if (datao != r->xfer)
			return proto_err(q, "C2HData for command ID %u at offset %u, expected %u (overlapping or missing data)",
					 cid, datao, r->xfer);
		if ((uint64_t)datao + datal > r->len)
			return proto_err(q, "C2HData for command ID %u ends at %" PRIu64 ", beyond its %u bytes",
					 cid, (uint64_t)datao + datal, r->len);
		if ((info->flags & NVME_TCP_F_DATA_SUCCESS) &&
		    !(info->flags & NVME_TCP_F_DATA_LAST))
			return proto_err(q, "C2HData with SUCCESS but not LAST_PDU");
		*dst = r->buf + datao;
		return 0;
	}
	case NVME_TCP_R2T: {
		uint16_t ttag = le16_get(hdr + 10);
		uint32_t r2to = le32_get(hdr + 12), r2tl = le32_get(hdr + 16);

		r = lookup(q, cid);
		if (!r)
			return proto_err(q, "R2T for command ID %u, which is not in flight",
					 cid);
		if (r->dir != REQ_TO_CTRL || r->incapsule)
			return proto_err(q, "R2T for command ID %u, which has no data to send by R2T",
					 cid);
		if (r->tx_queued)
			return proto_err(q, "R2T for command ID %u while a previous R2T is still being served (more than MAXR2T)",
					 cid);
		if (!r2tl || r2to != r->xfer ||
		    (uint64_t)r2to + r2tl > r->len)
			return proto_err(q, "R2T for command ID %u asks for %u bytes at offset %u; the write has %u bytes, %u already sent",
					 cid, r2tl, r2to, r->len, r->xfer);
		r->ttag = ttag;
		r->r2t_off = r2to;
		r->r2t_end = r2to + r2tl;
		r->h2c_off = r2to;
		r->xfer = r->r2t_end;
		build_h2c(q, r);
		tx_push(q, r);
		return 0;
	}
	}
	return proto_err(q, "unexpected %s PDU", pdu_type_name(info->type));
}

static int on_data(void *ctx, const struct pdu_info *info, const uint8_t *hdr,
		   bool ddgst_ok)
{
	struct queue *q = ctx;
	uint16_t cid = le16_get(hdr + 8);
	struct req *r = lookup(q, cid);

	if (!r) /* cannot happen: checked in on_hdr */
		return proto_err(q, "data for command ID %u vanished", cid);
	r->xfer += info->data_len;
	if (!ddgst_ok && !r->err) {
		/* The data in the buffer is wrong: the command fails. */
		r->err = -EIO;
		r->errmsg = "data digest error in C2HData";
		r->ddgst_bad = true;
	}
	if (info->flags & NVME_TCP_F_DATA_SUCCESS) {
		if (r->xfer != r->len)
			return proto_err(q, "C2HData with SUCCESS for command ID %u after %u of %u bytes",
					 cid, r->xfer, r->len);
		q->n_read += r->xfer;
		q->n_c2h_success++;
		complete(q, r, 0, 0);
	}
	return 0;
}

static const struct tcp_rx_ops rx_ops = { .on_hdr = on_hdr, .on_data = on_data };

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
	if (q->conn && q->conn->fd >= 0)
		shutdown(q->conn->fd, SHUT_RDWR);
	while (q->tx_head)
		tx_pop(q);
	for (i = 0; i < q->nr_slots; i++) {
		struct req *r = &q->slots[i];

		if (!r->busy || !r->in_flight)
			continue;
		if (r->timeouts >= MAX_TIMEOUTS) {
			r->errmsg = "the command outlived the I/O timeout on 5 associations; given up";
			complete(q, r, -ETIMEDOUT, 0);
		} else if (r->no_park) {
			complete(q, r, -q->down_err, 0);
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
	if (q->conn->fd >= 0)
		shutdown(q->conn->fd, SHUT_RDWR);
	while (q->tx_head)
		tx_pop(q);
	for (i = 0; i < q->nr_slots; i++) {
		struct req *r = &q->slots[i];

		if (r->busy && r->in_flight)
			complete(q, r, -q->dead, 0);
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
	if (q->conn && q->conn->fd >= 0)
		shutdown(q->conn->fd, SHUT_RDWR);
	while (q->tx_head)
		tx_pop(q);
	for (i = 0; i < q->nr_slots; i++) {
		struct req *r = &q->slots[i];

		if (r->busy && r->in_flight) {
			r->parked = false;
			complete(q, r, -err, 0);
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
			complete(q, r, -err, 0);
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
		prepare_capsule(q, oldest);
		tx_push(q, oldest);
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
	struct req *r = lookup(q, cid);
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
	rc = tcp_rx(q->conn, &rx_ops, q);
	if (rc < 0) {
		queue_fail(q, -rc, nvmeof_get_error());
		return;
	}
	rc = tx_flush(q);
	if (rc < 0)
		queue_fail(q, -rc, nvmeof_get_error());
}

/* After this many spins in a row found nothing (the controller answers
 * more slowly than the spin lasts), sleep at once for the next
 * SPIN_BACKOFF waits, then try spinning again. */
#define SPIN_MISS_LIMIT 8
#define SPIN_BACKOFF 64
/* A sched_yield() in the spin that returns this late ran another thread
 * for a time slice: this CPU has other work and will not go idle (and
 * halt) meanwhile.  (Shorter turns are other queues' threads doing their
 * completions: spinning through them costs less than sleeping.) */
#define SPIN_YIELD_BUSY_NS 200000ull

/* How long the poller may spin before it sleeps (lock held): only with
 * commands in flight (something is coming), never beyond the caller's
 * deadline, and not while the spins keep missing. */
static uint64_t spin_budget(struct queue *q, uint64_t now, uint64_t deadline)
{
	if (!q->busy_poll_ns || !q->inflight || now >= deadline)
		return 0;
	if (q->spin_skip) {
		q->spin_skip--;
		return 0;
	}
	return MIN((uint64_t)q->busy_poll_ns, deadline - now);
}

/* Check pfd without sleeping until something is ready or until_ns (lock
 * released).  sched_yield() between looks lets another thread that shares
 * this CPU run (another queue's thread, the application); when one did
 * (the yield came back late), the CPU has other work: *busy is set and the
 * spin ends.  Returns poll()'s result: 0 when the time ran out. */
static int spin_poll(struct pollfd *pfd, nfds_t n, uint64_t until_ns,
		     bool *busy)
{
	for (;;) {
		int r = poll(pfd, n, 0);
		uint64_t now = now_ns();

		if (r != 0 || now >= until_ns)
			return r;
		sched_yield();
		if (now_ns() - now > SPIN_YIELD_BUSY_NS) {
			*busy = true;
			return 0;
		}
	}
}

/* After a spin: misses in a row (a slow controller), or a CPU that ran
 * another thread for a time slice while we yielded (it has other work and
 * will not go idle; each further yield would hand it another slice while
 * our completions wait), make the next SPIN_BACKOFF waits sleep at once:
 * a completion then wakes the thread, which preempts the other work.  A
 * spin cut short that way is no miss. */
static void spin_account(struct queue *q, bool hit, bool busy)
{
	if (busy) {
		q->spin_misses = 0;
		q->spin_skip = SPIN_BACKOFF;
	} else if (hit) {
		q->spin_misses = 0;
	} else if (++q->spin_misses >= SPIN_MISS_LIMIT) {
		q->spin_misses = 0;
		q->spin_skip = SPIN_BACKOFF;
	}
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
		if (pred(arg))
			return 0;
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
				{ .fd = q->conn->fd, .events = POLLIN },
				{ .fd = q->wake_fd, .events = POLLIN },
			};
			uint64_t wait_ns = deadline - now;
			uint64_t spin = spin_budget(q, now, deadline);
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
				n = spin_poll(pfd, 2, now + spin, &busy);
			spun = n;
			if (n == 0 && tmo != 0)
				n = poll(pfd, 2, tmo);
			pthread_mutex_lock(&q->lock);
			q->poller = false;
			if (spin && (spun == 0 || pfd[0].revents))
				spin_account(q, spun > 0, busy);
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
	return nvmeof_err(q->dead, "association failed: %s", q->dead_msg);
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
			rc = nvmeof_err(-rc, "no free command slot: %s",
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
			rc = nvmeof_err(-s.err, "%s: %s", q->conn->peer,
					s.errmsg);
		else if (q->dead)
			rc = queue_dead_err(q);
		else
			rc = nvmeof_err(-s.err, "%s", strerror(-s.err));
	} else if (s.status) {
		rc = nvmeof_err_status(s.status, "%s: opcode 0x%02x failed",
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
