/* SPDX-License-Identifier: MIT */
/*
 * Reconnect against nvmeof-target processes (issue 14): the back-off's
 * quick first attempts, and nvmeof_ctrl_reconnect() moving an association
 * to another address.  The targets are child processes on 127.0.0.1 with
 * ports the kernel chose (tests/target_proc.h); every wait is for a state,
 * with a generous deadline only as a hang guard.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "target_proc.h"
#include "nvmeof.h"

#define NQN "nqn.2026-11.org.example:reconnect"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6b1c04d6-5a55-4d35-9f8a-2c1f0f6a3e11"
#define HOSTID "6b1c04d6-5a55-4d35-9f8a-2c1f0f6a3e11"
#define NS_BYTES (8u << 20)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char dir[96];
static struct tproc T[2];

static void setup(void)
{
	snprintf(dir, sizeof dir, "%s/reconnect.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char p[200];

	for (int i = 0; i < 2; i++)
		tproc_stop(&T[i]);
	for (const char *const *f = (const char *const[]){ "a", "b", "ns", NULL };
	     *f; f++) {
		static const char *const in[] = { "port", "ctl", "stderr", NULL };

		for (const char *const *g = in; *g; g++) {
			snprintf(p, sizeof p, "%s/%s/%s", dir, *f, *g);
			unlink(p);
		}
		snprintf(p, sizeof p, "%s/%s", dir, *f);
		if (rmdir(p) < 0)
			unlink(p);
	}
	rmdir(dir);
}

/* Target i in dir/<sub> with extra arguments. */
static void start_target(int i, const char *sub, const char *const *args)
{
	char d[160], msg[256];

	snprintf(d, sizeof d, "%s/%s", dir, sub);
	if (mkdir(d, 0700) < 0)
		cr_assert_eq(errno, EEXIST, "mkdir %s: %s", d, strerror(errno));
	cr_assert_eq(tproc_start(&T[i], d, args, msg, sizeof msg), 0, "%s", msg);
}

static struct {
	pthread_mutex_t lock;
	uint64_t lost_ms, live_ms;
	unsigned lost, live;
	char why[512];
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void state_cb(void *arg, const char *state, const char *why)
{
	(void)arg;
	pthread_mutex_lock(&S.lock);
	if (!strcmp(state, "reconnecting")) {
		S.lost++;
		S.lost_ms = now_ms();
	} else if (!strcmp(state, "live")) {
		S.live++;
		S.live_ms = now_ms();
	}
	snprintf(S.why, sizeof S.why, "%s: %s", state, why);
	pthread_mutex_unlock(&S.lock);
}

static struct nvmeof_ctrl *connect_to(int port, int reconnect_delay)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char p[16];
	int rc;

	snprintf(p, sizeof p, "%d", port);
	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = p;
	o.subnqn = NQN;
	o.hostnqn = HOSTNQN;
	o.hostid = HOSTID;
	o.nr_io_queues = 2;
	o.queue_size = 32;
	o.kato_ms = 2000;
	o.connect_timeout_ms = 5000;
	o.reconnect_delay = reconnect_delay;
	o.ctrl_loss_tmo = 120;
	rc = nvmeof_connect(&o, &c);
	cr_assert_eq(rc, 0, "connect to 127.0.0.1:%d: %s", port,
		     nvmeof_get_error());
	nvmeof_set_state_cb(c, state_cb, NULL);
	return c;
}

/* Wait for a state; false after the hang guard. */
static bool wait_state(struct nvmeof_ctrl *c, const char *state, unsigned ms)
{
	uint64_t until = now_ms() + ms;

	while (strcmp(nvmeof_ctrl_state(c), state)) {
		if (now_ms() > until)
			return false;
		usleep(5000);
	}
	return true;
}

static void fill(uint8_t *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 7 + seed * 31 + (i >> 12));
}

static void write_read(struct nvmeof_ctrl *c, uint64_t lba, unsigned seed)
{
	uint8_t w[8 * 4096], r[8 * 4096];

	fill(w, sizeof w, seed);
	cr_assert_eq(nvmeof_write(c, 1, lba, 8, w, false), 0, "write: %s",
		     nvmeof_get_error());
	memset(r, 0, sizeof r);
	cr_assert_eq(nvmeof_read(c, 1, lba, 8, r), 0, "read: %s",
		     nvmeof_get_error());
	cr_assert_eq(memcmp(w, r, sizeof r), 0, "wrong data at LBA %llu",
		     (unsigned long long)lba);
}

