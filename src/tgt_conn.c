/* SPDX-License-Identifier: MIT */
/*
 * One NVMe/TCP connection (one NVMe queue) of nvmeof-target: ICReq/ICResp,
 * the receive state machine (header, digest, padding, data, digest), the
 * R2T → H2CData flow and batched, copy-free transmission.
 *
 * Receive: bytes are read in large chunks into rx; every PDU that is
 * complete in it is handled before anything is sent, so the completions of
 * a burst of commands leave in one sendmsg().  H2CData payloads larger than
 * RX_DIRECT_MIN are received straight into their destination (the RAM of a
 * namespace when no data digest has to be checked first).
 * Transmit: headers go to a small arena, data is referenced in place
 * (namespace RAM, the zero region, a read buffer) through an iovec.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, fallocate, signalfd, eventfd */
#endif
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

#define RX_MIN_CAP (64 * 1024)
#define RX_DIRECT_MIN 4096
#define TLS_WBUF (64 * 1024)      /* small pieces gathered into one SSL_write */
#define TLS_DIRECT_MIN (16 * 1024) /* larger ones are written in place */
#ifndef TLS_EARLY_FLUSH
#define TLS_EARLY_FLUSH (16 * 1024) /* see tx_room() */
#endif

/* ---- the byte stream: the socket itself, or TLS over it (tgt_tls.c) ----- */

/* recv(2) on the connection: blocking, or not (dontwait). */
static ssize_t conn_recv(struct tgt_conn *c, void *buf, size_t len,
			 bool dontwait)
{
	if (c->ssl)
		return conn_tls_read(c, buf, len, dontwait);
	return recv(c->fd, buf, len, dontwait ? MSG_DONTWAIT : 0);
}

/* Bytes that TLS has already taken off the socket: poll() would not see
 * them. */
static bool rx_buffered(struct tgt_conn *c)
{
	return c->ssl && conn_tls_readable(c);
}

/* ---- faults ------------------------------------------------------------- */

static void fault_refresh(struct tgt_conn *c)
{
	fault_snapshot(&c->fs, &c->fgen);
}

/* Is fault m armed for this queue (its scope covers the queue)? */
bool conn_fault(struct tgt_conn *c, enum fault_mode m)
{
	if (unlikely(atomic_load_explicit(&fault_gen, memory_order_acquire) !=
		     c->fgen))
		fault_refresh(c);
	if (likely(!c->fs.any) || !c->connected)
		return false;
	return c->fs.f[m].on && (c->fs.f[m].scope & c->fscope) &&
	       (!c->fs.f[m].lsn || c->fs.f[m].lsn == c->lsn);
}

/* A one-shot fault: true once, for the first queue of any association
 * that meets it after the arming; then it disarms itself, so that the
 * association the host builds next is not hit again. */
bool conn_fault_once(struct tgt_conn *c, enum fault_mode m)
{
	if (!conn_fault(c, m) || !c->ctrl ||
	    !fault_disarm_fired(m, c->fs.f[m].gen))
		return false;
	infox("%s: fault %s fires (cntlid %u qid %u); disarmed", c->peer,
	      fault_name(m), c->ctrl->cntlid, c->qid);
	return true;
}

/* Faults decided when a command arrives.  True: the command is consumed. */
static bool fault_on_arrival(struct tgt_conn *c, const struct nvme_sqe *sqe)
{
	bool fail = false;

	if (likely(!c->fs.any) &&
	    atomic_load_explicit(&fault_gen, memory_order_relaxed) == c->fgen)
		return false;
	if (conn_fault(c, F_SILENT))
		return true; /* read, never executed, never answered */
	if (conn_fault(c, F_FAIL_NTH)) {
		struct tgt_ctrl *ctrl = c->ctrl;

		pthread_mutex_lock(&ctrl->lock);
		if (ctrl->nth_gen != c->fs.f[F_FAIL_NTH].gen) {
			ctrl->nth_gen = c->fs.f[F_FAIL_NTH].gen;
			ctrl->nth_cmds = 0;
		}
		if (++ctrl->nth_cmds == c->fs.f[F_FAIL_NTH].arg)
			fail = true;
		pthread_mutex_unlock(&ctrl->lock);
		if (fail) {
			infox("%s: fault fail-nth fails command %u (cid %u) with status 0x%x",
			      c->peer, c->fs.f[F_FAIL_NTH].arg, le16toh(sqe->cid),
			      c->fs.f[F_FAIL_NTH].status);
			cmd_done(c, sqe, c->fs.f[F_FAIL_NTH].status, 0);
			return true;
		}
	}
	return false;
}

/* Damage an outgoing header as the armed faults ask; hdr has hlen bytes
 * and, with header digests, the digest right after them. */
static void fault_on_header(struct tgt_conn *c, uint8_t *hdr)
{
	uint8_t hlen = hdr[2];
	bool redigest = false;

	if (likely(!c->fs.any))
		return;
	if (conn_fault_once(c, F_BAD_HLEN)) {
		hdr[2] = (uint8_t)(hlen + 8);
		redigest = true;
	}
	if (conn_fault_once(c, F_BAD_PLEN)) {
		/* Far beyond MAXH2CDATA, MDTS and any buffer of the host. */
		le32_put(hdr + 4, 0x40000000u);
		redigest = true;
	}
	if (c->hdgst && redigest)
		le32_put(hdr + hlen, crc32c(0, hdr, hlen));
	if (c->hdgst && conn_fault_once(c, F_CORRUPT_HDGST))
		hdr[hlen] ^= 0x01;
}

/* ---- transmit ----------------------------------------------------------- */

static void tx_reset(struct tgt_conn *c)
{
	c->niov = 0;
	c->tx_queued = 0;
	c->arena_used = 0;
	c->rbuf_used = 0;
	while (c->nhold)
		ns_put(c->hold[--c->nhold]);
}

void conn_hold_ns(struct tgt_conn *c, struct tgt_ns *ns)
{
	if (c->nhold == TX_HOLD)
		conn_flush(c);
	c->hold[c->nhold++] = ns;
}

