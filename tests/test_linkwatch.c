/*
 * The link under an association (libnl-route): when it goes down the
 * association is marked failed at once, and when it comes back a reconnect
 * is tried at once, not at the next tick.
 *
 * The test process moves into a network namespace of its own, with one end
 * of a veth pair; the other end is in a second namespace where
 * nvmeof-target runs.  The addresses (198.18.0.0/30, RFC 2544's benchmark
 * range) exist only inside these two namespaces.  KATO and reconnect_delay
 * are 30 s, so only the link watch can explain a fast detection and a fast
 * recovery.  Needs root and ip(8); skipped (with the reason) otherwise.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nvmeof.h"
#include "cr_skip_main.h"

#define NQN "nqn.2026-11.org.example:linkwatch"
#define LBA 4096u

static char nsb[64];
static pid_t target_pid;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void teardown(void)
{
	if (target_pid > 0) {
		kill(target_pid, SIGTERM);
		waitpid(target_pid, NULL, 0);
	}
	if (nsb[0])
		sh("ip netns del %s 2>/dev/null", nsb);
}

struct io_loop {
	struct nvmeof_ctrl *c;
	volatile bool stop;
	unsigned rounds;
	int rc;
	char err[256];
};

static void *io_main(void *arg)
{
	struct io_loop *l = arg;
	uint8_t w[16 * LBA], r[16 * LBA];

	while (!l->stop) {
		memset(w, (int)(l->rounds & 0xff), sizeof w);
		l->rc = nvmeof_write(l->c, 1, 64, 16, w, false);
		if (!l->rc)
			l->rc = nvmeof_read(l->c, 1, 64, 16, r);
		if (!l->rc && memcmp(w, r, sizeof w))
			l->rc = -EILSEQ;
		if (l->rc) {
			snprintf(l->err, sizeof l->err, "%s", nvmeof_get_error());
			break;
		}
		l->rounds++;
	}
	return NULL;
}

static bool wait_state(struct nvmeof_ctrl *c, const char *st, double secs)
{
	double t0 = now_s();

	while (now_s() - t0 < secs) {
		if (!strcmp(nvmeof_ctrl_state(c), st))
			return true;
		usleep(20000);
	}
	return false;
}

Test(linkwatch, link_down_fails_at_once_link_up_reconnects_at_once,
     .fini = teardown, .timeout = 90)
{
	const char *b = getenv("NVMEOF_BUILDDIR");
	char target[512], portfile[128], port[16] = "";
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c;
	struct io_loop l = { 0 };
	pthread_t t;
	double t0, t_down, t_up;
	unsigned before;
	FILE *f;

	if (geteuid() != 0 || sh("command -v ip >/dev/null") != 0)
		cr_skip_test("needs root and ip(8) for network namespaces");
	snprintf(target, sizeof target, "%s/src/nvmeof-target", b ? b : "..");
	cr_assert_eq(access(target, X_OK), 0, "%s not built", target);
	snprintf(nsb, sizeof nsb, "nvmeof-lw-%d", (int)getpid());
	/* This process: a namespace of its own, with vA; vB goes to nsb. */
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(sh("ip netns add %s", nsb), 0);
	cr_assert_eq(sh("ip link add vA type veth peer name vB netns %s", nsb), 0);
	cr_assert_eq(sh("ip addr add 198.18.0.1/30 dev vA && ip link set vA up && ip link set lo up"), 0);
	cr_assert_eq(sh("ip -n %s addr add 198.18.0.2/30 dev vB && ip -n %s link set vB up && ip -n %s link set lo up",
			nsb, nsb, nsb), 0);
	snprintf(portfile, sizeof portfile, "/tmp/%s.port", nsb);
	unlink(portfile);
	target_pid = fork();
	cr_assert_geq(target_pid, 0);
	if (target_pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 2);
		execlp("ip", "ip", "netns", "exec", nsb, target, "-l",
		       "198.18.0.2:0", "--port-file", portfile, "-n", NQN,
		       "--ns", "ram:16M", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port[0]; i++) {
		usleep(50000);
		if ((f = fopen(portfile, "r"))) {
			if (!fgets(port, sizeof port, f))
				port[0] = '\0';
			fclose(f);
		}
	}
	port[strcspn(port, "\n")] = '\0';
	unlink(portfile);
	cr_assert(port[0], "the target did not start");

	nvmeof_opts_init(&o);
	o.traddr = "198.18.0.2";
	o.trsvcid = port;
	o.subnqn = NQN;
	o.kato_ms = 30000;
	o.reconnect_delay = 30;
	o.ctrl_loss_tmo = 120;
	o.connect_timeout_ms = 2000;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "%s", nvmeof_get_error());
	l.c = c;
	cr_assert_eq(pthread_create(&t, NULL, io_main, &l), 0);
	for (int i = 0; i < 100 && l.rounds < 3 && !l.rc; i++)
		usleep(20000);
	cr_assert_geq(l.rounds, 3, "I/O runs before the link goes down: %s", l.err);

	t0 = now_s();
	cr_assert_eq(sh("ip link set vA down"), 0);
	cr_assert(wait_state(c, "reconnecting", 5), "state %s 5 s after link down",
		  nvmeof_ctrl_state(c));
	t_down = now_s() - t0;
	sleep(2);
	before = l.rounds;
	t0 = now_s();
	cr_assert_eq(sh("ip link set vA up"), 0);
	cr_assert(wait_state(c, "live", 15), "state %s 15 s after link up",
		  nvmeof_ctrl_state(c));
	t_up = now_s() - t0;
	for (int i = 0; i < 100 && l.rounds < before + 3 && !l.rc; i++)
		usleep(50000);
	{
		struct nvmeof_stats stt;
		struct nvmeof_ctrl_status cs;

		nvmeof_ctrl_stats(c, &stt);
		nvmeof_ctrl_status(c, &cs);
		cr_log_info("rounds %u (before %u), retries %llu, commands %llu, state %s: %s",
			    l.rounds, before, (unsigned long long)stt.retries,
			    (unsigned long long)stt.commands, cs.state, cs.last_error);
	}
	l.stop = true;
	pthread_join(t, NULL);
	cr_log_info("link down -> reconnecting in %.2f s; link up -> live in %.2f s (KATO and reconnect_delay 30 s)",
		    t_down, t_up);
	cr_assert_lt(t_down, 1.5, "the link watch marked the failure at once");
	cr_assert_lt(t_up, 10.0, "the link watch brought the reconnect forward");
	cr_assert_eq(l.rc, 0, "I/O across the link flap: %s", l.err);
	cr_assert_geq(l.rounds, before + 3, "I/O resumed");
	nvmeof_disconnect(c);
}
