/* SPDX-License-Identifier: MIT */
/*
 * The plain TCP transport (transport.h): connecting (every address of the
 * name in turn, from a source address or interface), non-blocking sends
 * and receives, shutdown.  The only file of the host that touches a
 * socket; NVMe/TCP itself is tcp_pdu.c's.
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

#include "internal.h"
#include "netlink.h"
#include "transport.h"

struct tcp_transport {
	struct transport t;
	int fd;
};

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
static int bind_source(int fd, int family, const struct transport_params *p)
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
		       const struct transport_params *p, int *fdp,
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

static ssize_t tcp_t_sendv(struct transport *t, const struct iovec *iov,
			   int iovcnt)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	struct msghdr mh = { .msg_iov = (struct iovec *)iov,
			     .msg_iovlen = (size_t)iovcnt };
	ssize_t n;

	do
		n = sendmsg(tt->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return nvmeof_err(errno, "%s: send: %s", t->peer,
				  strerror(errno));
	}
	t->tx_bytes += (uint64_t)n;
	return n;
}

static ssize_t tcp_t_recv(struct transport *t, void *buf, size_t len)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	ssize_t n;

	do
		n = recv(tt->fd, buf, len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		t->rx_bytes += (uint64_t)n;
		return n;
	}
	if (n == 0)
		return len ? -ECONNRESET : 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	return -errno;
}

static void tcp_t_shutdown(struct transport *t)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;

	if (tt->fd >= 0)
		shutdown(tt->fd, SHUT_RDWR);
}

static int tcp_t_fd(const struct transport *t)
{
	return ((const struct tcp_transport *)t)->fd;
}

static int tcp_t_local_addr(const struct transport *t,
			    struct sockaddr_storage *ss, socklen_t *len)
{
	*len = sizeof *ss;
	if (getsockname(tcp_t_fd(t), (struct sockaddr *)ss, len) < 0)
		return -errno;
	return 0;
}

static void tcp_t_close(struct transport *t)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;

	if (tt->fd >= 0)
		close(tt->fd);
	free(tt);
}

static int tcp_t_connect(const struct transport_params *p,
			 struct transport **out);

const struct transport_ops transport_tcp = {
	.name = "tcp",
	.connect = tcp_t_connect,
	.sendv = tcp_t_sendv,
	.recv = tcp_t_recv,
	.shutdown = tcp_t_shutdown,
	.fd = tcp_t_fd,
	.local_addr = tcp_t_local_addr,
	.close = tcp_t_close,
};

int transport_tcp_from_fd(int fd, const char *peer, struct transport **out)
{
	struct tcp_transport *tt = calloc(1, sizeof *tt);

	if (!tt)
		return nvmeof_err(ENOMEM, "out of memory");
	tt->t.ops = &transport_tcp;
	tt->fd = fd;
	snprintf(tt->t.peer, sizeof tt->t.peer, "%s", peer ? peer : "?");
	*out = &tt->t;
	return 0;
}

static int tcp_t_connect(const struct transport_params *p,
			 struct transport **out)
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
	rc = transport_tcp_connect_addrs(res, p, out);
	freeaddrinfo(res);
	return rc;
}

int transport_tcp_connect_addrs(const struct addrinfo *res,
				const struct transport_params *p,
				struct transport **out)
{
	const struct addrinfo *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
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
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		fmt_peer((struct sockaddr *)&ss, last_peer, sizeof last_peer);
	rc = transport_tcp_from_fd(fd, last_peer, out);
	if (rc < 0)
		close(fd);
	return rc;
}