/* While a send would block, keep reading what the host sends (into the
 * free tail of rx only: nothing already there moves), so that a host
 * which only reads once its own send completes cannot deadlock with us. */
static int wait_writable(struct tgt_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
	int n;

	if (c->rx_len < c->rx_cap) {
		pfd.events |= POLLIN;
		if (rx_buffered(c)) {
			ssize_t r = conn_recv(c, c->rx + c->rx_len,
					      c->rx_cap - c->rx_len, true);

			if (r > 0)
				c->rx_len += (size_t)r;
			else if (r == 0)
				return -1;
			return 0;
		}
	}
	/* The host is draining the socket: often a matter of microseconds
	 * (see rx_spin). */
	n = 0;
	if (busy_poll_us()) {
		struct busy_poll bp;
		bool busy = false;

		busy_poll_init(&bp, busy_poll_us() * 1000u);
		n = busy_poll_spin(&bp, &pfd, 1, busy_poll_clock_ns() + bp.budget_ns,
				   &busy);
	}
	if (n == 0)
		n = poll(&pfd, 1, -1);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (pfd.revents & (POLLERR | POLLNVAL))
		return -1;
	if ((pfd.revents & POLLIN) && c->rx_len < c->rx_cap) {
		ssize_t r = conn_recv(c, c->rx + c->rx_len,
				      c->rx_cap - c->rx_len, true);
		if (r > 0)
			c->rx_len += (size_t)r;
		else if (r == 0 && !(pfd.revents & POLLOUT))
			return -1;
	} else if ((pfd.revents & POLLHUP) && !(pfd.revents & POLLOUT)) {
		return -1;
	}
	return 0;
}

/* Past n bytes of the iovec array. */
static void iov_advance(struct iovec **iovp, int *cnt, size_t n)
{
	struct iovec *iov = *iovp;

	while (*cnt > 0 && n >= iov->iov_len) {
		n -= iov->iov_len;
		iov++;
		(*cnt)--;
	}
	if (*cnt > 0) {
		iov->iov_base = (uint8_t *)iov->iov_base + n;
		iov->iov_len -= n;
	}
	*iovp = iov;
}

/* TLS: large pieces (data) are written where they are, small ones
 * (headers, completions, small data) are gathered into one record.  A
 * write that has to wait is repeated with the same buffer, as libssl
 * wants; meanwhile wait_writable() keeps reading. */
static int send_iov_tls(struct tgt_conn *c, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		const void *buf;
		size_t len = 0;
		int rc;

		if (iov->iov_len >= TLS_DIRECT_MIN) {
			buf = iov->iov_base;
			len = iov->iov_len;
			rc = 0;
		} else {
			/* iov advances as it is gathered */
			while (cnt > 0 && len < TLS_WBUF &&
			       (iov->iov_len < TLS_DIRECT_MIN || !len)) {
				size_t k = MIN(iov->iov_len, TLS_WBUF - len);

				memcpy(c->tls_wbuf + len, iov->iov_base, k);
				len += k;
				iov_advance(&iov, &cnt, k);
			}
			buf = c->tls_wbuf;
			rc = 1;
		}
		for (;;) {
			int w = conn_tls_write(c, buf, len);

			if (w > 0)
				break;
			if (w < 0 || wait_writable(c) < 0)
				return -1;
		}
		if (!rc)
			iov_advance(&iov, &cnt, len);
	}
	for (;;) {
		int f = conn_tls_flush(c);

		if (f > 0)
			return 0;
		if (f < 0 || wait_writable(c) < 0)
			return -1;
	}
}

