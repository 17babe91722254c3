/*
 * Resilience against the Linux kernel's nvmet (in QEMU): the guest drops its
 * port while I/O runs, or holds a namespace's I/O (device-mapper suspend)
 * past the I/O timeout, so that the host aborts and rebuilds the
 * association; libnvmeof reconnects by itself and loses nothing, or, past
 * ctrl_loss_tmo, fails the I/O with EIO.  These tests take the port down
 * or add a namespace (or change the port's ANA state), so run-interop.sh
 * runs them one at a time, after the others.
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

/* ---- a namespace whose I/O stalls: Abort, then a new association -------- */

/* Namespace 3 of SUB2: a null_blk under a device-mapper device the guest
 * can hold (dm suspend): I/O sent to it then waits in the guest's kernel,
 * where nvmet cannot complete it. */
#define STALL_NSID 3

static void stall_ns_add(void)
{
	cr_assert_eq(guest("d=$(stall_dev_add stall 16) && ns_add_dev \"$SUBNQN2\" 3 \"$d\""),
		     0, "a stalling namespace in the guest (null_blk, dm)");
}

static void stall_ns_remove(void)
{
	/* Released first: nvmet waits for the held I/O to disable it. */
	guest("stall_dev_release stall; ns_remove \"$SUBNQN2\" 3; stall_dev_remove stall");
}

struct stalled_write {
	struct nvmeof_ctrl *c;
	const uint8_t *buf;
	volatile bool done;
	double secs;
	int rc;
	char err[300];
};

static void *stalled_write_main(void *arg)
{
	struct stalled_write *w = arg;
	double t0 = now_s();

	w->rc = nvmeof_write(w->c, STALL_NSID, 0, 4, w->buf, false);
	if (w->rc)
		snprintf(w->err, sizeof w->err, "%s", nvmeof_get_error());
	w->secs = now_s() - t0;
	w->done = true;
	return NULL;
}

/* Connect to SUB2 with a 1 s I/O timeout, write a known block to the
 * stalling namespace and read it back. */
static struct nvmeof_ctrl *stall_connect(int ctrl_loss_tmo, uint8_t *a)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c;
	uint8_t r[4 * LBA];

	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = getenv("NVMEOF_INTEROP_PORT");
	o.subnqn = SUB2;
	o.kato_ms = 2000;
	o.io_timeout_ms = 1000;
	o.reconnect_delay = 1;
	o.ctrl_loss_tmo = ctrl_loss_tmo;
	o.connect_timeout_ms = 3000;
	cr_assert_not_null(o.trsvcid, "NVMEOF_INTEROP_PORT");
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "%s", nvmeof_get_error());
	for (size_t i = 0; i < sizeof r; i++)
		a[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(nvmeof_write(c, STALL_NSID, 0, 4, a, false), 0, "%s",
		     nvmeof_get_error());
	cr_assert_eq(nvmeof_read(c, STALL_NSID, 0, 4, r), 0, "%s",
		     nvmeof_get_error());
	cr_assert_eq(memcmp(a, r, sizeof r), 0, "namespace 3 before the stall");
	return c;
}

/* Hold the device, start a write of b, and wait until the association is
 * lost: an Abort sent, then (Linux nvmet answers "not aborted") torn down.
 * Returns the seconds from the write to the loss. */
static double stall_until_lost(struct nvmeof_ctrl *c, struct stalled_write *w,
			       pthread_t *t, const uint8_t *b,
			       const struct nvmeof_stats *s0)
{
	struct nvmeof_ctrl_status st;
	struct nvmeof_stats s1;
	double t0, lost;

	cr_assert_eq(guest("stall_dev_hold stall"), 0, "dm suspend in the guest");
	w->c = c;
	w->buf = b;
	t0 = now_s();
	cr_assert_eq(pthread_create(t, NULL, stalled_write_main, w), 0);
	do {
		usleep(20000);
		nvmeof_ctrl_status(c, &st);
	} while (!strcmp(st.state, "live") && !w->done && now_s() - t0 < 15);
	lost = now_s() - t0;
	nvmeof_ctrl_stats(c, &s1);
	cr_log_info("lost %.1f s after the write was sent (%s): %s", lost,
		    st.state, st.last_error);
	cr_expect(!w->done, "the write returned while the device held it: %d %s",
		  w->rc, w->err);
	cr_expect_gt(s1.aborts, s0->aborts, "no Abort was sent");
	cr_expect_not_null(strstr(st.last_error,
				  "nor after an Abort (the controller did not abort it)"),
			   "lost because: %s", st.last_error);
	/* io_timeout 1 s, then the Abort, which nvmet answers "not aborted"
	 * (and slack for TCG) */
	cr_expect(lost >= 0.9 && lost <= 5.0, "lost after %.1f s", lost);
	return lost;
}

