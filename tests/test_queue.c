/* SPDX-License-Identifier: MIT */
/*
 * The queue core (lib/queue.c) and the NVMe/TCP data path (lib/tcp_pdu.c)
 * against a scripted controller on the other end of a socketpair: the test
 * reads what the host sends and writes PDUs back, one step at a time, in
 * one thread.  Reads by C2HData into the caller's buffer, writes in the
 * capsule and by R2T -> H2CData within MAXH2CDATA, commands parked when
 * the connection goes and sent again on a new one, the I/O timeout, and
 * protocol errors answered with an H2CTermReq.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "host.h"

struct peer {
	int fd;                 /* the controller's end */
};

struct done {
	int n, err;
	uint16_t status;
	const char *errmsg;
};

static void on_done(struct req *r, int err, uint16_t status)
{
	struct done *d = r->arg;

	d->n++;
	d->err = err;
	d->status = status;
	d->errmsg = r->errmsg;
}

static bool is_done(void *arg)
{
	return ((struct done *)arg)->n > 0;
}

/* A connection as ICReq/ICResp leaves it: no digests, CPDA 0. */
static struct tcp_conn *conn_pair(struct peer *p, uint32_t maxh2cdata)
{
	struct transport *t;
	struct tcp_conn *c;
	struct timeval tv = { 5, 0 };
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	cr_assert_eq(transport_tcp_from_fd(sv[0], "peer", &t), 0);
	cr_assert_eq(tcp_conn_new(t, &c), 0);
	c->tx_align = 4;
	c->maxh2cdata = maxh2cdata;
	c->rxp.rx_align = 4;
	c->rxp.max_data = UINT32_MAX;
	p->fd = sv[1];
	return c;
}

static struct queue *queue_pair(struct peer *p, uint32_t max_incapsule,
				uint32_t maxh2cdata, int io_timeout_ms)
{
	struct queue_opts qo = { .qid = 1, .size = 8,
				 .max_incapsule = max_incapsule,
				 .io_timeout_ms = io_timeout_ms };
	struct queue *q;

	cr_assert_eq(queue_create(conn_pair(p, maxh2cdata), &qo, &q), 0);
	return q;
}

static void read_all(int fd, void *buf, size_t len)
{
	uint8_t *b = buf;

	while (len) {
		ssize_t n = read(fd, b, len);

		cr_assert_gt(n, 0, "the host sent nothing (%s)",
			     n < 0 ? strerror(errno) : "closed");
		b += n;
		len -= (size_t)n;
	}
}

static void send_all(int fd, const void *buf, size_t len)
{
	cr_assert_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len, "%s",
		     strerror(errno));
}

/* The next PDU the host sent, whole; returns its type. */
static uint8_t peer_pdu(struct peer *p, uint8_t *buf, size_t cap,
			uint32_t *plen)
{
	read_all(p->fd, buf, 8);
	*plen = le32_get(buf + 4);
	cr_assert(*plen >= 8 && *plen <= cap, "PLEN %u", *plen);
	read_all(p->fd, buf + 8, *plen - 8);
	return buf[0];
}

static uint16_t peer_capsule(struct peer *p, struct nvme_sqe *sqe,
			     uint8_t *data, uint32_t *data_len)
{
	static uint8_t buf[256 * 1024];
	uint32_t plen;

	cr_assert_eq(peer_pdu(p, buf, sizeof buf, &plen), NVME_TCP_CMD);
	memcpy(sqe, buf + 8, sizeof *sqe);
	if (data_len) {
		*data_len = plen - buf[3]; /* data from PDO to PLEN */
		if (*data_len)
			memcpy(data, buf + buf[3], *data_len);
	}
	return le16toh(sqe->cid);
}

static void peer_rsp(struct peer *p, uint16_t cid, uint16_t sf)
{
	struct nvme_cqe cqe = { .cid = htole16(cid),
				.status = htole16((uint16_t)(sf << 1)) };
	uint8_t buf[64];

	send_all(p->fd, buf, pdu_build_rsp(buf, &cqe, false));
}

static void peer_c2h(struct peer *p, uint16_t cid, uint32_t off,
		     const uint8_t *data, uint32_t len, bool last)
{
	uint8_t hdr[64];

	send_all(p->fd, hdr,
		 pdu_build_c2h_data(hdr, cid, off, len, last, false, false,
				    false, 4));
	send_all(p->fd, data, len);
}

