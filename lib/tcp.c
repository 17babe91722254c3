/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP connection: socket set-up, connection initialisation
 * (ICReq/ICResp, NVMe/TCP 1.0 §3.3), the receive state machine and
 * non-blocking sends.  The only file of the host that touches a socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host.h"
#include "netlink.h"

enum rx_state { RX_HDR, RX_PAD, RX_DATA, RX_DDGST };

/* Data at least this long is received straight into its destination
 * instead of through the staging buffer. */
#define RX_DIRECT_MIN 4096

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static void fmt_peer(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		port = ntohs(s4->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		port = ntohs(s6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "?");
	}
}

/* Bind the socket to a source address (host_traddr) or to the address of
 * an interface (host_iface, looked up with libnl-route). */
static int bind_source(int fd, int family, const struct tcp_connect_params *p)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int rc;

	if (p->host_iface && *p->host_iface) {
		rc = nl_iface_source_addr(p->host_iface, family, &ss, &sl);
		if (rc < 0)
			return rc;
	} else if (p->host_traddr && *p->host_traddr) {
		struct addrinfo hints = { .ai_family = family,
					  .ai_flags = AI_NUMERICHOST };
		struct addrinfo *ai;

		rc = getaddrinfo(p->host_traddr, NULL, &hints, &ai);
		if (rc)
			return nvmeof_err(EINVAL,
					  "host address '%s' is not a numeric address of the target's family: %s",
					  p->host_traddr, gai_strerror(rc));
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		sl = ai->ai_addrlen;
		freeaddrinfo(ai);
	} else {
		return 0;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		char a[80];

		fmt_peer((struct sockaddr *)&ss, a, sizeof a);
		return nvmeof_err(errno, "cannot bind to source address %s: %s",
				  a, strerror(errno));
	}
	return 0;
}

/* One address.  *fatal is set when the failure is ours, not the address's
 * (no socket, the source address cannot be bound): the next address would
 * fail the same way. */
