/* SPDX-License-Identifier: MIT */
/*
 * The transport under NVMe/TCP: a byte stream to the controller.  Plain
 * TCP today (tcp.c); TLS (NVMe/TCP secure channel) is another set of
 * operations behind the same calls, with nothing above changing.  The
 * NVMe/TCP data path (tcp_pdu.c) is the only user: it sends, receives and
 * waits through these, and nothing above it touches a socket.
 */
#ifndef NVMEOF_TRANSPORT_H
#define NVMEOF_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct addrinfo;
struct tls_params;
struct transport;

struct transport_params {
	const char *traddr;
	const char *trsvcid;
	const char *host_iface;   /* bind to this interface's address */
	const char *host_traddr;  /* bind to this source address */
	int timeout_ms;           /* connect */
	const struct tls_params *tls; /* transport_tls (tls.h): key and NQNs */
};

struct transport_ops {
	const char *name;
	/* A connected transport in *out, or a negative errno (message
	 * recorded). */
	int (*connect)(const struct transport_params *p, struct transport **out);
	/* Send without blocking: bytes taken (0: full, wait for POLLOUT on
	 * fd()), or a negative errno (message recorded).  Never SIGPIPE. */
	ssize_t (*sendv)(struct transport *t, const struct iovec *iov,
			 int iovcnt);
	/* Receive without blocking: bytes (> 0), 0 when nothing is there
	 * now, -ECONNRESET when the peer closed, or another negative errno
	 * (no message recorded).  Callers receive until 0 before waiting on
	 * fd(): a transport may hold bytes the socket no longer shows. */
	ssize_t (*recv)(struct transport *t, void *buf, size_t len);
	/* Stop both directions now (a thread in poll() on fd() wakes up);
	 * the descriptor stays valid until close(). */
	void (*shutdown)(struct transport *t);
	/* The descriptor to poll(2) for POLLIN/POLLOUT. */
	int (*fd)(const struct transport *t);
	/* The local address of the connection (which interface it uses). */
	int (*local_addr)(const struct transport *t,
			  struct sockaddr_storage *ss, socklen_t *len);
	void (*close)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	char peer[80];          /* "addr:port" for messages */
	uint64_t rx_bytes, tx_bytes;
};

/* tcp.c: plain TCP. */
extern const struct transport_ops transport_tcp;
/* The same connect with the addresses already resolved, each in turn until
 * one answers (tests give their own list). */
int transport_tcp_connect_addrs(const struct addrinfo *ai,
				const struct transport_params *p,
				struct transport **out);
/* A transport on a socket already connected (tests: a socketpair). */
int transport_tcp_from_fd(int fd, const char *peer, struct transport **out);

static inline ssize_t transport_sendv(struct transport *t,
				      const struct iovec *iov, int iovcnt)
{
	return t->ops->sendv(t, iov, iovcnt);
}

static inline ssize_t transport_recv(struct transport *t, void *buf,
				     size_t len)
{
	return t->ops->recv(t, buf, len);
}

static inline void transport_shutdown(struct transport *t)
{
	if (t)
		t->ops->shutdown(t);
}

static inline int transport_fd(const struct transport *t)
{
	return t ? t->ops->fd(t) : -1;
}

static inline void transport_close(struct transport *t)
{
	if (t)
		t->ops->close(t);
}

#endif
