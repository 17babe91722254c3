/* SPDX-License-Identifier: MIT */
/*
 * lib/tcp.c's connect loop over the addresses of a name (issue 14): an
 * address that refuses must not end the loop, whatever error the calling
 * thread recorded before.  The address list is built here (a name that
 * resolves to ::1 and 127.0.0.1 would need /etc/hosts or an NSS module);
 * the target is nvmeof-target on 127.0.0.1 only.  Linked with lib/tcp.c
 * itself: transport_transport_tcp_connect_addrs() is internal.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "transport.h"
#include "target_proc.h"

static char dir[96];
static struct tproc T;

static void start(void)
{
	const char *const args[] = { "-n", "nqn.2026-11.org.example:tcp",
				     "--ns", "null:1M", NULL };
	char msg[256];

	snprintf(dir, sizeof dir, "%s/tcpconn.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(tproc_start(&T, dir, args, msg, sizeof msg), 0, "%s", msg);
}

static void stop(void)
{
	char p[160];

	tproc_stop(&T);
	for (const char *const *f = (const char *const[]){ "port", "ctl", "stderr", NULL };
	     *f; f++) {
		snprintf(p, sizeof p, "%s/%s", dir, *f);
		unlink(p);
	}
	rmdir(dir);
}

TestSuite(tcp_connect, .init = start, .fini = stop);

struct addrs {
	struct sockaddr_in6 v6;
	struct sockaddr_in v4[2];
	struct addrinfo ai[3];
};

/* ::1, 127.0.0.2 (nothing listens there: refused), then 127.0.0.1, all
 * on the target's port. */
static const struct addrinfo *make_list(struct addrs *a, int port)
{
	memset(a, 0, sizeof *a);
	a->v6.sin6_family = AF_INET6;
	a->v6.sin6_port = htons((uint16_t)port);
	a->v6.sin6_addr = in6addr_loopback;
	for (int i = 0; i < 2; i++) {
		a->v4[i].sin_family = AF_INET;
		a->v4[i].sin_port = htons((uint16_t)port);
		a->v4[i].sin_addr.s_addr = htonl(i ? 0x7f000001 : 0x7f000002);
	}
	a->ai[0] = (struct addrinfo){ .ai_family = AF_INET6,
				      .ai_socktype = SOCK_STREAM,
				      .ai_addrlen = sizeof a->v6,
				      .ai_addr = (struct sockaddr *)&a->v6,
				      .ai_next = &a->ai[1] };
	for (int i = 0; i < 2; i++)
		a->ai[1 + i] = (struct addrinfo){
			.ai_family = AF_INET,
			.ai_socktype = SOCK_STREAM,
			.ai_addrlen = sizeof a->v4[i],
			.ai_addr = (struct sockaddr *)&a->v4[i],
			.ai_next = i ? NULL : &a->ai[2] };
	return a->ai;
}

static void connect_through(int stale_err)
{
	struct transport_params p = { .timeout_ms = 5000 };
	struct transport *conn = NULL;
	struct addrs a;
	char want[40];
	int rc;

	/* What an earlier failed reconnect attempt left on this thread. */
	if (stale_err)
		nvmeof_err(stale_err, "cannot connect to [::1]:%d: %s", T.port,
			   strerror(stale_err));
	rc = transport_tcp_connect_addrs(make_list(&a, T.port), &p, &conn);
	cr_assert_eq(rc, 0, "stale error %d: %s", stale_err, nvmeof_get_error());
	snprintf(want, sizeof want, "127.0.0.1:%d", T.port);
	cr_assert_str_eq(conn->peer, want);
	transport_close(conn);
}

Test(tcp_connect, later_address_after_refusal)
{
	connect_through(0);
}

Test(tcp_connect, later_address_after_refusal_with_stale_error)
{
	connect_through(ECONNREFUSED);
}

Test(tcp_connect, later_address_after_refusal_with_stale_eafnosupport)
{
	connect_through(EAFNOSUPPORT);
}

/* A source address that cannot be bound ends the loop at once with the
 * reason (the next address would fail the same way). */
Test(tcp_connect, bad_source_address_stops)
{
	struct transport_params p = { .timeout_ms = 5000,
				      .host_traddr = "192.0.2.1" };
	struct transport *conn = NULL;
	struct addrs a;
	int rc;

	rc = transport_tcp_connect_addrs(make_list(&a, T.port)->ai_next, &p, &conn);
	cr_assert_eq(rc, -EADDRNOTAVAIL, "rc %d: %s", rc, nvmeof_get_error());
	cr_assert_not_null(strstr(nvmeof_get_error(), "cannot bind to source address 192.0.2.1"),
			   "%s", nvmeof_get_error());
}