static int connect_one(const struct addrinfo *ai,
		       const struct tcp_connect_params *p, int *fdp,
		       bool *fatal)
{
	int fd, rc, one = 1, soerr = 0;
	socklen_t sl = sizeof soerr;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0) {
		/* EAFNOSUPPORT (no IPv6 here): another address may do */
		*fatal = errno != EAFNOSUPPORT;
		return nvmeof_err(errno, "socket: %s", strerror(errno));
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	rc = bind_source(fd, ai->ai_family, p);
	if (rc < 0) {
		*fatal = true;
		goto fail;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			rc = -errno;
			goto fail;
		}
		rc = wait_fd(fd, POLLOUT, p->timeout_ms);
		if (rc < 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			rc = -soerr;
			goto fail;
		}
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

/* Receive exactly len bytes before the deadline (set-up only). */
static int recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *b = buf;
	size_t got = 0;
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (got < len) {
		ssize_t n = recv(fd, b + got, len - got, MSG_DONTWAIT);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		uint64_t now = now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		int rc = wait_fd(fd, POLLIN,
				 (int)((deadline - now) / 1000000ull) + 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *b = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, b + done, len - done,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int rc = wait_fd(fd, POLLOUT, timeout_ms);
		if (rc < 0)
			return rc;
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
	rc = send_all(c->fd, buf, sizeof buf, p->timeout_ms);
	if (rc < 0)
		return nvmeof_err(-rc, "%s: sending ICReq: %s", c->peer,
				  strerror(-rc));
	rc = recv_all(c->fd, buf, 8, p->timeout_ms);
	if (rc < 0)
		goto io_err;
	if (pdu_validate_hdr(buf, PDU_FROM_CTRL, NULL, &info, &perr) < 0)
		return nvmeof_err(EPROTO, "%s: bad answer to ICReq: %s",
				  c->peer, perr.msg);
	if (info.type == NVME_TCP_C2H_TERM) {
		uint8_t t[NVME_TCP_TERM_MAX_PLEN];

		rc = recv_all(c->fd, t + 8, info.plen - 8, p->timeout_ms);
		memcpy(t, buf, 8);
		return nvmeof_err(ECONNREFUSED,
				  "%s: controller refused the connection (C2HTermReq: %s)",
				  c->peer,
				  rc < 0 ? "?" : pdu_fes_name(le16_get(t + 8)));
	}
	rc = recv_all(c->fd, buf + 8, NVME_TCP_IC_HLEN - 8, p->timeout_ms);
	if (rc < 0)
		goto io_err;
	if (pdu_check_icresp(buf, &perr) < 0) {
		tcp_terminate(c, perr.fes, perr.fei, buf, NVME_TCP_IC_HLEN);
		return nvmeof_err(EPROTO, "%s: %s", c->peer, perr.msg);
	}
	/* The controller may only turn on a digest the host asked for. */
	c->hdgst = buf[11] & NVME_TCP_HDGST_ENABLE;
	c->ddgst = buf[11] & NVME_TCP_DDGST_ENABLE;
	if ((c->hdgst && !p->hdgst) || (c->ddgst && !p->ddgst)) {
		tcp_terminate(c, NVME_TCP_FES_INVALID_HDR, 11, buf,
			      NVME_TCP_IC_HLEN);
		return nvmeof_err(EPROTO,
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
		return nvmeof_err(ECONNRESET,
				  "%s: connection closed during connection initialization (not an NVMe/TCP controller?)",
				  c->peer);
	if (rc == -ETIMEDOUT)
		return nvmeof_err(ETIMEDOUT,
				  "%s: no ICResp within %d ms (not an NVMe/TCP controller?)",
				  c->peer, p->timeout_ms);
	return nvmeof_err(-rc, "%s: receiving ICResp: %s", c->peer,
			  strerror(-rc));
}

int tcp_connect(const struct tcp_connect_params *p, struct tcp_conn **out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = 0 };
	struct addrinfo *res = NULL;
	int rc;

	rc = getaddrinfo(p->traddr, p->trsvcid, &hints, &res);
	if (rc)
		return nvmeof_err(rc == EAI_SYSTEM ? errno : EHOSTUNREACH,
				  "cannot resolve %s port %s: %s", p->traddr,
				  p->trsvcid, gai_strerror(rc));
	rc = tcp_connect_addrs(res, p, out);
	freeaddrinfo(res);
	return rc;
}

int tcp_connect_addrs(const struct addrinfo *res,
		      const struct tcp_connect_params *p, struct tcp_conn **out)
{
	const struct addrinfo *ai;
	struct tcp_conn *c;
	int rc, fd = -1, last = ECONNREFUSED;
	char last_peer[80] = "";

	for (ai = res; ai; ai = ai->ai_next) {
		bool fatal = false;

		fmt_peer(ai->ai_addr, last_peer, sizeof last_peer);
		rc = connect_one(ai, p, &fd, &fatal);
		if (rc == 0)
			break;
		if (fatal)
			return rc; /* the message says why */
		last = -rc;
	}
	if (fd < 0) {
		if (last == ETIMEDOUT)
			return nvmeof_err(ETIMEDOUT,
					  "cannot connect to %s: no answer within %d ms",
					  last_peer, p->timeout_ms);
		return nvmeof_err(last, "cannot connect to %s: %s", last_peer,
				  strerror(last));
	}

	c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return nvmeof_err(ENOMEM, "out of memory");
	}
	c->fd = fd;
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;

		if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
			fmt_peer((struct sockaddr *)&ss, c->peer,
				 sizeof c->peer);
	}
	c->rbuf = malloc(TCP_RBUF_SIZE);
	if (!c->rbuf) {
		tcp_close(c);
		return nvmeof_err(ENOMEM, "out of memory");
	}
	rc = ic_exchange(c, p);
	if (rc < 0) {
		tcp_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void tcp_close(struct tcp_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c);
}

void tcp_terminate(struct tcp_conn *c, uint16_t fes, uint32_t fei,
		   const void *bad_hdr, size_t bad_len)
{
	uint8_t buf[NVME_TCP_TERM_MAX_PLEN];
	size_t n;

	if (c->fd < 0)
		return;
	n = pdu_build_term(buf, NVME_TCP_H2C_TERM, fes, fei, bad_hdr, bad_len);
	/* Best effort: the connection is finished whatever happens. */
	(void)!send(c->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(c->fd, SHUT_RDWR);
}

ssize_t tcp_sendv(struct tcp_conn *c, const struct iovec *iov, int iovcnt)
{
	struct msghdr mh = { .msg_iov = (struct iovec *)iov,
			     .msg_iovlen = (size_t)iovcnt };
	ssize_t n;

	do
		n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return nvmeof_err(errno, "%s: send: %s", c->peer,
				  strerror(errno));
	}
	c->tx_bytes += (uint64_t)n;
	return n;
}

/* Fill the staging buffer.  Returns bytes read, 0 if nothing is pending,
 * or a negative errno (ECONNRESET on an orderly close). */
static int rx_fill(struct tcp_conn *c)
{
	ssize_t n;

	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
	do
		n = recv(c->fd, c->rbuf + c->rlen, TCP_RBUF_SIZE - c->rlen,
			 MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		c->rlen += (uint32_t)n;
		c->rx_bytes += (uint64_t)n;
		return (int)n;
	}
	if (n == 0)
		return -ECONNRESET;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	return -errno;
}

/* Take up to want bytes into dst (dst NULL: skip them).  Large reads with
 * an empty staging buffer go straight to dst.  Returns bytes taken, 0 when
 * nothing is available, or a negative errno. */
static int rx_take(struct tcp_conn *c, uint8_t *dst, uint32_t want)
{
	uint32_t avail = c->rlen - c->rpos;
	int rc;

	if (!avail && dst && want >= RX_DIRECT_MIN) {
		ssize_t n;

		do
			n = recv(c->fd, dst, want, MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n > 0) {
			c->rx_bytes += (uint64_t)n;
			return (int)n;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -errno;
	}
	if (!avail) {
		rc = rx_fill(c);
		if (rc <= 0)
			return rc;
		avail = c->rlen - c->rpos;
	}
	if (want > avail)
		want = avail;
	if (dst)
		memcpy(dst, c->rbuf + c->rpos, want);
	c->rpos += want;
	return (int)want;
}

static int rx_closed(struct tcp_conn *c, int rc)
{
	if (rc == -ECONNRESET)
		return nvmeof_err(ECONNRESET, "%s: the controller closed the connection",
				  c->peer);
	return nvmeof_err(-rc, "%s: receive: %s", c->peer, strerror(-rc));
}

static int rx_protocol_error(struct tcp_conn *c, const struct pdu_error *e)
{
	tcp_terminate(c, e->fes, e->fei, c->hdr, c->hdr_got);
	return nvmeof_err(EPROTO, "%s: %s", c->peer, e->msg);
}

int tcp_rx(struct tcp_conn *c, const struct tcp_rx_ops *ops, void *ctx)
{
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
				shutdown(c->fd, SHUT_RDWR);
				return nvmeof_err(ECONNABORTED,
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
			rc = ops->on_hdr(ctx, &c->info, c->hdr, &c->dst);
			if (rc < 0) {
				struct pdu_error e = {
					.fes = NVME_TCP_FES_INVALID_HDR };
				tcp_terminate(c, e.fes, 0, c->hdr, c->hdr_got);
				return rc;
			}
			c->hdr_got = 0;
			if (!c->info.data_len) {
				done++;
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
			rc = ops->on_data(ctx, &c->info, c->hdr, ok);
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
