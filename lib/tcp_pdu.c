/* SPDX-License-Identifier: MIT */
/*
 * The NVMe/TCP data path of a queue (NVMe/TCP 1.0): connection
 * initialisation (ICReq/ICResp, §3.3), CapsuleCmd building with in-capsule
 * data, R2T → H2CData, C2HData straight into the caller's buffer, the
 * receive state machine with digests, TermReq.  Below: a transport
 * (transport.h), through which every byte goes; above: the queue core
 * (queue.c), which knows commands, not PDUs.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

enum rx_state { RX_HDR, RX_PAD, RX_DATA, RX_DDGST };

/* Data at least this long is received straight into its destination
 * instead of through the staging buffer. */
#define RX_DIRECT_MIN 4096
#ifndef TCP_RX_BUDGET
#define TCP_RX_BUDGET 8 /* completions received before they run (tcp_rx) */
#endif
#define TX_MAX_IOV 64

/* Wait for the transport (set-up only). */
static int wait_io(struct transport *t, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = transport_fd(t), .events = events };
	int n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

/* Receive exactly len bytes before the deadline (set-up only). */
static int recv_all(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	uint8_t *b = buf;
	size_t got = 0;
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (got < len) {
		ssize_t n = transport_recv(t, b + got, len - got);
		uint64_t now;
		int rc;

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n < 0)
			return (int)n;
		now = now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		rc = wait_io(t, POLLIN, (int)((deadline - now) / 1000000ull) + 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Send all of buf (set-up only); the message is recorded on failure. */
static int send_all(struct transport *t, const void *buf, size_t len,
		    int timeout_ms)
{
	const uint8_t *b = buf;
	size_t done = 0;

	while (done < len) {
		struct iovec iov = { (void *)(b + done), len - done };
		ssize_t n = transport_sendv(t, &iov, 1);
		int rc;

		if (n < 0)
			return (int)n;
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		rc = wait_io(t, POLLOUT, timeout_ms);
		if (rc < 0)
			return set_error(-rc, "%s: send: %s", t->peer,
					 strerror(-rc));
	}
	return 0;
}

/* §3.3: ICReq → ICResp, and check what the controller answered. */
static int ic_exchange(struct tcp_conn *c, const struct tcp_connect_params *p)
{
	uint8_t buf[NVME_TCP_IC_HLEN];
	struct pdu_info info;
	struct pdu_error perr;
	int rc;

	pdu_build_icreq(buf, 0, p->hdgst, p->ddgst, p->maxr2t);
	rc = send_all(c->t, buf, sizeof buf, p->timeout_ms);
	if (rc < 0)
		return set_error(-rc, "%s: sending ICReq: %s", c->peer,
				 nvmeof_get_error());
	rc = recv_all(c->t, buf, 8, p->timeout_ms);
	if (rc < 0)
		goto io_err;
	if (pdu_validate_hdr(buf, PDU_FROM_CTRL, NULL, &info, &perr) < 0)
		return set_error(EPROTO, "%s: bad answer to ICReq: %s",
				 c->peer, perr.msg);
	if (info.type == NVME_TCP_C2H_TERM) {
		uint8_t t[NVME_TCP_TERM_MAX_PLEN];

		rc = recv_all(c->t, t + 8, info.plen - 8, p->timeout_ms);
		memcpy(t, buf, 8);
		return set_error(ECONNREFUSED,
				 "%s: controller refused the connection (C2HTermReq: %s)",
				 c->peer,
				 rc < 0 ? "?" : pdu_fes_name(le16_get(t + 8)));
	}
	rc = recv_all(c->t, buf + 8, NVME_TCP_IC_HLEN - 8, p->timeout_ms);
	if (rc < 0)
		goto io_err;
	if (pdu_check_icresp(buf, &perr) < 0) {
		tcp_terminate(c, perr.fes, perr.fei, buf, NVME_TCP_IC_HLEN);
		return set_error(EPROTO, "%s: %s", c->peer, perr.msg);
	}
	/* The controller may only turn on a digest the host asked for. */
	c->hdgst = buf[11] & NVME_TCP_HDGST_ENABLE;
	c->ddgst = buf[11] & NVME_TCP_DDGST_ENABLE;
	if ((c->hdgst && !p->hdgst) || (c->ddgst && !p->ddgst)) {
		tcp_terminate(c, NVME_TCP_FES_INVALID_HDR, 11, buf,
			      NVME_TCP_IC_HLEN);
		return set_error(EPROTO,
				 "%s: ICResp enables a digest the host did not ask for (DGST 0x%02x)",
				 c->peer, buf[11]);
	}
	c->tx_align = ((uint32_t)buf[10] + 1) * 4;
	c->maxh2cdata = le32_get(buf + 12);
	c->rxp.hdgst = c->hdgst;
	c->rxp.ddgst = c->ddgst;
	c->rxp.rx_align = 4; /* we sent HPDA 0 */
	c->rxp.max_data = UINT32_MAX; /* bounded per command by the queue */
	c->rxp.max_incapsule = 0;
	return 0;
io_err:
	if (rc == -ECONNRESET)
		return set_error(ECONNRESET,
				 "%s: connection closed during connection initialization (not an NVMe/TCP controller?)",
				 c->peer);
	if (rc == -ETIMEDOUT)
		return set_error(ETIMEDOUT,
				 "%s: no ICResp within %d ms (not an NVMe/TCP controller?)",
				 c->peer, p->timeout_ms);
	return set_error(-rc, "%s: receiving ICResp: %s", c->peer,
			 strerror(-rc));
}

/* Connect the transport, then ICReq → ICResp (§3.3). */
int tcp_connect(const struct tcp_connect_params *p, struct tcp_conn **out)
{
	struct transport_params tp = {
		.traddr = p->traddr,
		.trsvcid = p->trsvcid,
		.host_iface = p->host_iface,
		.host_traddr = p->host_traddr,
		.timeout_ms = p->timeout_ms,
		.tls = p->tls,
	};
	const struct transport_ops *ops = p->ops ? p->ops : &transport_tcp;
	struct transport *t;
	struct tcp_conn *c;
	int rc;

	rc = ops->connect(&tp, &t);
	if (rc < 0)
		return rc;
	rc = tcp_conn_new(t, &c);
	if (rc < 0) {
		transport_close(t);
		return rc;
	}
	rc = ic_exchange(c, p);
	if (rc < 0) {
		tcp_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

int tcp_conn_new(struct transport *t, struct tcp_conn **out)
{
	struct tcp_conn *c = calloc(1, sizeof *c);

	if (!c || !(c->rbuf = malloc(TCP_RBUF_SIZE))) {
		free(c);
		return set_error(ENOMEM, "out of memory");
	}
	c->t = t;
	snprintf(c->peer, sizeof c->peer, "%s", t->peer);
	*out = c;
	return 0;
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

/* The statistics' bytes read and written are the namespaces' data: the
 * data of I/O commands, not the Connect data every queue sends nor what
 * admin commands carry. */
static bool is_io_data(const struct queue *q, const struct req *r)
{
	return q->qid && r->sqe.opcode != NVME_FABRICS_COMMAND;
}

static uint32_t pdu_wire_len(const struct queue *q, const struct req *r)
{
	return r->txhdr_len + r->tx_data_len +
	       (q->conn->ddgst && r->tx_data_len ? NVME_TCP_DIGEST_LEN : 0);
}

/* Send what is queued, as far as the socket takes it, several PDUs per
 * sendmsg.  Returns 0 or a negative errno (connection failed). */
int tcp_pdu_flush(struct queue *q)
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
		sent = transport_sendv(q->conn->t, iov, n);
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
			if (r->tx_kind == TX_CAPSULE && r->dir == REQ_TO_CTRL &&
			    is_io_data(q, r))
				q->n_written += r->incapsule ? r->len : 0;
			if (r->tx_kind == TX_H2C && is_io_data(q, r))
				q->n_written += r->tx_data_len;
			if (r->tx_kind == TX_H2C && r->h2c_off < r->r2t_end) {
				/* More of this R2T: keep streaming it. */
				build_h2c(q, r);
				r->tx_done = 0;
				continue;
			}
			queue_tx_pop(q);
		}
	}
	return 0;
}

/* Build the CapsuleCmd of r for the current connection. */
void tcp_pdu_prepare(struct queue *q, struct req *r)
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

static int proto_err(struct queue *q, const char *fmt, ...)
	NVMEOF_PRINTF(2, 3);
static int proto_err(struct queue *q, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return set_error(EPROTO, "%s: queue %u: %s", q->conn->peer, q->qid,
			 msg);
}

static int on_hdr(struct queue *q, const struct pdu_info *info,
		  const uint8_t *hdr, uint8_t **dst)
{
	struct req *r;
	uint16_t cid = le16_get(hdr + 8);

	switch (info->type) {
	case NVME_TCP_RSP: {
		struct nvme_cqe cqe;
		uint16_t sf;

		memcpy(&cqe, hdr + 8, sizeof cqe);
		cid = le16toh(cqe.cid);
		r = queue_lookup(q, cid);
		if (!r)
			return proto_err(q, "CapsuleResp for command ID %u, which is not in flight",
					 cid);
		if (r->tx_queued)
			return proto_err(q, "CapsuleResp for command ID %u before the host finished sending it",
					 cid);
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
		if (r->dir == REQ_TO_HOST && is_io_data(q, r))
			q->n_read += r->xfer;
		queue_complete(q, r, 0, sf);
		return 0;
	}
	case NVME_TCP_C2H_DATA: {
		uint32_t datao = le32_get(hdr + 12), datal = le32_get(hdr + 16);

		r = queue_lookup(q, cid);
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

		r = queue_lookup(q, cid);
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
		queue_tx_push(q, r);
		return 0;
	}
	}
	return proto_err(q, "unexpected %s PDU", pdu_type_name(info->type));
}

static int on_data(struct queue *q, const struct pdu_info *info,
		   const uint8_t *hdr, bool ddgst_ok)
{
	uint16_t cid = le16_get(hdr + 8);
	struct req *r = queue_lookup(q, cid);

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
		if (is_io_data(q, r))
			q->n_read += r->xfer;
		q->n_c2h_success++;
		queue_complete(q, r, 0, 0);
	}
	return 0;
}

void tcp_close(struct tcp_conn *c)
{
	if (!c)
		return;
	transport_close(c->t);
	free(c->rbuf);
	free(c);
}

void tcp_terminate(struct tcp_conn *c, uint16_t fes, uint32_t fei,
		   const void *bad_hdr, size_t bad_len)
{
	uint8_t buf[NVME_TCP_TERM_MAX_PLEN];
	size_t n;

	struct iovec iov;

	n = pdu_build_term(buf, NVME_TCP_H2C_TERM, fes, fei, bad_hdr, bad_len);
	iov.iov_base = buf;
	iov.iov_len = n;
	/* Best effort: the connection is finished whatever happens. */
	if (transport_sendv(c->t, &iov, 1) < 0)
		clear_error();
	transport_shutdown(c->t);
}

/* Fill the staging buffer, for want bytes (how much: rx_hint_fill).
 * Returns bytes read, 0 if nothing is pending, or a negative errno
 * (ECONNRESET on an orderly close). */
static int rx_fill(struct tcp_conn *c, uint32_t want)
{
	size_t len;
	ssize_t n;

	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
	len = rx_hint_fill(&c->rxh, TCP_RBUF_SIZE - c->rlen, want);
	n = transport_recv(c->t, c->rbuf + c->rlen, len);
	if (n > 0)
		c->rlen += (uint32_t)n;
	return (int)n;
}

/* Take up to want bytes into dst (dst NULL: skip them).  Large reads with
 * an empty staging buffer go straight to dst.  Returns bytes taken, 0 when
 * nothing is available, or a negative errno. */
static int rx_take(struct tcp_conn *c, uint8_t *dst, uint32_t want)
{
	uint32_t avail = c->rlen - c->rpos;
	int rc;

	if (!avail && dst && want >= RX_DIRECT_MIN) {
		/* zero copy: straight into the caller's buffer */
		return (int)transport_recv(c->t, dst, want);
	}
	if (!avail) {
		rc = rx_fill(c, want);
		if (rc <= 0)
			return rc;
		avail = c->rlen - c->rpos;
	}
	if (want > avail)
		want = avail;
	if (dst) {
		memcpy(dst, c->rbuf + c->rpos, want);
		c->rx_copied += want;
	}
	c->rpos += want;
	return (int)want;
}

static int rx_closed(struct tcp_conn *c, int rc)
{
	if (rc == -ECONNRESET)
		return set_error(ECONNRESET, "%s: the controller closed the connection",
				 c->peer);
	return set_error(-rc, "%s: receive: %s", c->peer, strerror(-rc));
}

static int rx_protocol_error(struct tcp_conn *c, const struct pdu_error *e)
{
	tcp_terminate(c, e->fes, e->fei, c->hdr, c->hdr_got);
	return set_error(EPROTO, "%s: %s", c->peer, e->msg);
}

/* Process what has arrived without blocking.  Returns the number of PDUs
 * completed (≥ 0), or a negative errno when the connection is finished
 * (message recorded). */
static int tcp_rx(struct queue *q)
{
	struct tcp_conn *c = q->conn;
	int done = 0, rc;

	for (;;) {
		switch (c->rstate) {
		case RX_HDR: {
			uint32_t need = c->hdr_got < 8 ? 8 : c->info.hdr_len;

			rc = rx_take(c, c->hdr + c->hdr_got, need - c->hdr_got);
			if (rc < 0)
				return rx_closed(c, rc);
			if (rc == 0)
				return done;
			c->hdr_got += (uint32_t)rc;
			if (c->hdr_got < need)
				continue;
			if (need == 8) {
				struct pdu_error e;

				if (pdu_validate_hdr(c->hdr, PDU_FROM_CTRL,
						     &c->rxp, &c->info, &e) < 0)
					return rx_protocol_error(c, &e);
				if (c->info.hdr_len > 8)
					continue;
			}
			if (c->info.type == NVME_TCP_C2H_TERM) {
				/* Read the rest (the offending header) and
				 * report it; the connection is finished. */
				c->info.hdr_len = c->info.plen;
				if (c->hdr_got < c->info.plen)
					continue;
				transport_shutdown(c->t);
				return set_error(ECONNABORTED,
						 "%s: controller terminated the connection (C2HTermReq: %s, FEI %u)",
						 c->peer,
						 pdu_fes_name(le16_get(c->hdr + 8)),
						 le32_get(c->hdr + 10));
			}
			if (!pdu_hdgst_ok(c->hdr, &c->info)) {
				struct pdu_error e = {
					.fes = NVME_TCP_FES_HDR_DIGEST };

				snprintf(e.msg, sizeof e.msg,
					 "header digest error in %s",
					 pdu_type_name(c->info.type));
				return rx_protocol_error(c, &e);
			}
			c->dst = NULL;
			rc = on_hdr(q, &c->info, c->hdr, &c->dst);
			if (rc < 0) {
				struct pdu_error e = {
					.fes = NVME_TCP_FES_INVALID_HDR };
				tcp_terminate(c, e.fes, 0, c->hdr, c->hdr_got);
				return rc;
			}
			c->hdr_got = 0;
			rx_hint_saw(&c->rxh, c->info.data_len);
			if (!c->info.data_len) {
				done++;
				/* A long burst of answers: let the completions
				 * of this much run before the rest is received
				 * (the caller pumps again before it returns:
				 * see queue_wait). */
				if (++c->rx_completed >= TCP_RX_BUDGET &&
				    q->done_head) {
					c->rx_completed = 0;
					c->rx_more = true;
					return done;
				}
				continue;
			}
			c->skip_left = c->info.pad_len;
			c->dst_got = 0;
			c->crc = 0;
			c->dgst_got = 0;
			c->rstate = RX_PAD;
			continue;
		}
		case RX_PAD:
			if (c->skip_left) {
				rc = rx_take(c, NULL, c->skip_left);
				if (rc < 0)
					return rx_closed(c, rc);
				if (rc == 0)
					return done;
				c->skip_left -= (uint32_t)rc;
				continue;
			}
			c->rstate = RX_DATA;
			continue;
		case RX_DATA: {
			uint32_t left = c->info.data_len - c->dst_got;
			uint8_t *at = c->dst ? c->dst + c->dst_got : NULL;

			if (left) {
				rc = rx_take(c, at, left);
				if (rc < 0)
					return rx_closed(c, rc);
				if (rc == 0)
					return done;
				if (c->ddgst && at)
					c->crc = crc32c(c->crc, at, (size_t)rc);
				c->dst_got += (uint32_t)rc;
				continue;
			}
			c->rstate = RX_DDGST;
			continue;
		}
		case RX_DDGST: {
			bool ok = true;

			if (c->info.ddgst_len) {
				rc = rx_take(c, c->dgst + c->dgst_got,
					     NVME_TCP_DIGEST_LEN - c->dgst_got);
				if (rc < 0)
					return rx_closed(c, rc);
				if (rc == 0)
					return done;
				c->dgst_got += (uint32_t)rc;
				if (c->dgst_got < NVME_TCP_DIGEST_LEN)
					continue;
				ok = !c->dst || c->crc == le32_get(c->dgst);
			}
			c->rstate = RX_HDR;
			rc = on_data(q, &c->info, c->hdr, ok);
			if (rc < 0) {
				tcp_terminate(c, NVME_TCP_FES_INVALID_HDR, 0,
					      c->hdr, c->info.hdr_len);
				return rc;
			}
			done++;
			continue;
		}
		}
	}
}

int tcp_pdu_rx(struct queue *q)
{
	q->conn->rx_more = false;
	return tcp_rx(q);
}