static struct req *submit(struct queue *q, uint8_t opcode, enum req_dir dir,
			  void *buf, uint32_t len, struct done *d)
{
	struct req *r;

	pthread_mutex_lock(&q->lock);
	r = queue_get_req(q);
	cr_assert_not_null(r);
	memset(&r->sqe, 0, sizeof r->sqe);
	r->sqe.opcode = opcode;
	r->sqe.nsid = htole32(1);
	r->buf = buf;
	r->len = len;
	r->dir = dir;
	r->done = on_done;
	r->arg = d;
	queue_submit(q, r);
	pthread_mutex_unlock(&q->lock);
	return r;
}

static int wait_done(struct queue *q, struct done *d, int ms)
{
	int rc;

	pthread_mutex_lock(&q->lock);
	rc = queue_wait(q, is_done, d, ms);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static void fill(uint8_t *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 29 + seed + (i >> 8));
}

static void end(struct queue *q, struct peer *p)
{
	pthread_mutex_lock(&q->lock);
	queue_cancel(q, ECANCELED, "test over");
	queue_drain(q);
	pthread_mutex_unlock(&q->lock);
	queue_destroy(q);
	close(p->fd);
}

/* A read: the capsule asks for the data by a transport SGL; two C2HData
 * PDUs land in the caller's buffer, then the CapsuleResp completes it. */
Test(queue, read_by_c2hdata)
{
	static uint8_t want[8192], got[8192];
	struct nvme_sqe sqe;
	struct done d = { 0 };
	struct peer p;
	struct queue *q = queue_pair(&p, 8192, 65536, 0);
	struct req *r;
	uint16_t cid;

	fill(want, sizeof want, 1);
	r = submit(q, NVME_NVM_READ, REQ_TO_HOST, got, sizeof got, &d);
	cid = peer_capsule(&p, &sqe, NULL, NULL);
	cr_assert_eq(cid, r->cid);
	cr_assert_eq(sqe.dptr.type, NVME_SGL_TRANSPORT);
	cr_assert_eq(le32toh(sqe.dptr.length), sizeof got);
	peer_c2h(&p, cid, 0, want, 4096, false);
	peer_c2h(&p, cid, 4096, want + 4096, 4096, true);
	peer_rsp(&p, cid, 0);
	cr_assert_eq(wait_done(q, &d, 5000), 0);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.err, 0, "err %d: %s", d.err, d.errmsg ? d.errmsg : "");
	cr_assert_eq(memcmp(want, got, sizeof got), 0);
	cr_assert_eq(q->n_read, sizeof got);
	end(q, &p);
}

/* Reads of 128 KiB one after another, each PDU in the socket before the
 * host reads: the first header is read with a full staging buffer's worth
 * of its payload, copied on from there; once the payloads are large, a
 * header comes with at most 512 bytes of what follows it, and the rest of
 * the payload goes straight into the caller's buffer. */
