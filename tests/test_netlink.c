/* SPDX-License-Identifier: MIT */
/* lib/netlink.c: interface source addresses and the link watcher.
 * The watcher's transitions are checked on a veth pair in a private network
 * namespace (root only; skipped with the reason otherwise).  Addresses used
 * there are documentation ranges (RFC 5737, RFC 3849) and exist only inside
 * that namespace; no packet is sent. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* unshare(), CLONE_NEWNET */
#endif
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "netlink.h"
#include "cr_skip_main.h"

/* The namespace test runs in a child forked from Criterion's worker, which
 * has a second thread; LeakSanitizer's exit-time check cannot suspend it
 * there and warns of false leaks.  So the child leaves with _exit() and
 * counts the heap itself: the bytes allocated after the watcher is closed
 * must be what they were before it was opened. */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
/* From <sanitizer/allocator_interface.h>, which not every compiler ships. */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_bytes(void) { return __sanitizer_get_current_allocated_bytes(); }
#else
static size_t heap_bytes(void) { return 0; }
#endif

static const char *ntop(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	const void *a = ss->ss_family == AF_INET
				? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
				: (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (!inet_ntop(ss->ss_family, a, buf, (socklen_t)n))
		snprintf(buf, n, "(family %d)", ss->ss_family);
	return buf;
}

Test(netlink, lo_ipv4)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char txt[64];

	cr_assert_eq(nl_iface_source_addr("lo", AF_INET, &ss, &len), 0, "%s",
		     nvmeof_get_error());
	cr_assert_eq(ss.ss_family, AF_INET);
	cr_expect_eq(len, sizeof(struct sockaddr_in));
	cr_expect_str_eq(ntop(&ss, txt, sizeof txt), "127.0.0.1");
	cr_expect_eq(((struct sockaddr_in *)&ss)->sin_port, 0);
}

Test(netlink, lo_unspec_prefers_ipv4)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char txt[64];

	cr_assert_eq(nl_iface_source_addr("lo", AF_UNSPEC, &ss, &len), 0, "%s",
		     nvmeof_get_error());
	cr_expect_str_eq(ntop(&ss, txt, sizeof txt), "127.0.0.1");
}

Test(netlink, lo_ipv6)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char txt[64];
	int r = nl_iface_source_addr("lo", AF_INET6, &ss, &len);

	if (r == -EADDRNOTAVAIL)
		cr_skip_test("lo has no IPv6 address here: %s", nvmeof_get_error());
	cr_assert_eq(r, 0, "%s", nvmeof_get_error());
	cr_expect_eq(len, sizeof(struct sockaddr_in6));
	cr_expect_str_eq(ntop(&ss, txt, sizeof txt), "::1");
}

Test(netlink, missing_interface)
{
	struct sockaddr_storage ss;
	socklen_t len;

	cr_expect_eq(nl_iface_source_addr("nvmeof-nope0", AF_INET, &ss, &len), -ENODEV);
	cr_expect_eq(nvmeof_get_errno(), ENODEV);
	cr_expect(strstr(nvmeof_get_error(), "interface 'nvmeof-nope0' does not exist"),
		  "%s", nvmeof_get_error());
}

Test(netlink, bad_arguments)
{
	struct sockaddr_storage ss;
	socklen_t len;

	cr_expect_eq(nl_iface_source_addr("a-name-of-16-chr", AF_INET, &ss, &len), -EINVAL);
	cr_expect(strstr(nvmeof_get_error(), "'a-name-of-16-chr' is longer than 15"),
		  "%s", nvmeof_get_error());
	cr_expect_eq(nl_iface_source_addr("", AF_INET, &ss, &len), -EINVAL);
	cr_expect_eq(nl_iface_source_addr(NULL, AF_INET, &ss, &len), -EINVAL);
	cr_expect_eq(nl_iface_source_addr("lo", AF_PACKET, &ss, &len), -EINVAL);
	cr_expect(strstr(nvmeof_get_error(), "'lo'") != NULL, "%s", nvmeof_get_error());
	cr_expect_eq(nl_iface_source_addr("lo", AF_INET, NULL, &len), -EINVAL);
	cr_expect_eq(nl_iface_source_addr("lo", AF_INET, &ss, NULL), -EINVAL);
}