static int send_iov(struct tgt_conn *c, struct iovec *iov, int cnt)
{
	if (c->ssl)
		return send_iov_tls(c, iov, cnt);
	while (cnt > 0) {
		struct msghdr mh = { .msg_iov = iov,
				     .msg_iovlen = (size_t)cnt };
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (wait_writable(c) < 0)
					return -1;
				continue;
			}
			return -1;
		}
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* The delay fault's wait; cut short when the connection is shut down. */
static void sleep_until_ns(struct tgt_conn *c, uint64_t t)
{
	for (uint64_t now = tgt_now_ns(); now < t; now = tgt_now_ns()) {
		struct pollfd pfd = { .fd = c->fd, .events = 0 };
		int ms = (int)MIN((t - now + 999999) / 1000000, (uint64_t)1000);

		if (poll(&pfd, 1, ms) > 0 &&
		    (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
			return;
	}
}

/* Send everything queued.  A failed send stops the connection: the
 * receive side then sees the socket shut down and the thread ends. */
int conn_flush(struct tgt_conn *c)
{
	int rc = 0;

	if (c->niov) {
		if (c->delay_until_ns) {
			sleep_until_ns(c, c->delay_until_ns);
			c->delay_until_ns = 0;
		}
		rc = send_iov(c, c->iov, c->niov);
		tx_reset(c);
		if (rc < 0)
			conn_stop(c);
	}
	if (c->kill_after_flush) {
		infox("%s: closing the connection (cntlid %u qid %u)", c->peer,
		      c->ctrl ? c->ctrl->cntlid : 0, c->qid);
		conn_stop(c);
		rc = -1;
	}
	return rc;
}

void conn_stop(struct tgt_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
}

/* Make room for bytes of header and iovs entries, flushing if needed.
 * Over TLS, small pieces (headers, 4K data) queued also leave once they
 * fill TLS_EARLY_FLUSH: the host decrypts those records while the rest of
 * a burst's answers are encrypted, rather than the two sides taking turns
 * at the whole burst.  Large data does not count (flushing each 128K
 * answer on its own cost 22% of 128K read IOPS). */
static void tx_room(struct tgt_conn *c, size_t bytes, int iovs)
{
	if (c->arena_used + bytes > TX_ARENA || c->niov + iovs > TX_IOV ||
	    (c->ssl && c->tx_queued >= TLS_EARLY_FLUSH))
		conn_flush(c);
}

/* Append len bytes of the arena (already written at the current end). */
static void tx_commit(struct tgt_conn *c, size_t len)
{
	uint8_t *p = c->arena + c->arena_used;
	struct iovec *last = c->niov ? &c->iov[c->niov - 1] : NULL;

	if (last && (uint8_t *)last->iov_base + last->iov_len == p) {
		last->iov_len += len;
	} else {
		c->iov[c->niov].iov_base = p;
		c->iov[c->niov].iov_len = len;
		c->niov++;
	}
	c->tx_queued += len;
	c->arena_used += len;
}

static uint8_t *tx_space(struct tgt_conn *c)
{
	return c->arena + c->arena_used;
}

static void tx_ref(struct tgt_conn *c, const void *p, size_t len)
{
	c->iov[c->niov].iov_base = (void *)p;
	c->iov[c->niov].iov_len = len;
	c->niov++;
	if (len < TLS_DIRECT_MIN) /* large data is written in place */
		c->tx_queued += len;
}

void conn_complete(struct tgt_conn *c, uint16_t cid, uint16_t status,
		   uint64_t res)
{
	struct nvme_cqe cqe = {
		.dw0 = htole32((uint32_t)res),
		.dw1 = htole32((uint32_t)(res >> 32)),
		.sqhd = htole16(c->sqhd),
		.sqid = htole16(c->qid),
		.cid = htole16(cid),
		.status = htole16((uint16_t)(status << 1)),
	};
	int copies = 1;
	size_t n;

	if (unlikely(c->fs.any) && conn_fault_once(c, F_DOUBLE_COMPLETION))
		copies = 2;
	while (copies--) {
		tx_room(c, PDU_MAX_TX_HDR, 1);
		n = pdu_build_rsp(tx_space(c), &cqe, c->hdgst);
		fault_on_header(c, tx_space(c));
		tx_commit(c, n);
	}
}

/* drop-after:N closes the first queue (of any association) that answers
 * N commands after the arming, and disarms itself, so that one outage is
 * one reconnect; drop-every:N closes each queue after its Nth answer, on
 * every association, until disarmed. */
static void drop_check(struct tgt_conn *c, enum fault_mode m)
{
	const struct fault *f = &c->fs.f[m];
	int i = m == F_DROP_EVERY;

	if (!conn_fault(c, m) || c->kill_after_flush)
		return;
	if (c->drop_gen[i] != f->gen) { /* armed anew */
		c->drop_gen[i] = f->gen;
		c->drop_done[i] = 0;
	}
	if (++c->drop_done[i] < f->arg)
		return;
	if (m == F_DROP_AFTER && !fault_disarm_fired(m, f->gen))
		return; /* another queue fired it first */
	infox("%s: fault %s:%u closes qid %u (cntlid %u)%s", c->peer,
	      fault_name(m), f->arg, c->qid, c->ctrl ? c->ctrl->cntlid : 0,
	      m == F_DROP_AFTER ? "; disarmed" : "");
	c->kill_after_flush = true;
}

void cmd_done(struct tgt_conn *c, const struct nvme_sqe *sqe,
	      uint16_t status, uint64_t res)
{
	if (status) {
		STAT_ADD(c->st.errors, 1);
		ctrl_log_error(c, le16toh(sqe->cid), status, le32toh(sqe->nsid));
		debugx("%s: qid %u cid %u opcode 0x%02x: %s", c->peer, c->qid,
		       le16toh(sqe->cid), sqe->opcode, nvmeof_status_str(status));
	}
	conn_complete(c, le16toh(sqe->cid), status, res);
	if (unlikely(c->fs.any)) {
		if (conn_fault(c, F_DELAY)) {
			uint64_t t = tgt_now_ns() +
				     (uint64_t)c->fs.f[F_DELAY].arg * 1000000u;
			if (t > c->delay_until_ns)
				c->delay_until_ns = t;
		}
		drop_check(c, F_DROP_AFTER);
		drop_check(c, F_DROP_EVERY);
	}
}

/* One C2HData PDU carrying len bytes from iov at offset datao. */
static void send_c2h(struct tgt_conn *c, uint16_t cid, uint32_t datao,
		     const struct iovec *iov, int iovcnt, uint32_t len,
		     bool last)
{
	uint8_t *hdr;
	size_t n;

	tx_room(c, PDU_MAX_TX_HDR + NVME_TCP_DIGEST_LEN, iovcnt + 2);
	hdr = tx_space(c);
	n = pdu_build_c2h_data(hdr, cid, datao, len, last, false, c->hdgst,
			       c->ddgst, c->tx_align);
	fault_on_header(c, hdr);
	tx_commit(c, n);
	for (int i = 0; i < iovcnt; i++)
		tx_ref(c, iov[i].iov_base, iov[i].iov_len);
	if (c->ddgst) {
		uint32_t crc = 0;

		for (int i = 0; i < iovcnt; i++)
			crc = crc32c(crc, iov[i].iov_base, iov[i].iov_len);
		if (unlikely(c->fs.any) && conn_fault_once(c, F_CORRUPT_DDGST))
			crc ^= 1;
		pdu_put_digest(tx_space(c), crc);
		tx_commit(c, NVME_TCP_DIGEST_LEN);
	}
}

void conn_send_data(struct tgt_conn *c, uint16_t cid, uint32_t datao,
		    const struct iovec *iov, int iovcnt, uint32_t len,
		    bool last)
{
	if (unlikely(c->fs.any)) {
		if (conn_fault_once(c, F_C2H_UNKNOWN_CID))
			cid ^= 0x8000; /* never a CID of ours: hosts use < 0x8000 */
		if (last && conn_fault_once(c, F_C2H_OVERFLOW)) {
			/* The data, then 512 bytes past the command's end. */
			struct iovec z = { (void *)tgt_zero, 512 };

			send_c2h(c, cid, datao, iov, iovcnt, len, false);
			send_c2h(c, cid, datao + len, &z, 1, 512, true);
			return;
		}
	}
	send_c2h(c, cid, datao, iov, iovcnt, len, last);
}

static void send_r2t(struct tgt_conn *c, uint16_t cid, uint16_t ttag,
		     uint32_t off, uint32_t len)
{
	size_t n;

	tx_room(c, PDU_MAX_TX_HDR, 1);
	n = pdu_build_r2t(tx_space(c), cid, ttag, off, len, c->hdgst);
	fault_on_header(c, tx_space(c));
	tx_commit(c, n);
}

/* A TGT_RBUF_SIZE buffer for file data that stays untouched until the
 * batch that references it has been sent. */
uint8_t *conn_rbuf(struct tgt_conn *c)
{
	/* Room first for the PDUs that will carry it (two with the
	 * c2h-overflow fault) and a completion: a flush between taking the
	 * buffer and queueing it would hand it out twice. */
	tx_room(c, 3 * PDU_MAX_TX_HDR + 2 * NVME_TCP_DIGEST_LEN, 8);
	if (c->rbuf_used == TGT_RBUF_COUNT)
		conn_flush(c);
	if (!c->rbuf[c->rbuf_used]) {
		c->rbuf[c->rbuf_used] = malloc(TGT_RBUF_SIZE);
		if (!c->rbuf[c->rbuf_used])
			return NULL;
	}
	return c->rbuf[c->rbuf_used++];
}

/* The admin data buffer (one command at a time: admin commands that send
 * data flush before the next one runs). */
uint8_t *conn_abuf(struct tgt_conn *c, size_t len)
{
	if (len > c->abuf_cap) {
		uint8_t *p = realloc(c->abuf, len);

		if (!p)
			return NULL;
		c->abuf = p;
		c->abuf_cap = len;
	}
	memset(c->abuf, 0, len);
	return c->abuf;
}

/* ---- receive ------------------------------------------------------------ */

static void touch(struct tgt_conn *c)
{
	if (c->ctrl) {
		uint64_t t = tgt_now_ms();

		if (atomic_load_explicit(&c->ctrl->last_rx_ms,
					 memory_order_relaxed) != t)
			atomic_store_explicit(&c->ctrl->last_rx_ms, t,
					      memory_order_relaxed);
	}
}

/* The admin queue waits with poll(): for the host, for AENs to deliver
 * (evfd) and for the keep-alive deadline. */
static int admin_wait(struct tgt_conn *c)
{
	size_t before = c->rx_len;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = c->fd, .events = POLLIN },
			{ .fd = c->evfd, .events = POLLIN },
		};
		int timeout = ctrl_kato_check(c);
		int n;

		if (timeout == -2)
			return -1;
		if (rx_buffered(c))
			return 0;
		n = poll(pfd, 2, timeout);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0 && (pfd[1].revents & POLLIN)) {
			uint64_t v;

			if (read(c->evfd, &v, sizeof v) < 0 && errno != EAGAIN)
				return -1;
			admin_events(c);
			if (conn_flush(c) < 0)
				return -1;
			if (c->rx_len != before)
				return 0; /* the host's bytes came while we sent */
		}
		if (n > 0 && pfd[0].revents)
			return 0;
	}
}

