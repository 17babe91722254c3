/*
 * Resilience against the Linux kernel's nvmet (in QEMU): the guest drops its
 * port while I/O runs; libnvmeof reconnects by itself and loses nothing, or,
 * past ctrl_loss_tmo, fails the I/O with EIO.  These tests take the port
 * down, so run-interop.sh runs them one at a time, after the others.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvmeof.h"

#define SUB2 "nqn.2026-11.org.example:linux-nvmet-2"
#define LBA 4096u
#define MiB (1024u * 1024u)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run a command in the guest (nvmet-vm exec). */
static int guest(const char *cmd)
{
	const char *vm = getenv("NVMEOF_INTEROP_VM");
	const char *st = getenv("NVMEOF_INTEROP_STATE");
	char buf[1024];

	cr_assert(vm && st, "run through run-interop.sh");
	snprintf(buf, sizeof buf, "'%s' exec '%s' '%s' >/dev/null", vm, st, cmd);
	return system(buf);
}

struct dropper {
	pthread_t t;
	int seconds;
	int rc;
};

static void *drop_main(void *arg)
{
	struct dropper *d = arg;
	char cmd[64];

	snprintf(cmd, sizeof cmd, "port_drop %d", d->seconds);
	d->rc = guest(cmd);
	return NULL;
}

static struct nvmeof_ctrl *open_resilient(int ctrl_loss_tmo)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c;
	const char *port = getenv("NVMEOF_INTEROP_PORT");

	cr_assert(port, "NVMEOF_INTEROP_PORT");
	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = port;
	o.subnqn = SUB2;
	o.kato_ms = 2000;
	o.reconnect_delay = 1;
	o.ctrl_loss_tmo = ctrl_loss_tmo;
	o.connect_timeout_ms = 3000;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "%s", nvmeof_get_error());
	return c;
}

struct io_loop {
	struct nvmeof_ctrl *c;
	volatile bool stop;
	unsigned rounds;
	int rc;
	char err[300];
};

/* Write 1 MiB, read it back, compare; over and over. */
static void *io_main(void *arg)
{
	struct io_loop *l = arg;
	uint8_t *w = malloc(MiB), *r = malloc(MiB);
	uint64_t slba = 12 * MiB / LBA;

	while (!l->stop && w && r) {
		for (size_t i = 0; i < MiB; i++)
			w[i] = (uint8_t)(i * 31 + l->rounds * 7 + (i >> 12));
		l->rc = nvmeof_write(l->c, 1, slba, MiB / LBA, w, false);
		if (!l->rc)
			l->rc = nvmeof_read(l->c, 1, slba, MiB / LBA, r);
		if (l->rc) {
			snprintf(l->err, sizeof l->err, "round %u: %s", l->rounds,
				 nvmeof_get_error());
			break;
		}
		if (memcmp(w, r, MiB)) {
			l->rc = -EILSEQ;
			snprintf(l->err, sizeof l->err,
				 "round %u: read-back differs", l->rounds);
			break;
		}
		l->rounds++;
	}
	free(w);
	free(r);
	return NULL;
}

Test(resilience, port_dropped_5s_nothing_lost, .timeout = 120)
{
	struct nvmeof_ctrl *c = open_resilient(60);
	struct io_loop l = { .c = c };
	struct dropper d = { .seconds = 5 };
	struct nvmeof_ctrl_status st;
	struct nvmeof_stats stats;
	pthread_t t;
	unsigned before;

	cr_assert_eq(pthread_create(&t, NULL, io_main, &l), 0);
	sleep(1);
	before = l.rounds;
	cr_assert_eq(pthread_create(&d.t, NULL, drop_main, &d), 0);
	pthread_join(d.t, NULL);
	cr_assert_eq(d.rc, 0, "port_drop in the guest");
	/* The port is back: I/O must go on, with no error in between. */
	for (int i = 0; i < 200 && l.rounds < before + 5 && !l.rc; i++)
		usleep(100000);
	l.stop = true;
	pthread_join(t, NULL);
	cr_assert_eq(l.rc, 0, "I/O failed across the outage: %s", l.err);
	cr_assert_geq(l.rounds, before + 5, "I/O resumed (%u rounds, %u before)",
		      l.rounds, before);
	nvmeof_ctrl_status(c, &st);
	nvmeof_ctrl_stats(c, &stats);
	cr_log_info("after the outage: state %s, %u reconnect(s), %llu command(s) sent again, last error: %s",
		    st.state, st.reconnects, (unsigned long long)stats.retries,
		    st.last_error);
	cr_assert_str_eq(st.state, "live");
	cr_assert_geq(st.reconnects, 1, "it did reconnect");
	cr_assert_eq(nvmeof_disconnect(c), 0, "%s", nvmeof_get_error());
}

Test(resilience, ctrl_loss_tmo_fails_io_with_eio, .timeout = 120)
{
	struct nvmeof_ctrl *c = open_resilient(3);
	struct dropper d = { .seconds = 10 };
	uint8_t *b = malloc(MiB);
	double t0, t1;
	int rc = 0;

	cr_assert(b);
	cr_assert_eq(pthread_create(&d.t, NULL, drop_main, &d), 0);
	t0 = now_s();
	/* Reads go on until the association is lost for good. */
	while (now_s() - t0 < 30) {
		rc = nvmeof_read(c, 1, 0, MiB / LBA, b);
		if (rc)
			break;
		usleep(50000);
	}
	t1 = now_s();
	cr_log_info("I/O failed %.1f s after the port went down: %s", t1 - t0,
		    nvmeof_get_error());
	cr_assert_eq(rc, -EIO, "EIO, got %d (%s)", rc, nvmeof_get_error());
	/* ctrl_loss_tmo 3 s counts from when the loss was seen. */
	cr_assert(t1 - t0 >= 2.0 && t1 - t0 <= 10.0,
		  "failed after %.1f s, expected about 3", t1 - t0);
	cr_assert_str_eq(nvmeof_ctrl_state(c), "failed");
	/* New I/O fails at once, and the handle still closes cleanly. */
	cr_assert_eq(nvmeof_read(c, 1, 0, 1, b), -EIO);
	nvmeof_disconnect(c);
	pthread_join(d.t, NULL);
	cr_assert_eq(d.rc, 0, "port_drop in the guest");
	free(b);
}