TestSuite(reconnect, .init = setup, .fini = teardown);

/* The target goes away and is back about half a second later on the same
 * port: the quick attempts find it, long before reconnect_delay (30 s)
 * would have (10 s is a hang guard for a loaded machine, not a figure). */
Test(reconnect, restarted_target_found_by_quick_attempts, .timeout = 60)
{
	const char *const args1[] = { "-n", NQN, "--ns", "ram:8M", NULL };
	struct nvmeof_ctrl_status st;
	struct nvmeof_ctrl *c;
	char listen[40];
	uint64_t stopped, lost, live;

	start_target(0, "a", args1);
	c = connect_to(T[0].port, 30);
	write_read(c, 0, 1);
	cr_assert_eq(tproc_stop(&T[0]), 0);
	stopped = now_ms();
	cr_assert(wait_state(c, "reconnecting", 10000),
		  "the loss was not noticed: state %s", nvmeof_ctrl_state(c));
	usleep(500000); /* the outage: what the quick attempts are for */
	snprintf(listen, sizeof listen, "127.0.0.1:%d", T[0].port);
	{
		const char *const args2[] = { "-n", NQN, "--ns", "ram:8M",
					      "-l", listen, NULL };

		start_target(0, "a", args2);
	}
	cr_assert(wait_state(c, "live", 25000), "not live again: %s", S.why);
	pthread_mutex_lock(&S.lock);
	lost = S.lost_ms;
	live = S.live_ms;
	pthread_mutex_unlock(&S.lock);
	nvmeof_ctrl_status(c, &st);
	fprintf(stderr, "target stopped at 0, loss seen at %+lld ms, live at %+lld ms after %u attempts\n",
		    (long long)(lost - stopped), (long long)(live - stopped),
		    st.attempts);
	cr_assert_eq(st.reconnects, 1);
	cr_assert_eq(st.losses, 1);
	cr_assert_geq(st.attempts_total, 1);
	cr_assert_eq(st.next_attempt_ms, 0);
	cr_assert_lt(live - lost, 10000,
		     "reconnected only %llu ms after the loss: no quick attempt",
		     (unsigned long long)(live - lost));
	write_read(c, 16, 2);
	cr_assert_eq(nvmeof_disconnect(c), 0, "%s", nvmeof_get_error());
}

/* While the target is down the attempts follow the back-off: the status
 * counts them and names the next one; a reconnect asked for tries at once
 * and starts the schedule again. */
Test(reconnect, back_off_counters_and_request, .timeout = 60)
{
	const char *const args[] = { "-n", NQN, "--ns", "ram:8M", NULL };
	struct nvmeof_ctrl_status st;
	struct nvmeof_ctrl *c;
	uint64_t until;

	start_target(0, "a", args);
	c = connect_to(T[0].port, 30);
	cr_assert_eq(tproc_stop(&T[0]), 0);
	cr_assert(wait_state(c, "reconnecting", 10000));
	/* The four quick attempts (0.2, 0.5, 1 and 2 s), then one planned
	 * reconnect_delay later. */
	until = now_ms() + 20000;
	do {
		nvmeof_ctrl_status(c, &st);
		if (st.attempts >= 4 && st.next_attempt_ms)
			break;
		usleep(10000);
	} while (now_ms() < until);
	cr_assert_eq(st.attempts, 4, "attempts %u", st.attempts);
	cr_assert_gt(st.next_attempt_ms, 0);
	{
		struct timespec ts;
		int64_t wall;

		clock_gettime(CLOCK_REALTIME, &ts);
		wall = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		cr_assert_gt(st.next_attempt_ms - wall, 20000,
			     "next attempt in %lld ms, not about reconnect_delay",
			     (long long)(st.next_attempt_ms - wall));
	}
	/* Asked for: an attempt at once. */
	cr_assert_eq(nvmeof_ctrl_reconnect(c, NULL, NULL), 0, "%s",
		     nvmeof_get_error());
	until = now_ms() + 10000;
	do {
		nvmeof_ctrl_status(c, &st);
		if (st.attempts_total >= 5)
			break;
		usleep(10000);
	} while (now_ms() < until);
	cr_assert_geq(st.attempts_total, 5, "no attempt after the request");
	cr_assert_eq(st.requests, 1);
	cr_assert_str_eq(st.state, "reconnecting");
	/* Ended: a reconnect is refused. */
	cr_assert_eq(nvmeof_ctrl_fail(c, "test over"), 0);
	cr_assert_eq(nvmeof_ctrl_reconnect(c, NULL, NULL), -ENOTCONN);
	cr_assert_eq(nvmeof_get_errno(), ENOTCONN);
	nvmeof_disconnect(c);
}