Test(queue, large_reads_bypass_the_staging_buffer)
{
	enum { LEN = 128 * 1024, N = 3 };
	static uint8_t want[N][LEN], got[N][LEN];
	struct nvme_sqe sqe;
	struct done d[N] = { { 0 } };
	struct peer p;
	struct queue *q = queue_pair(&p, 8192, 65536, 0);
	struct timeval tv = { 5, 0 };
	uint64_t before = 0;
	uint16_t cid;
	int i, sb = 1 << 20;

	/* A host that stops reading fails the test instead of hanging it. */
	setsockopt(p.fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
	setsockopt(p.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	for (i = 0; i < N; i++) {
		fill(want[i], LEN, (unsigned)(10 + i));
		submit(q, NVME_NVM_READ, REQ_TO_HOST, got[i], LEN, &d[i]);
		cid = peer_capsule(&p, &sqe, NULL, NULL);
		before = q->conn->rx_copied;
		peer_c2h(&p, cid, 0, want[i], LEN, false);
		peer_rsp(&p, cid, 0);
		cr_assert_eq(wait_done(q, &d[i], 5000), 0);
		cr_assert_eq(d[i].err, 0, "read %d: %s", i,
			     d[i].errmsg ? d[i].errmsg : "");
		cr_assert_eq(memcmp(want[i], got[i], LEN), 0, "read %d", i);
	}
	/* its header, 512 bytes with it, the CapsuleResp */
	cr_assert_leq(q->conn->rx_copied - before, 1024,
		      "%llu bytes of the last read went through the staging buffer",
		      (unsigned long long)(q->conn->rx_copied - before));
	end(q, &p);
}

/* A CapsuleResp with success before all the data: never a buffer with
 * holes handed back as good. */
Test(queue, read_completed_without_its_data_fails)
{
	static uint8_t want[8192], got[8192];
	struct nvme_sqe sqe;
	struct done d = { 0 };
	struct peer p;
	struct queue *q = queue_pair(&p, 8192, 65536, 0);
	uint16_t cid;

	fill(want, sizeof want, 2);
	submit(q, NVME_NVM_READ, REQ_TO_HOST, got, sizeof got, &d);
	cid = peer_capsule(&p, &sqe, NULL, NULL);
	peer_c2h(&p, cid, 0, want, 4096, false);
	peer_rsp(&p, cid, 0);
	cr_assert_eq(wait_done(q, &d, 5000), 0);
	cr_assert_eq(d.err, -EIO);
	cr_assert_not_null(d.errmsg);
	cr_assert_not_null(strstr(d.errmsg, "without sending all its data"),
			   "%s", d.errmsg);
	end(q, &p);
}

/* A write within the in-capsule limit carries its data in the capsule. */
Test(queue, write_in_capsule)
{
	static uint8_t data[4096], seen[8192];
	struct nvme_sqe sqe;
	struct done d = { 0 };
	struct peer p;
	struct queue *q = queue_pair(&p, 8192, 65536, 0);
	uint32_t len = 0;
	uint16_t cid;

	fill(data, sizeof data, 3);
	submit(q, NVME_NVM_WRITE, REQ_TO_CTRL, data, sizeof data, &d);
	cid = peer_capsule(&p, &sqe, seen, &len);
	cr_assert_eq(sqe.dptr.type, NVME_SGL_INCAPSULE);
	cr_assert_eq(len, sizeof data);
	cr_assert_eq(memcmp(seen, data, len), 0);
	peer_rsp(&p, cid, 0);
	cr_assert_eq(wait_done(q, &d, 5000), 0);
	cr_assert_eq(d.err, 0);
	cr_assert_eq(q->n_written, sizeof data);
	end(q, &p);
}

/* A write beyond the in-capsule limit: R2T for all of it, H2CData PDUs of
 * at most MAXH2CDATA in order, LAST_PDU on the last one. */
Test(queue, write_by_r2t_in_maxh2cdata_pieces)
{
	static uint8_t data[65536], seen[65536], pdu[32768];
	struct nvme_sqe sqe;
	struct done d = { 0 };
	struct peer p;
	struct queue *q = queue_pair(&p, 0, 16384, 0);
	uint32_t got = 0, plen;
	uint16_t cid;
	uint8_t hdr[64];
	int pdus = 0;

	fill(data, sizeof data, 4);
	submit(q, NVME_NVM_WRITE, REQ_TO_CTRL, data, sizeof data, &d);
	cid = peer_capsule(&p, &sqe, NULL, NULL);
	cr_assert_eq(sqe.dptr.type, NVME_SGL_TRANSPORT);
	send_all(p.fd, hdr, pdu_build_r2t(hdr, cid, 7, 0, sizeof data, false));
	/* The host sends when it next looks at its queue. */
	{
		struct done none = { 0 };

		(void)wait_done(q, &none, 10);
	}
	while (got < sizeof data) {
		uint32_t datao, datal;

		cr_assert_eq(peer_pdu(&p, pdu, sizeof pdu, &plen),
			     NVME_TCP_H2C_DATA);
		cr_assert_eq(le16_get(pdu + 8), cid);
		cr_assert_eq(le16_get(pdu + 10), 7, "TTAG");
		datao = le32_get(pdu + 12);
		datal = le32_get(pdu + 16);
		cr_assert_eq(datao, got, "H2CData out of order");
		cr_assert_leq(datal, 16384u, "H2CData beyond MAXH2CDATA");
		cr_assert_eq(plen - pdu[3], datal);
		memcpy(seen + datao, pdu + pdu[3], datal);
		got += datal;
		pdus++;
		cr_assert_eq(!!(pdu[1] & NVME_TCP_F_DATA_LAST),
			     got == sizeof data, "LAST_PDU at %u", got);
	}
	cr_assert_eq(pdus, 4);
	cr_assert_eq(memcmp(seen, data, sizeof data), 0);
	peer_rsp(&p, cid, 0);
	cr_assert_eq(wait_done(q, &d, 5000), 0);
	cr_assert_eq(d.err, 0);
	end(q, &p);
}

static int downs;

static void on_down(void *owner, struct queue *q)
{
	(void)owner;
	(void)q;
	downs++;
}

/* The connection goes: with an owner that reconnects, the command is
 * parked, not failed; adopted by a new connection, it is sent again (same
 * CID) and completes there. */
Test(queue, parked_and_sent_again_on_adopt)
{
	static uint8_t want[4096], got[4096];
	struct nvme_sqe sqe;
	struct done d = { 0 };
	struct peer p, p2;
	struct queue *q = queue_pair(&p, 8192, 65536, 0);
	struct tcp_conn *c2;
	uint16_t cid, cid2;

	q->owner = &d;
	q->on_down = on_down;
	downs = 0;
	fill(want, sizeof want, 5);
	submit(q, NVME_NVM_READ, REQ_TO_HOST, got, sizeof got, &d);
	cid = peer_capsule(&p, &sqe, NULL, NULL);
	close(p.fd); /* the controller is gone */
	cr_assert_eq(wait_done(q, &d, 300), -ETIMEDOUT);
	cr_assert_eq(d.n, 0, "a parked command completed");
	cr_assert_eq(downs, 1);
	cr_assert(q->down);
	c2 = conn_pair(&p2, 65536);
	pthread_mutex_lock(&q->lock);
	queue_adopt(q, c2);
	pthread_mutex_unlock(&q->lock);
	cid2 = peer_capsule(&p2, &sqe, NULL, NULL);
	cr_assert_eq(cid2, cid);
	peer_c2h(&p2, cid2, 0, want, sizeof want, true);
	peer_rsp(&p2, cid2, 0);
	cr_assert_eq(wait_done(q, &d, 5000), 0);
	cr_assert_eq(d.err, 0);
	cr_assert_eq(memcmp(want, got, sizeof got), 0);
	cr_assert_eq(q->n_retries, 1);
	end(q, &p2);
}

static uint16_t timed_out_cid;

static void on_timeout(void *owner, struct queue *q, uint16_t cid)
{
	(void)owner;
	(void)q;
	timed_out_cid = cid;
}

/* No completion within the I/O timeout: the owner is asked to abort it;
 * with still none a grace period later the queue fails and so does the
 * command, with ETIMEDOUT and a message that says so. */
Test(queue, io_timeout_then_abort_then_failure)
{
	struct nvme_sqe sqe;
	struct done d = { 0 };
	struct peer p;
	struct queue *q = queue_pair(&p, 8192, 65536, 50);
	struct req *r;

	q->owner = &d;
	q->on_timeout = on_timeout;
	timed_out_cid = 0;
	r = submit(q, NVME_NVM_FLUSH, REQ_NONE, NULL, 0, &d);
	peer_capsule(&p, &sqe, NULL, NULL);
	cr_assert_eq(wait_done(q, &d, 10000), 0);
	cr_assert_eq(timed_out_cid, r->cid, "no abort was asked for");
	cr_assert_eq(d.err, -ETIMEDOUT);
	cr_assert_not_null(strstr(q->dead_msg, "nor after an Abort"), "%s",
			   q->dead_msg);
	end(q, &p);
}

/* C2HData for a command that is not in flight is a protocol error: the
 * host ends the connection with an H2CTermReq, and what was in flight
 * fails with EPROTO. */
Test(queue, c2hdata_for_unknown_cid_terminates)
{
	static uint8_t got[4096], junk[512];
	struct nvme_sqe sqe;
	struct done d = { 0 };
	struct peer p;
	struct queue *q = queue_pair(&p, 8192, 65536, 0);
	uint8_t term[256];
	uint32_t plen;
	uint16_t cid;

	submit(q, NVME_NVM_READ, REQ_TO_HOST, got, sizeof got, &d);
	cid = peer_capsule(&p, &sqe, NULL, NULL);
	peer_c2h(&p, (uint16_t)(cid + 1), 0, junk, sizeof junk, true);
	cr_assert_eq(wait_done(q, &d, 5000), 0);
	cr_assert_eq(d.err, -EPROTO);
	cr_assert_not_null(strstr(q->dead_msg, "not in flight"), "%s",
			   q->dead_msg);
	cr_assert_eq(peer_pdu(&p, term, sizeof term, &plen), NVME_TCP_H2C_TERM);
	end(q, &p);
}

/* queue_cancel ends what is in flight with the given error, once. */
Test(queue, cancel_completes_pending_once)
{
	struct nvme_sqe sqe;
	struct done d = { 0 };
	struct peer p;
	struct queue *q = queue_pair(&p, 8192, 65536, 0);

	submit(q, NVME_NVM_FLUSH, REQ_NONE, NULL, 0, &d);
	peer_capsule(&p, &sqe, NULL, NULL);
	pthread_mutex_lock(&q->lock);
	queue_cancel(q, ECANCELED, "cancelled");
	queue_drain(q);
	pthread_mutex_unlock(&q->lock);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.err, -ECANCELED);
	/* New commands fail at once, with the queue's error. */
	{
		struct done d2 = { 0 };

		submit(q, NVME_NVM_FLUSH, REQ_NONE, NULL, 0, &d2);
		cr_assert_eq(wait_done(q, &d2, 5000), 0);
		cr_assert_eq(d2.err, -ECANCELED);
	}
	cr_assert_eq(d.n, 1);
	queue_destroy(q);
	close(p.fd);
}