/* Linux nvmet's Abort is a "minimum viable" one: it answers at once that
 * the command was not aborted (dw0 bit 0 set).  So a command the namespace
 * holds past io_timeout gets an Abort, and on that answer the association
 * is torn down.  While the old queue
 * still has the held I/O, nvmet answers no new Connect (it lets the
 * teardown finish first): the attempts fail until the device lets go; then
 * the association is built again, the write is sent again and completes,
 * no error reaches the caller, and the data read back is what was written. */
Test(resilience, stalled_io_abort_then_reconnect, .timeout = 120,
     .init = stall_ns_add, .fini = stall_ns_remove)
{
	struct nvmeof_ctrl *c;
	struct nvmeof_ctrl_status st;
	struct nvmeof_stats s0, s1;
	struct stalled_write w = { 0 };
	uint8_t a[4 * LBA], b[4 * LBA], r[4 * LBA];
	pthread_t t;

	c = stall_connect(60, a);
	for (size_t i = 0; i < sizeof b; i++)
		b[i] = (uint8_t)(i * 13 + 5 + (i >> 9));
	nvmeof_ctrl_stats(c, &s0);
	stall_until_lost(c, &w, &t, b, &s0);
	sleep(2); /* a few reconnect attempts meet the held teardown */
	cr_assert(!w.done, "the write returned while the device held it");
	cr_assert_eq(guest("stall_dev_release stall"), 0, "dm resume in the guest");
	pthread_join(t, NULL);
	cr_log_info("the write returned after %.1f s: %d", w.secs, w.rc);
	cr_assert_eq(w.rc, 0, "the held write failed: %s", w.err);
	cr_assert_eq(nvmeof_read(c, STALL_NSID, 0, 4, r), 0, "%s",
		     nvmeof_get_error());
	cr_assert_eq(memcmp(b, r, sizeof r), 0, "read back after the stall");
	nvmeof_ctrl_status(c, &st);
	nvmeof_ctrl_stats(c, &s1);
	cr_log_info("after: state %s, %u reconnect(s), %llu Abort(s), %llu command(s) sent again",
		    st.state, st.reconnects,
		    (unsigned long long)(s1.aborts - s0.aborts),
		    (unsigned long long)(s1.retries - s0.retries));
	cr_assert_str_eq(st.state, "live");
	cr_assert_geq(st.reconnects, 1, "the association was not rebuilt");
	cr_assert_geq(s1.aborts, s0.aborts + 1, "no Abort was sent");
	cr_assert_gt(s1.retries, s0.retries, "the write was not sent again");
	cr_assert_eq(nvmeof_disconnect(c), 0, "%s", nvmeof_get_error());
}

/* The same stall held longer than ctrl_loss_tmo (3 s): the held write
 * fails with EIO about 3 s after the loss, new I/O fails at once, and the
 * handle still closes cleanly; the data is the old one or the new one,
 * never anything else. */
Test(resilience, stalled_io_past_ctrl_loss_tmo_fails_with_eio, .timeout = 120,
     .init = stall_ns_add, .fini = stall_ns_remove)
{
	struct nvmeof_ctrl *c, *c2;
	struct nvmeof_stats s0;
	struct stalled_write w = { 0 };
	uint8_t a[4 * LBA], b[4 * LBA], r[4 * LBA];
	pthread_t t;
	double lost, waited;

	c = stall_connect(3, a);
	memset(b, 0x5a, sizeof b);
	nvmeof_ctrl_stats(c, &s0);
	lost = stall_until_lost(c, &w, &t, b, &s0);
	pthread_join(t, NULL);
	waited = w.secs - lost;
	cr_log_info("the write failed %.1f s after the loss: %s", waited, w.err);
	cr_assert_eq(w.rc, -EIO, "EIO, got %d (%s)", w.rc, w.err);
	cr_assert(waited >= 2.0 && waited <= 8.0,
		  "failed %.1f s after the loss, expected about 3", waited);
	cr_assert_str_eq(nvmeof_ctrl_state(c), "failed");
	cr_assert_eq(nvmeof_read(c, STALL_NSID, 0, 1, r), -EIO);
	nvmeof_disconnect(c);
	cr_assert_eq(guest("stall_dev_release stall"), 0, "dm resume in the guest");
	/* A new association sees one of the two writes, whole (the held
	 * one went on in the guest once released). */
	c2 = open_resilient(60);
	cr_assert_eq(nvmeof_read(c2, STALL_NSID, 0, 4, r), 0, "%s",
		     nvmeof_get_error());
	cr_assert(!memcmp(a, r, sizeof r) || !memcmp(b, r, sizeof r),
		  "neither the old data nor the new");
	cr_assert_eq(nvmeof_disconnect(c2), 0, "%s", nvmeof_get_error());
}

