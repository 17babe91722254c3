/* SPDX-License-Identifier: MIT */
/* nvmeof-target's --fault modes against the host library, reconnect on:
 * the host reacts as it must to each of them (issue 8). */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostile_check.h"
#include "target_proc.h"

/* ======================================================================
 * nvmeof-target's fault modes, reconnect on.
 * ====================================================================== */

#define TNQN "nqn.2026-11.org.example:faults"
#define TBLOCKS 2048u /* 8 MiB of 4096-byte blocks */

static struct {
	struct tproc t;
	char dir[80];
	char port[16];
} T;

static void target_start(const char *fault)
{
	const char *args[] = { "-n", TNQN, "--ns", "ram:8M",
			       fault ? "--fault" : NULL, fault, NULL };
	char msg[256];

	snprintf(T.dir, sizeof T.dir, "%s/hostile.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(T.dir));
	cr_assert_eq(tproc_start(&T.t, T.dir, args, msg, sizeof msg), 0, "%s",
		     msg);
	snprintf(T.port, sizeof T.port, "%d", T.t.port);
}

static void target_stop(void)
{
	char p[200];

	tproc_stop(&T.t);
	for (const char *const *f = (const char *const[]){ "port", "ctl", "stderr", NULL };
	     *f; f++) {
		snprintf(p, sizeof p, "%s/%s", T.dir, *f);
		unlink(p);
	}
	rmdir(T.dir);
}

/* One control-socket command; 0 when answered "ok".  No assertion here:
 * it runs on the library's admin thread too. */
static int control(const char *cmd)
{
	return tproc_control(&T.t, cmd, NULL, 0);
}

/* What the state callback saw; it disarms the faults when the association
 * is lost, so that the new association is a sound one (the one-shot faults
 * disarm themselves; delay and silent would hit it too). */
static struct {
	pthread_mutex_t lock;
	unsigned lost, live;
	uint64_t lost_ms;
	char why[512];
	bool disarm_failed;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void state_cb(void *arg, const char *state, const char *why)
{
	(void)arg;
	pthread_mutex_lock(&S.lock);
	if (!strcmp(state, "reconnecting")) {
		if (!S.lost++) {
			S.lost_ms = now_ms();
			snprintf(S.why, sizeof S.why, "%s", why);
		}
	} else if (!strcmp(state, "live")) {
		S.live++;
	}
	pthread_mutex_unlock(&S.lock);
	if (!strcmp(state, "reconnecting") && control("fault off") < 0)
		S.disarm_failed = true;
}

static struct nvmeof_ctrl *target_connect(bool hdgst, bool ddgst, int kato_ms)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c;

	opts_for(&o, T.port, TNQN);
	o.hdr_digest = hdgst;
	o.data_digest = ddgst;
	o.kato_ms = kato_ms;
	o.io_timeout_ms = 800;
	o.ctrl_loss_tmo = 20;
	o.reconnect_delay = 1;
	c = connect_ok(&o);
	nvmeof_set_state_cb(c, state_cb, NULL);
	return c;
}

/* Write then read back 8 blocks at lba; the data must be what was written. */
static void write_verify(struct nvmeof_ctrl *c, uint64_t lba, unsigned seed)
{
	uint8_t w[8 * 4096], r[8 * 4096];
	int rc;

	fill(w, sizeof w, seed);
	rc = nvmeof_write(c, 1, lba, 8, w, false);
	cr_assert_eq(rc, 0, "write %u: %s", seed, nvmeof_get_error());
	memset(r, 0, sizeof r);
	rc = nvmeof_read(c, 1, lba, 8, r);
	cr_assert_eq(rc, 0, "read %u: %s", seed, nvmeof_get_error());
	cr_assert_eq(memcmp(w, r, sizeof r), 0, "iteration %u: wrong data", seed);
}

static void wait_live(struct nvmeof_ctrl *c)
{
	uint64_t until = now_ms() + 10000;

	while (strcmp(nvmeof_ctrl_state(c), "live") && now_ms() < until)
		usleep(10000);
	cr_assert_str_eq(nvmeof_ctrl_state(c), "live");
}

static void expect_reconnected(struct nvmeof_ctrl *c, const char *want_why)
{
	struct nvmeof_ctrl_status st;

	wait_live(c);
	nvmeof_ctrl_status(c, &st);
	cr_assert_geq(st.reconnects, 1, "no reconnect (state %s, %s)",
		      st.state, st.last_error);
	cr_assert(!S.disarm_failed, "could not disarm the fault");
	pthread_mutex_lock(&S.lock);
	cr_assert_not_null(strstr(S.why, want_why), "lost because '%s', not '%s'",
			   S.why, want_why);
	pthread_mutex_unlock(&S.lock);
}

TestSuite(faults, .fini = target_stop);

/* The connection drops again and again during a write/verify loop: every
 * command is sent again on the new association and all data is right. */
Test(faults, drop_every_n_write_verify_loop, .timeout = 60)
{
	struct nvmeof_ctrl *c;
	struct nvmeof_ctrl_status st;

	target_start("drop-every:25");
	c = target_connect(false, false, 0);
	nvmeof_set_state_cb(c, NULL, NULL); /* keep the fault armed */
	for (unsigned i = 0; i < 60; i++)
		write_verify(c, (i * 8) % TBLOCKS, i);
	nvmeof_ctrl_status(c, &st);
	cr_assert_geq(st.reconnects, 3, "%u reconnects for 120 commands",
		      st.reconnects);
	cr_assert_str_eq(st.state, "live");
	nvmeof_disconnect(c);
}

/* drop-after is one outage: the association built to recover is not
 * dropped again, however many commands follow. */
Test(faults, drop_after_n_is_one_outage, .timeout = 60)
{
	struct nvmeof_ctrl *c;
	struct nvmeof_ctrl_status st;
	struct nvmeof_stats stats;

	target_start("drop-after:25");
	c = target_connect(false, false, 0);
	nvmeof_set_state_cb(c, NULL, NULL); /* let the target disarm it */
	for (unsigned i = 0; i < 60; i++)
		write_verify(c, (i * 8) % TBLOCKS, i);
	nvmeof_ctrl_status(c, &st);
	nvmeof_ctrl_stats(c, &stats);
	cr_assert_eq(st.reconnects, 1, "%u reconnects for one drop-after",
		     st.reconnects);
	cr_assert_geq(stats.retries, 1, "nothing was sent again");
	cr_assert_str_eq(st.state, "live");
	nvmeof_disconnect(c);
}

/* Answers held past io_timeout: Abort, then a new association; the read
 * sent again there gets the right data. */
Test(faults, delay_beyond_io_timeout, .timeout = 30)
{
	struct nvmeof_ctrl *c;
	struct nvmeof_stats stats;
	uint64_t t0;

	target_start(NULL);
	c = target_connect(false, false, 0);
	write_verify(c, 0, 1);
	cr_assert_eq(control("fault delay:3000"), 0);
	t0 = now_ms();
	write_verify(c, 8, 2);
	cr_assert_lt(now_ms() - t0, 10000);
	expect_reconnected(c, "got no completion within 800 ms, nor after an Abort");
	nvmeof_ctrl_stats(c, &stats);
	cr_assert_geq(stats.aborts, 1, "no Abort was sent");
	cr_assert_geq(stats.retries, 1, "nothing was sent again");
	nvmeof_disconnect(c);
}

struct async_done {
	bool done;
	int err;
	uint16_t status;
};

static void async_cb(void *arg, int err, uint16_t status)
{
	struct async_done *d = arg;

	d->err = err;
	d->status = status;
	d->done = true;
}

/* The same for a caller with its own event loop (as nvmeof-mount): it
 * waits on nvmeof_poll_fd() and calls nvmeof_poll(ctrl, 0), so the library
 * never sleeps in poll() itself, and must still notice the timeout. */
Test(faults, delay_beyond_io_timeout_event_loop, .timeout = 30)
{
	struct nvmeof_ctrl *c;
	struct nvmeof_stats stats;
	struct async_done d = { 0 };
	uint8_t w[8 * 4096], r[8 * 4096];
	uint64_t t0;

	target_start(NULL);
	c = target_connect(false, false, 0);
	fill(w, sizeof w, 11);
	cr_assert_eq(nvmeof_write(c, 1, 32, 8, w, false), 0, "%s",
		     nvmeof_get_error());
	cr_assert_eq(control("fault delay:3000"), 0);
	t0 = now_ms();
	cr_assert_eq(nvmeof_submit_read(c, 1, 32, 8, r, async_cb, &d), 0, "%s",
		     nvmeof_get_error());
	while (!d.done && now_ms() - t0 < 15000) {
		struct pollfd pfd = { .fd = nvmeof_poll_fd(c),
				      .events = nvmeof_poll_events(c) };

		if (pfd.fd >= 0)
			(void)poll(&pfd, 1, 10);
		else
			usleep(10000);
		(void)nvmeof_poll(c, 0);
	}
	cr_assert(d.done, "no completion in 15 s: the timeout went unnoticed");
	cr_assert_eq(d.err, 0, "read: %s", strerror(-d.err));
	cr_assert_eq(d.status, 0, "read: status 0x%x", d.status);
	cr_assert_eq(memcmp(w, r, sizeof r), 0, "wrong data");
	cr_assert_lt(now_ms() - t0, 10000);
	expect_reconnected(c, "got no completion within 800 ms, nor after an Abort");
	nvmeof_ctrl_stats(c, &stats);
	cr_assert_geq(stats.aborts, 1, "no Abort was sent");
	nvmeof_disconnect(c);
}

/* Commands on the I/O queue never answered: the same. */
Test(faults, silent_io_queue, .timeout = 30)
{
	struct nvmeof_ctrl *c;

	target_start(NULL);
	c = target_connect(false, false, 0);
	cr_assert_eq(control("fault silent"), 0);
	write_verify(c, 16, 3);
	expect_reconnected(c, "got no completion within 800 ms");
	nvmeof_disconnect(c);
}

/* The admin queue goes silent: keep-alive notices within KATO + slack. */
Test(faults, silent_admin_keep_alive, .timeout = 30)
{
	struct nvmeof_ctrl *c;
	uint64_t t0, lost;

	target_start(NULL);
	c = target_connect(false, false, 1000);
	write_verify(c, 24, 4);
	cr_assert_eq(control("fault silent@admin"), 0);
	t0 = now_ms();
	while (!__atomic_load_n(&S.lost, __ATOMIC_ACQUIRE) && now_ms() - t0 < 5000)
		usleep(10000);
	pthread_mutex_lock(&S.lock);
	lost = S.lost_ms;
	pthread_mutex_unlock(&S.lock);
	cr_assert_gt(lost, 0, "the loss was never noticed");
	cr_assert_leq(lost - t0, 1000 + 1500, "noticed after %" PRIu64 " ms",
		      lost - t0);
	expect_reconnected(c, "no Keep Alive completion within KATO (1000 ms)");
	write_verify(c, 24, 5);
	nvmeof_disconnect(c);
}

/* A flipped data digest: the read is sent again and gets the right data,
 * never data the host could not check; the association stays. */
Test(faults, corrupt_ddgst, .timeout = 30)
{
	struct nvmeof_ctrl *c;
	struct nvmeof_stats stats;
	uint8_t w[4 * 4096], r[4 * 4096];
	int rc;

	target_start(NULL);
	c = target_connect(true, true, 0);
	fill(w, sizeof w, 6);
	cr_assert_eq(nvmeof_write(c, 1, 40, 4, w, false), 0, "%s",
		     nvmeof_get_error());
	cr_assert_eq(control("fault corrupt-ddgst"), 0);
	rc = nvmeof_read(c, 1, 40, 4, r);
	cr_assert_eq(rc, 0, "read: %s", nvmeof_get_error());
	cr_assert_eq(memcmp(w, r, sizeof r), 0, "wrong data reported good");
	nvmeof_ctrl_stats(c, &stats);
	cr_assert_eq(stats.retries, 1, "%" PRIu64 " commands sent again",
		     stats.retries);
	cr_assert_str_eq(nvmeof_ctrl_state(c), "live");
	cr_assert_eq(control("fault off"), 0);
	write_verify(c, 40, 7);
	nvmeof_disconnect(c);
}

/* One-shot faults that break the protocol: the association is rebuilt
 * and the command that met the fault completes right on the new one. */
static void protocol_fault(const char *fault, bool hdgst, const char *want_why)
{
	struct nvmeof_ctrl *c;
	char cmd[64];

	target_start(NULL);
	c = target_connect(hdgst, false, 0);
	write_verify(c, 48, 8);
	snprintf(cmd, sizeof cmd, "fault %s", fault);
	cr_assert_eq(control(cmd), 0);
	write_verify(c, 56, 9);
	expect_reconnected(c, want_why);
	write_verify(c, 64, 10);
	nvmeof_disconnect(c);
}

Test(faults, corrupt_hdgst, .timeout = 30)
{
	protocol_fault("corrupt-hdgst", true, "header digest error");
}

Test(faults, bad_hlen, .timeout = 30)
{
	protocol_fault("bad-hlen", false, "HLEN");
}

Test(faults, bad_plen, .timeout = 30)
{
	protocol_fault("bad-plen", false, "PLEN");
}

Test(faults, c2h_unknown_cid, .timeout = 30)
{
	protocol_fault("c2h-unknown-cid", false, "which is not in flight");
}

Test(faults, c2h_overflow, .timeout = 30)
{
	protocol_fault("c2h-overflow", false, "beyond its");
}

Test(faults, double_completion, .timeout = 30)
{
	protocol_fault("double-completion", false, "which is not in flight");
}

/* An NVMe error status: the caller gets it, nothing is retried. */
Test(faults, fail_nth, .timeout = 30)
{
	struct nvmeof_ctrl *c;
	struct nvmeof_ctrl_status st;
	uint8_t r[4096];
	int rc;

	target_start("fail-nth:1:0:0x82");
	c = target_connect(false, false, 0);
	rc = nvmeof_read(c, 1, 0, 1, r);
	cr_assert_lt(rc, 0, "the failed command was reported good");
	cr_assert_eq(nvmeof_last_status() & 0x7ff, 0x82, "status 0x%x",
		     nvmeof_last_status());
	cr_assert_not_null(strstr(nvmeof_get_error(), "SC 82h"), "%s",
			   nvmeof_get_error());
	write_verify(c, 72, 11);
	nvmeof_ctrl_status(c, &st);
	cr_assert_eq(st.reconnects, 0);
	nvmeof_disconnect(c);
}