/* nvmeof_ctrl_reconnect() to a second target process serving the same
 * subsystem (one backing file): the association moves, keeps its data,
 * and later reconnects go to the new address. */
Test(reconnect, moves_to_new_address, .timeout = 60)
{
	char nsfile[160], spec[200], port[16];
	struct nvmeof_ctrl_status st;
	struct nvmeof_ctrl *c;
	FILE *f;

	snprintf(nsfile, sizeof nsfile, "%s/ns", dir);
	f = fopen(nsfile, "w");
	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), NS_BYTES), 0);
	fclose(f);
	snprintf(spec, sizeof spec, "file:%s", nsfile);
	{
		const char *const args[] = { "-n", NQN, "--ns", spec, NULL };

		start_target(0, "a", args);
		start_target(1, "b", args);
	}
	c = connect_to(T[0].port, 30);
	write_read(c, 0, 3);
	cr_assert_eq(nvmeof_ctrl_reconnect(c, "127.0.0.1", "0x"), 0);
	/* "0x" is not a port: the attempt fails, the association waits. */
	cr_assert(wait_state(c, "reconnecting", 10000));
	snprintf(port, sizeof port, "%d", T[1].port);
	cr_assert_eq(nvmeof_ctrl_reconnect(c, NULL, port), 0, "%s",
		     nvmeof_get_error());
	cr_assert(wait_state(c, "live", 20000), "not live: %s", S.why);
	nvmeof_ctrl_status(c, &st);
	cr_assert_str_eq(st.trsvcid, port);
	cr_assert_str_eq(nvmeof_ctrl_trsvcid(c), port);
	cr_assert_eq(st.requests, 2);
	/* The first target is gone for good: what follows goes to the
	 * second, also after another loss. */
	cr_assert_eq(tproc_stop(&T[0]), 0);
	{
		uint8_t r[8 * 4096], w[8 * 4096];

		fill(w, sizeof w, 3);
		cr_assert_eq(nvmeof_read(c, 1, 0, 8, r), 0, "%s",
			     nvmeof_get_error());
		cr_assert_eq(memcmp(w, r, sizeof r), 0,
			     "the data written through the first target differ");
	}
	cr_assert_eq(tproc_control(&T[1], "fault drop-after:1", NULL, 0), 0);
	write_read(c, 32, 4);
	cr_assert(wait_state(c, "live", 20000), "not live: %s", S.why);
	write_read(c, 64, 5);
	nvmeof_ctrl_status(c, &st);
	cr_assert_geq(st.reconnects, 2, "%u reconnects", st.reconnects);
	cr_assert_str_eq(st.trsvcid, port);
	cr_assert_eq(nvmeof_disconnect(c), 0, "%s", nvmeof_get_error());
}

/* A one-shot discovery controller does not reconnect. */
Test(reconnect, one_shot_discovery_refuses, .timeout = 30)
{
	const char *const args[] = { "-n", NQN, "--ns", "ram:8M", NULL };
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char p[16];

	start_target(0, "a", args);
	snprintf(p, sizeof p, "%d", T[0].port);
	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = p;
	o.hostnqn = HOSTNQN;
	o.hostid = HOSTID;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "%s", nvmeof_get_error());
	cr_assert_eq(nvmeof_ctrl_reconnect(c, NULL, NULL), -ENOTSUP);
	cr_assert_eq(nvmeof_ctrl_reconnect(c, "", NULL), -EINVAL);
	nvmeof_disconnect(c);
}