/* An I/O queue with nothing to read: look again without sleeping for up
 * to --busy-poll microseconds before the blocking recv(), so that the
 * host's next command, often a few microseconds away, does not have to
 * wake a sleeping thread (on a VM whose idle vCPUs halt, that costs more
 * than the command).  The back-off (a slow host, a CPU with other work)
 * is lib/busy_poll.h's.  Returns recv()'s result; -1 with EAGAIN when
 * nothing came in time. */
static ssize_t rx_spin(struct tgt_conn *c, size_t len)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	uint64_t now = busy_poll_clock_ns(), spin;
	bool busy = false;
	int r = 0;

	if (rx_buffered(c))
		return conn_recv(c, c->rx + c->rx_len, len, true);
	/* --busy-poll may change at run time (the control socket). */
	if (!c->bp.yield_busy_ns)
		busy_poll_init(&c->bp, 0);
	c->bp.budget_ns = busy_poll_us() * 1000u;
	spin = busy_poll_budget(&c->bp, true, now, UINT64_MAX);
	if (spin) {
		r = busy_poll_spin(&c->bp, &pfd, 1, now + spin, &busy);
		busy_poll_account(&c->bp, r > 0, busy);
	}
	if (r <= 0) {
		errno = EAGAIN;
		return -1;
	}
	return conn_recv(c, c->rx + c->rx_len, len, true);
}

/* A connection that has not connected a queue yet has --login-timeout
 * from its accept to do so (ICReq, then Connect): a peer that opens
 * connections and sends nothing must not keep them (and their threads)
 * forever.  Waits until there is something to read. */
static int login_wait(struct tgt_conn *c)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		uint64_t deadline = c->accepted_ms + opts.login_ms, now = tgt_now_ms();
		int n;

		if (rx_buffered(c))
			return 0;
		if (now >= deadline) {
			warnx("%s: no %s within %u s of connecting; closing",
			      c->peer, c->auth_pending ? "authentication" :
			      c->ic_done ? "Connect" : "ICReq",
			      opts.login_ms / 1000);
			conn_stop(c);
			return -1;
		}
		n = poll(&pfd, 1, (int)MIN(deadline - now, (uint64_t)INT_MAX));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Read more of the stream into the free tail of rx, for want more bytes
 * (how much: rx_hint_fill).  Answers still queued go first (never block
 * with them); while a send waits, the host's bytes may already land in rx
 * (wait_writable), and then that is all. */