static void count_cb(void *arg, bool up)
{
	(void)up;
	++*(int *)arg;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Criterion does not fail a test whose worker LeakSanitizer flags at exit,
 * so the heap is counted here too (see heap_bytes()). */
Test(netlink, watch_open_close)
{
	int calls = 0, before = open_fds();
	size_t heap0;

	nl_watch_close(nl_watch_open("lo", count_cb, &calls)); /* warm up libnl */
	nl_watch_close(nl_watch_open("nvmeof-nope0", count_cb, &calls));
	heap0 = heap_bytes();
	cr_expect_null(nl_watch_open("nvmeof-nope0", count_cb, &calls));
	for (int i = 0; i < 50; i++) {
		struct nl_watch *w = nl_watch_open("lo", count_cb, &calls);

		cr_assert_not_null(w, "%s", nvmeof_get_error());
		cr_assert_geq(nl_watch_fd(w), 0);
		cr_expect(nl_watch_up(w), "lo is up and has 127.0.0.1");
		cr_expect_geq(nl_watch_process(w), 0, "%s", nvmeof_get_error());
		nl_watch_close(w);
	}
	nl_watch_close(NULL);
	cr_expect_eq(calls, 0);
	cr_expect_eq(open_fds(), before, "descriptors leaked");
	cr_expect_eq(heap_bytes(), heap0, "heap grew by %zd bytes",
		     (ssize_t)(heap_bytes() - heap0));
}

Test(netlink, watch_errors)
{
	int calls = 0;

	errno = 0;
	cr_expect_null(nl_watch_open("nvmeof-nope0", count_cb, &calls));
	cr_expect_eq(errno, ENODEV);
	cr_expect(strstr(nvmeof_get_error(), "'nvmeof-nope0' does not exist"), "%s",
		  nvmeof_get_error());
	errno = 0;
	cr_expect_null(nl_watch_open("lo", NULL, NULL));
	cr_expect_eq(errno, EINVAL);
	cr_expect_null(nl_watch_open("", count_cb, &calls));
	cr_expect_eq(errno, EINVAL);
}

/* ---- transitions, in a network namespace of our own --------------------- */

#define SKIP_CODE 77

static int report_fd = -1;
static bool events[64];
static int nevents;

static void ev_cb(void *arg, bool up)
{
	(void)arg;
	if (nevents < (int)ARRAY_SIZE(events))
		events[nevents] = up;
	nevents++;
}

static void NVMEOF_PRINTF(2, 3) child_end(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n > 0 && write(report_fd, msg, MIN((size_t)n, sizeof msg - 1)) < 0)
		code = 2;
	_exit(code);
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0)
		child_end(1, "command failed: %s", cmd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Poll and process for up to secs, until there are `want` events. */
static void pump(struct nl_watch *w, int want, double secs)
{
	double end = now() + secs;

	while (nevents < want && now() < end) {
		struct pollfd p = { .fd = nl_watch_fd(w), .events = POLLIN };

		if (poll(&p, 1, 50) < 0 && errno != EINTR)
			child_end(1, "poll: %s", strerror(errno));
		if (nl_watch_process(w) < 0)
			child_end(1, "nl_watch_process: %s", nvmeof_get_error());
	}
}

static void expect_event(struct nl_watch *w, bool up, const char *after)
{
	int want = nevents + 1;

	pump(w, want, 5.0);
	if (nevents < want)
		child_end(1, "no callback after '%s' (wanted %s)", after,
			  up ? "up" : "down");
	if (nevents > want || events[want - 1] != up)
		child_end(1, "after '%s': callback said %s, wanted %s (%d calls)", after,
			  events[want - 1] ? "up" : "down", up ? "up" : "down", nevents);
	if (nl_watch_up(w) != up)
		child_end(1, "after '%s': nl_watch_up() disagrees with the callback", after);
}

static void expect_quiet(struct nl_watch *w, const char *after)
{
	int had = nevents;

	pump(w, had + 1, 0.4);
	if (nevents != had)
		child_end(1, "after '%s': unexpected callback (%s)", after,
			  events[had] ? "up" : "down");
}

static void expect_addr(const char *ifname, int family, const char *want)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char txt[64];
	int r = nl_iface_source_addr(ifname, family, &ss, &len);

	if (r != 0)
		child_end(1, "%s: %s", ifname, nvmeof_get_error());
	if (strcmp(ntop(&ss, txt, sizeof txt), want) != 0)
		child_end(1, "%s: source address %s, wanted %s", ifname, txt, want);
}