/* ---- ANA (issue 18): nvmet's ANA Change notice and log 0Ch ------------- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned n;
} ana_ev = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };

static void ana_event_cb(void *arg, uint32_t dw0, const uint32_t *nsids,
			 size_t nr)
{
	(void)arg;
	(void)nsids;
	(void)nr;
	/* Notice (2), ANA Change (03h), log 0Ch */
	if ((dw0 & 7) != 2 || ((dw0 >> 8) & 0xff) != 3 ||
	    ((dw0 >> 16) & 0xff) != 0x0c)
		return;
	pthread_mutex_lock(&ana_ev.lock);
	ana_ev.n++;
	pthread_cond_broadcast(&ana_ev.cond);
	pthread_mutex_unlock(&ana_ev.lock);
}

/* Until n notices came; 30 s is a hang guard. */
static bool ana_wait(unsigned n)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	pthread_mutex_lock(&ana_ev.lock);
	while (ana_ev.n < n &&
	       pthread_cond_timedwait(&ana_ev.cond, &ana_ev.lock, &ts) == 0)
		;
	ok = ana_ev.n >= n;
	pthread_mutex_unlock(&ana_ev.lock);
	return ok;
}

static void ana_restore(void)
{
	(void)guest("wr optimized $NVMET/ports/1/ana_groups/1/ana_state");
}

/* Port 1's group 1 (every namespace's) goes inaccessible and back: nvmet
 * sends ANA Change, libnvmeof reads log 0Ch before the callback, I/O fails
 * while inaccessible and works (data verified) when optimized again. */
Test(resilience, ana_change_notice_and_state, .timeout = 120,
     .fini = ana_restore)
{
	struct nvmeof_ctrl *c = open_resilient(30);
	uint8_t w[8 * LBA], r[8 * LBA], st = 0;
	uint64_t slba = 14 * MiB / LBA;

	nvmeof_set_event_cb(c, ana_event_cb, NULL);
	cr_assert_eq(nvmeof_ana_state(c, 1, &st), 0, "%s", nvmeof_get_error());
	cr_expect_eq(st, 0x01, "optimized at connect");
	cr_assert_eq(guest("wr inaccessible $NVMET/ports/1/ana_groups/1/ana_state"),
		     0);
	cr_assert(ana_wait(1), "no ANA Change notice from nvmet");
	cr_assert_eq(nvmeof_ana_state(c, 1, &st), 0, "%s", nvmeof_get_error());
	cr_expect_eq(st, 0x03, "inaccessible after the notice");
	cr_expect_neq(nvmeof_read(c, 1, slba, 8, r), 0,
		      "a read through an inaccessible path succeeded");
	cr_assert_eq(guest("wr optimized $NVMET/ports/1/ana_groups/1/ana_state"),
		     0);
	cr_assert(ana_wait(2), "no second notice (not re-armed?)");
	cr_assert_eq(nvmeof_ana_state(c, 1, &st), 0, "%s", nvmeof_get_error());
	cr_expect_eq(st, 0x01);
	for (size_t i = 0; i < sizeof w; i++)
		w[i] = (uint8_t)(i * 13 + 5);
	cr_assert_eq(nvmeof_write(c, 1, slba, 8, w, false), 0, "%s",
		     nvmeof_get_error());
	cr_assert_eq(nvmeof_read(c, 1, slba, 8, r), 0, "%s", nvmeof_get_error());
	cr_expect_eq(memcmp(w, r, sizeof w), 0, "data after the change");
	cr_assert_eq(nvmeof_disconnect(c), 0, "%s", nvmeof_get_error());
}