static int rx_fill(struct tgt_conn *c, size_t want)
{
	size_t before = c->rx_len;
	size_t lim = c->rx_len + rx_hint_fill(&c->rxh, c->rx_cap - c->rx_len, want);

	for (;;) {
		ssize_t n;
		bool login;

		if (conn_flush(c) < 0)
			return -1;
		if (c->evfd >= 0 && admin_wait(c) < 0)
			return -1;
		if (c->rx_len != before)
			return 0;
		if ((!c->connected || c->auth_pending) && login_wait(c) < 0)
			return -1;
		/* Over TLS, poll() may have seen only part of a record:
		 * before Connect, the wait for the rest is login_wait()'s. */
		login = !c->connected || c->auth_pending;
		if (c->evfd < 0 && busy_poll_us() && !login) {
			n = rx_spin(c, lim - c->rx_len);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				n = conn_recv(c, c->rx + c->rx_len,
					      lim - c->rx_len, false);
		} else {
			n = conn_recv(c, c->rx + c->rx_len,
				      lim - c->rx_len,
				      c->evfd >= 0 || (c->ssl && login));
		}
		if (n > 0) {
			c->rx_len += (size_t)n;
			/* TLS gives one record a call: take the others libssl
			 * already holds now, as one recv() would, so that the
			 * commands they carry are answered in one batch. */
			while (c->ssl && c->rx_len < lim &&
			       conn_tls_readable(c)) {
				n = conn_recv(c, c->rx + c->rx_len,
					      lim - c->rx_len, true);
				if (n <= 0)
					break;
				c->rx_len += (size_t)n;
			}
			touch(c);
			return 0;
		}
		if (n == 0)
			return -1;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
}

/* Have at least need (<= rx_cap) bytes at rx + rx_off. */
static int rx_need(struct tgt_conn *c, size_t need)
{
	if (c->rx_len - c->rx_off >= need)
		return 0;
	if (c->rx_off == c->rx_len) {
		c->rx_off = c->rx_len = 0;
	} else if (c->rx_off + need > c->rx_cap) {
		memmove(c->rx, c->rx + c->rx_off, c->rx_len - c->rx_off);
		c->rx_len -= c->rx_off;
		c->rx_off = 0;
	}
	while (c->rx_len - c->rx_off < need)
		if (rx_fill(c, need - (c->rx_len - c->rx_off)) < 0)
			return -1;
	return 0;
}

/* Receive len bytes into dst: what rx holds, then, on I/O queues with
 * nothing left to send, straight from the socket into dst. */
static int rx_copy(struct tgt_conn *c, uint8_t *dst, size_t len)
{
	while (len) {
		size_t n = MIN(len, c->rx_len - c->rx_off);

		memcpy(dst, c->rx + c->rx_off, n);
		c->rx_off += n;
		dst += n;
		len -= n;
		if (!len)
			break;
		if (c->niov) {
			/* may bring bytes of this payload into rx */
			if (conn_flush(c) < 0)
				return -1;
			continue;
		}
		if (len >= RX_DIRECT_MIN && c->evfd < 0) {
			ssize_t r = conn_recv(c, dst, len, false);

			if (r == 0 || (r < 0 && errno != EINTR))
				return -1;
			if (r > 0) {
				touch(c);
				dst += r;
				len -= (size_t)r;
			}
		} else if (rx_need(c, MIN(len, c->rx_cap)) < 0) {
			return -1;
		}
	}
	return 0;
}

/* A fatal transport error: C2HTermReq carrying the offending header, then
 * the connection closes (NVMe/TCP 1.0 §3.6.2.4). */
static int conn_fatal(struct tgt_conn *c, uint16_t fes, uint32_t fei,
		      const void *hdr, size_t hlen, const char *msg)
{
	uint8_t buf[NVME_TCP_TERM_MAX_PLEN];
	struct iovec iov;

	warnx("%s: %s; sending C2HTermReq (%s) and closing", c->peer, msg,
	      pdu_fes_name(fes));
	conn_flush(c);
	iov.iov_base = buf;
	iov.iov_len = pdu_build_term(buf, NVME_TCP_C2H_TERM, fes, fei, hdr,
				     hlen);
	send_iov(c, &iov, 1);
	conn_stop(c);
	return -1;
}

static int handle_icreq(struct tgt_conn *c, const uint8_t *hdr)
{
	struct pdu_error perr;
	uint8_t buf[NVME_TCP_IC_HLEN];
	struct iovec iov = { buf, sizeof buf };

	if (pdu_check_icreq(hdr, &perr) < 0)
		return conn_fatal(c, perr.fes, perr.fei, hdr, NVME_TCP_IC_HLEN,
				  perr.msg);
	c->hdgst = hdr[11] & NVME_TCP_HDGST_ENABLE;
	c->ddgst = hdr[11] & NVME_TCP_DDGST_ENABLE;
	c->tx_align = ((uint32_t)hdr[10] + 1) * 4;
	/* MAXR2T (hdr 12..15): we never have more than one R2T outstanding
	 * per command, which every host allows. */
	c->rxp.hdgst = c->hdgst;
	c->rxp.ddgst = c->ddgst;
	c->rxp.rx_align = 4; /* CPDA 0 */
	c->rxp.max_data = opts.maxh2cdata;
	c->rxp.max_incapsule = MAX(TGT_ADMIN_INCAPSULE, opts.io_incapsule);
	pdu_build_icresp(buf, 0, c->hdgst, c->ddgst, opts.maxh2cdata);
	if (send_iov(c, &iov, 1) < 0)
		return -1;
	c->ic_done = true;
	debugx("%s: ICReq: HPDA %u, header digest %s, data digest %s", c->peer,
	       hdr[10], c->hdgst ? "on" : "off", c->ddgst ? "on" : "off");
	return 0;
}

/* Data direction of a command (NVMe Base 2.0 §5: opcode bits 1:0; fabrics
 * commands: FCTYPE bits 1:0): 1 host to controller, 2 controller to host. */
static unsigned data_dir(const struct nvme_sqe *sqe)
{
	if (sqe->opcode == NVME_FABRICS_COMMAND)
		return ((const uint8_t *)sqe)[NVMF_SQE_FCTYPE] & 3;
	return sqe->opcode & 3;
}

/* Run a command whose data (if it sends any) is all here. */
static void cmd_exec(struct tgt_conn *c, const struct nvme_sqe *sqe,
		     const uint8_t *data, uint32_t dlen)
{
	if (c->qid == 0)
		admin_cmd(c, sqe, data, dlen);
	else
		io_cmd(c, sqe, data, dlen);
}

static struct tgt_slot *slot_get(struct tgt_conn *c)
{
	struct tgt_slot *s;

	if (c->free_slot < 0)
		return NULL;
	s = &c->slots[c->free_slot];
	c->free_slot = s->next_free;
	s->used = true;
	c->nr_pending++;
	return s;
}

static void slot_put(struct tgt_conn *c, struct tgt_slot *s)
{
	if (s->ns) {
		ns_put(s->ns);
		s->ns = NULL;
	}
	s->data = NULL; /* buf stays for the next command that needs one */
	s->used = false;
	c->nr_pending--;
	s->next_free = c->free_slot;
	c->free_slot = (int)(s - c->slots);
}

/* Host-to-controller data not in the capsule: ask for it with one R2T for
 * the whole transfer (NVMe/TCP 1.0 §3.4.3; one R2T per command is within
 * every host's MAXR2T). */
static void start_r2t(struct tgt_conn *c, const struct nvme_sqe *sqe,
		      uint32_t dlen)
{
	struct tgt_slot *s = slot_get(c);
	uint16_t st;

	if (!s) {
		/* More commands outstanding than the queue has entries. */
		cmd_done(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0);
		return;
	}
	s->sqe = *sqe;
	s->len = dlen;
	s->rcvd = 0;
	s->status = 0;
	s->data = NULL;
	if (c->qid && sqe->opcode == NVME_NVM_WRITE) {
		st = io_write_prep(c, sqe, dlen, &s->ns, &s->off);
		if (st) {
			slot_put(c, s);
			cmd_done(c, sqe, st, 0);
			return;
		}
		s->fua = le32toh(sqe->cdw12) & NVME_RW_FUA;
	} else {
		if (dlen > TGT_NONDATA_MAX) {
			slot_put(c, s);
			cmd_done(c, sqe, SF_GEN(NVME_SC_INVALID_FIELD) |
				 NVME_SF_DNR_BIT, 0);
			return;
		}
		if (!s->buf)
			s->buf = malloc(TGT_NONDATA_MAX);
		if (!s->buf) {
			slot_put(c, s);
			cmd_done(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0);
			return;
		}
		s->data = s->buf;
	}
	send_r2t(c, le16toh(sqe->cid), (uint16_t)(s - c->slots), 0, dlen);
}

/* Is cid (little endian) a command still outstanding on this queue: one
 * waiting for its data, or an Asynchronous Event Request? */
static bool cid_in_use(struct tgt_conn *c, uint16_t cid)
{
	bool used = false;

	for (uint32_t i = 0; c->nr_pending && i < c->nslots; i++)
		if (c->slots[i].used && c->slots[i].sqe.cid == cid)
			return true;
	if (c->qid == 0 && c->ctrl) {
		pthread_mutex_lock(&c->ctrl->lock);
		for (int i = 0; i < c->ctrl->nr_aer && !used; i++)
			used = c->ctrl->aer_cid[i] == le16toh(cid);
		pthread_mutex_unlock(&c->ctrl->lock);
	}
	return used;
}

/* CapsuleCmd (§3.6.2.6): the SQE, maybe in-capsule data. */
static int handle_cmd(struct tgt_conn *c, const uint8_t *hdr,
		      const struct pdu_info *info)
{
	struct nvme_sqe sqe;
	const uint8_t *icdata = NULL;
	uint32_t iclen = info->data_len, dlen;
	uint8_t sgltype, fctype;
	unsigned dir;
	bool fabrics;

	memcpy(&sqe, hdr + 8, sizeof sqe);
	c->sqhd = (uint16_t)(c->sqhd + 1);
	if (c->sqsize)
		c->sqhd %= c->sqsize;
	fabrics = sqe.opcode == NVME_FABRICS_COMMAND;
	fctype = ((uint8_t *)&sqe)[NVMF_SQE_FCTYPE];
	dlen = le32toh(sqe.dptr.length);
	sgltype = sqe.dptr.type;
	dir = data_dir(&sqe);

	if (iclen)
		icdata = hdr + info->pdo;
	if (!c->connected && !(fabrics && fctype == NVMF_FCTYPE_CONNECT)) {
		cmd_done(c, &sqe, SF_GEN(NVME_SC_CMD_SEQ_ERROR) | NVME_SF_DNR_BIT,
			 0);
		return 0;
	}
	/* DH-HMAC-CHAP asked for and not done: only its commands (and
	 * Disconnect) until then (Authentication Required, as nvmet). */
	if (unlikely(c->auth_pending) &&
	    !(fabrics && (fctype == NVMF_FCTYPE_AUTH_SEND ||
			  fctype == NVMF_FCTYPE_AUTH_RECV ||
			  fctype == NVMF_FCTYPE_DISCONNECT))) {
		cmd_done(c, &sqe, SF_CMD(NVME_SC_AUTH_REQUIRED) | NVME_SF_DNR_BIT, 0);
		return 0;
	}
	if (c->qid)
		STAT_ADD(c->st.io, 1);
	else
		STAT_ADD(c->st.admin, 1);
	if (unlikely(cid_in_use(c, sqe.cid))) {
		/* NVMe Base 2.0 §4.2: a CID is unique among the commands
		 * outstanding on a queue. */
		warnx("%s: qid %u: command ID %u is already in use", c->peer,
		      c->qid, le16toh(sqe.cid));
		cmd_done(c, &sqe, SF_GEN(NVME_SC_CID_CONFLICT) | NVME_SF_DNR_BIT,
			 0);
		return 0;
	}
	if (sqe.flags & 0x03) { /* fused operations: not supported */
		cmd_done(c, &sqe, SF_GEN(NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT,
			 0);
		return 0;
	}
	if ((iclen || dlen) && (sqe.flags & 0xc0) == 0) {
		/* PRPs: fabrics commands describe data with SGLs only. */
		cmd_done(c, &sqe, SF_GEN(NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT,
			 0);
		return 0;
	}
	if (iclen) {
		uint16_t st = 0;

		if (sgltype != NVME_SGL_INCAPSULE)
			st = SF_GEN(NVME_SC_SGL_INVALID_TYPE);
		else if (le64toh(sqe.dptr.addr) != 0)
			st = SF_GEN(NVME_SC_SGL_INVALID_OFFSET); /* ICDOFF 0 */
		else if (dlen != iclen)
			st = SF_GEN(NVME_SC_SGL_INVALID_DATA);
		else if (dir != 1)
			st = SF_GEN(NVME_SC_INVALID_FIELD);
		else if (c->ddgst &&
			 crc32c(0, icdata, iclen) != le32_get(icdata + iclen))
			/* §3.5.4: a data digest error is a transport error */
			st = SF_GEN(NVME_SC_TRANSIENT_TRANSPORT);
		if (st) {
			if (st == SF_GEN(NVME_SC_TRANSIENT_TRANSPORT))
				warnx("%s: data digest error in CapsuleCmd cid %u",
				      c->peer, le16toh(sqe.cid));
			cmd_done(c, &sqe, st | (st == SF_GEN(NVME_SC_TRANSIENT_TRANSPORT) ?
					  0 : NVME_SF_DNR_BIT), 0);
			return 0;
		}
	} else if (dlen) {
		uint16_t st = 0;

		if (sgltype == NVME_SGL_INCAPSULE)
			st = SF_GEN(NVME_SC_SGL_INVALID_DATA);
		else if (sgltype != NVME_SGL_TRANSPORT)
			st = SF_GEN(NVME_SC_SGL_INVALID_TYPE);
		else if (dir == 0 || dir == 3)
			st = SF_GEN(NVME_SC_INVALID_FIELD);
		if (st) {
			cmd_done(c, &sqe, st | NVME_SF_DNR_BIT, 0);
			return 0;
		}
	}

	if (fabrics) {
		if (dir == 1 && dlen && !iclen) {
			start_r2t(c, &sqe, dlen);
			return 0;
		}
		fabrics_cmd(c, &sqe, icdata, iclen ? iclen : dlen);
		return 0;
	}
	if (!ctrl_ready(c->ctrl)) {
		cmd_done(c, &sqe, SF_GEN(NVME_SC_CMD_SEQ_ERROR) | NVME_SF_DNR_BIT,
			 0);
		return 0;
	}
	if (fault_on_arrival(c, &sqe))
		return 0;
	if (dir == 1 && dlen && !iclen) {
		start_r2t(c, &sqe, dlen);
		return 0;
	}
	cmd_exec(c, &sqe, icdata, iclen ? iclen : dlen);
	return 0;
}

/* H2CData (§3.6.2.8): data for a command we sent an R2T for. */
static int handle_h2c(struct tgt_conn *c, const uint8_t *hdr,
		      const struct pdu_info *info)
{
	uint8_t h[NVME_TCP_DATA_HLEN];
	uint16_t cccid = le16_get(hdr + 8), ttag = le16_get(hdr + 10);
	uint32_t datao = le32_get(hdr + 12), datal = le32_get(hdr + 16);
	struct tgt_slot *s;
	uint8_t *dst = NULL;
	bool last;
	char msg[160];

	memcpy(h, hdr, sizeof h);
	if (datal != info->data_len) {
		snprintf(msg, sizeof msg,
			 "H2CData DATAL %u but the PDU carries %u bytes", datal,
			 info->data_len);
		return conn_fatal(c, NVME_TCP_FES_INVALID_HDR, 16, h, sizeof h,
				  msg);
	}
	if (ttag >= c->nslots || !c->slots[ttag].used) {
		snprintf(msg, sizeof msg, "H2CData with unknown TTAG %u", ttag);
		return conn_fatal(c, NVME_TCP_FES_INVALID_HDR, 10, h, sizeof h,
				  msg);
	}
	s = &c->slots[ttag];
	if (s->sqe.cid != htole16(cccid)) {
		snprintf(msg, sizeof msg,
			 "H2CData CCCID %u does not match TTAG %u (command %u)",
			 cccid, ttag, le16toh(s->sqe.cid));
		return conn_fatal(c, NVME_TCP_FES_INVALID_HDR, 8, h, sizeof h,
				  msg);
	}
	if (datao != s->rcvd || (uint64_t)datao + datal > s->len) {
		snprintf(msg, sizeof msg,
			 "H2CData for bytes %u..%u of command %u; expected offset %u of %u",
			 datao, datao + datal, cccid, s->rcvd, s->len);
		return conn_fatal(c, NVME_TCP_FES_DATA_RANGE,
				  datao != s->rcvd ? 12 : 16, h, sizeof h, msg);
	}
	last = datao + datal == s->len;
	if (last != !!(info->flags & NVME_TCP_F_DATA_LAST)) {
		snprintf(msg, sizeof msg,
			 "H2CData for command %u %s LAST_PDU at offset %u of %u",
			 cccid, last ? "lacks" : "sets", datao + datal, s->len);
		return conn_fatal(c, NVME_TCP_FES_INVALID_HDR, 1, h, sizeof h,
				  msg);
	}
	c->rx_off += info->hdr_len + info->pad_len;

	if (s->data)
		dst = s->data + datao;
	else if (!c->ddgst && !s->status)
		dst = io_write_direct(s->ns, s->off + datao, datal);
	if (!dst)
		dst = c->scratch;
	if (rx_copy(c, dst, datal) < 0)
		return -1;
	if (c->ddgst) {
		if (rx_need(c, NVME_TCP_DIGEST_LEN) < 0)
			return -1;
		if (crc32c(0, dst, datal) != le32_get(c->rx + c->rx_off)) {
			warnx("%s: data digest error in H2CData for cid %u",
			      c->peer, cccid);
			if (!s->status)
				s->status = SF_GEN(NVME_SC_TRANSIENT_TRANSPORT);
		}
		c->rx_off += NVME_TCP_DIGEST_LEN;
	}
	if (dst == c->scratch && !s->data && !s->status)
		s->status = io_write_data(s->ns, s->off + datao, dst, datal);
	s->rcvd += datal;
	if (!last)
		return 0;

	if (s->data) {
		struct nvme_sqe sqe = s->sqe;

		if (s->status) {
			cmd_done(c, &sqe, s->status, 0);
		} else if (sqe.opcode == NVME_FABRICS_COMMAND) {
			fabrics_cmd(c, &sqe, s->data, s->len);
		} else {
			cmd_exec(c, &sqe, s->data, s->len);
		}
	} else {
		if (!s->status && s->fua)
			s->status = io_write_finish(s->ns, true);
		io_account_write(c, s->len, s->status);
		cmd_done(c, &s->sqe, s->status, 0);
	}
	slot_put(c, s);
	return 0;
}

static int conn_loop(struct tgt_conn *c)
{
	struct pdu_info info;
	struct pdu_error perr;
	const uint8_t *hdr;
	size_t need;

	for (;;) {
		if (rx_need(c, sizeof(struct nvme_tcp_hdr)) < 0)
			return -1;
		hdr = c->rx + c->rx_off;
		if (pdu_validate_hdr(hdr, PDU_FROM_HOST,
				     c->ic_done ? &c->rxp : NULL, &info,
				     &perr) < 0)
			return conn_fatal(c, perr.fes, perr.fei, hdr,
					  sizeof(struct nvme_tcp_hdr), perr.msg);
		rx_hint_saw(&c->rxh, info.data_len);
		switch (info.type) {
		case NVME_TCP_H2C_DATA:
			need = info.hdr_len + info.pad_len;
			break;
		default: /* ICReq, CapsuleCmd, H2CTermReq: whole PDU at once */
			need = info.plen;
			break;
		}
		if (need > c->rx_cap)
			return conn_fatal(c, NVME_TCP_FES_DATA_LIMIT, 4, hdr,
					  sizeof(struct nvme_tcp_hdr),
					  "PDU larger than the receive buffer");
		if (rx_need(c, need) < 0)
			return -1;
		hdr = c->rx + c->rx_off;
		if (!pdu_hdgst_ok(hdr, &info))
			return conn_fatal(c, NVME_TCP_FES_HDR_DIGEST, 0, hdr,
					  info.hlen, "header digest error");
		switch (info.type) {
		case NVME_TCP_ICREQ:
			if (handle_icreq(c, hdr) < 0)
				return -1;
			c->rx_off += need;
			break;
		case NVME_TCP_CMD:
			if (handle_cmd(c, hdr, &info) < 0)
				return -1;
			c->rx_off += need;
			break;
		case NVME_TCP_H2C_DATA:
			if (handle_h2c(c, hdr, &info) < 0)
				return -1;
			break;
		case NVME_TCP_H2C_TERM:
			warnx("%s: host sent H2CTermReq: %s (FEI %u); closing",
			      c->peer, pdu_fes_name(le16_get(hdr + 8)),
			      le32_get(hdr + 10));
			conn_flush(c);
			conn_stop(c);
			return -1;
		default:
			return conn_fatal(c, NVME_TCP_FES_INVALID_HDR, 0, hdr,
					  info.hlen, "unexpected PDU type");
		}
		if (c->kill_after_flush) {
			conn_flush(c);
			return -1;
		}
	}
}

static int conn_setup(struct tgt_conn *c)
{
	c->rx_cap = MAX((size_t)RX_MIN_CAP, (size_t)opts.io_incapsule + 1024);
	c->rx = malloc(c->rx_cap);
	c->arena = malloc(TX_ARENA);
	c->scratch = malloc(opts.maxh2cdata);
	c->nslots = opts.queue_size;
	c->slots = calloc(c->nslots, sizeof *c->slots);
	if (!c->rx || !c->arena || !c->scratch || !c->slots)
		return -1;
	c->free_slot = -1;
	for (int i = (int)c->nslots - 1; i >= 0; i--) {
		c->slots[i].next_free = c->free_slot;
		c->free_slot = i;
	}
	fault_refresh(c);
	return 0;
}

static void conn_teardown(struct tgt_conn *c)
{
	struct timespec ts;

	tx_reset(c);
	for (uint32_t i = 0; c->slots && i < c->nslots; i++) {
		if (c->slots[i].ns)
			ns_put(c->slots[i].ns);
		free(c->slots[i].buf);
	}
	free(c->slots);
	c->slots = NULL;
	free(c->rx);
	free(c->arena);
	free(c->scratch);
	free(c->abuf);
	auth_free(c);
	for (int i = 0; i < TGT_RBUF_COUNT; i++)
		free(c->rbuf[i]);
	if (c->ssl)
		conn_tls_free(c);
	free(c->tls_wbuf);
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		STAT_ADD(c->st.cpu_ns, (uint64_t)ts.tv_sec * 1000000000u +
					       (uint64_t)ts.tv_nsec);
}

void *conn_thread(void *arg)
{
	struct tgt_conn *c = arg;
	uint64_t one = 1;

	if (conn_setup(c) < 0)
		warnx("%s: out of memory for a new connection", c->peer);
	else if (conn_tls_start(c) == 0 &&
		 (!c->ssl || (c->tls_wbuf = malloc(TLS_WBUF))))
		conn_loop(c);
	else
		conn_stop(c);
	conn_teardown(c);
	if (c->ctrl)
		ctrl_detach(c);
	debugx("%s: connection closed", c->peer);
	atomic_store(&c->finished, true);
	if (write(g.wake_fd, &one, sizeof one) < 0) {
		/* the main thread reaps at exit anyway */
	}
	return NULL;
}