static void netns_child(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct nl_watch *w;
	size_t heap0;

	if (unshare(CLONE_NEWNET) != 0)
		child_end(SKIP_CODE, "unshare(CLONE_NEWNET): %s", strerror(errno));
	if (system("ip link add nvw0 type veth peer name nvw1 2>/dev/null") != 0)
		child_end(SKIP_CODE, "cannot create a veth pair in a new network namespace ('ip link add ... type veth' failed)");
	sh("ip addr add 192.0.2.1/24 dev nvw0");
	sh("ip -6 addr add 2001:db8::1/64 dev nvw0 nodad");

	/* Addresses are listed while the link is down. */
	expect_addr("nvw0", AF_INET, "192.0.2.1");
	expect_addr("nvw0", AF_INET6, "2001:db8::1");
	expect_addr("nvw0", AF_UNSPEC, "192.0.2.1");
	if (nl_iface_source_addr("nvw1", AF_INET, &ss, &len) != -EADDRNOTAVAIL ||
	    !strstr(nvmeof_get_error(), "interface 'nvw1' has no IPv4 address"))
		child_end(1, "nvw1 without an address: %s", nvmeof_get_error());

	/* Warm up whatever libnl sets up once, then count the heap. */
	nl_watch_close(nl_watch_open("nvw0", ev_cb, NULL));
	heap0 = heap_bytes();
	w = nl_watch_open("nvw0", ev_cb, NULL);
	if (!w)
		child_end(1, "nl_watch_open: %s", nvmeof_get_error());
	if (nl_watch_up(w))
		child_end(1, "nvw0 reported up before it was set up");

	sh("ip link set nvw0 up"); /* up, but the peer is down: no carrier */
	expect_quiet(w, "ip link set nvw0 up (peer down)");
	sh("ip link set nvw1 up");
	expect_event(w, true, "ip link set nvw1 up");
	sh("ip link set nvw1 down");
	expect_event(w, false, "ip link set nvw1 down");
	sh("ip link set nvw1 up");
	expect_event(w, true, "ip link set nvw1 up (again)");
	sh("ip addr flush dev nvw0");
	expect_event(w, false, "ip addr flush dev nvw0");
	sh("ip addr add 192.0.2.1/24 dev nvw0");
	expect_event(w, true, "ip addr add 192.0.2.1/24 dev nvw0");
	sh("ip link set nvw0 down");
	expect_event(w, false, "ip link set nvw0 down");
	sh("ip link set nvw0 up");
	expect_event(w, true, "ip link set nvw0 up");
	sh("ip link del nvw0");
	expect_event(w, false, "ip link del nvw0");
	/* The same name again is the same interface to the watcher. */
	sh("ip link add nvw0 type veth peer name nvw1 && ip addr add 192.0.2.1/24 dev nvw0 && "
	   "ip link set nvw1 up && ip link set nvw0 up");
	expect_event(w, true, "ip link add nvw0 ... up (recreated)");
	expect_quiet(w, "the end");
	nl_watch_close(w);
	if (heap_bytes() != heap0)
		child_end(1, "the watcher leaked %zd bytes",
			  (ssize_t)(heap_bytes() - heap0));
	child_end(0, "ok");
}

Test(netlink, watch_transitions_in_netns)
{
	char msg[512] = "";
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot create a network namespace and a veth pair");
	if (system("command -v ip >/dev/null 2>&1") != 0)
		cr_skip_test("the 'ip' command (iproute2) is not installed");
	cr_assert_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		report_fd = fds[1];
		netns_child();
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child died: status 0x%x (%s)", status, msg);
	if (WEXITSTATUS(status) == SKIP_CODE) {
		fprintf(stderr, "watch_transitions_in_netns skipped: %s\n", msg);
		cr_skip_test("%s", msg);
	}
	cr_assert_eq(WEXITSTATUS(status), 0, "%s (exit %d)", msg, WEXITSTATUS(status));
	cr_expect_str_eq(msg, "ok");
}
