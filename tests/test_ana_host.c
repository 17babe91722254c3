/* SPDX-License-Identifier: MIT */
/*
 * libnvmeof and ANA against nvmeof-target with two listeners (two paths
 * to one subsystem; namespace 2 in ANA group 2): the library enables the
 * ANA Change notice, reads log 0Ch at connect, on the notice and after a
 * reconnect, and nvmeof_ana_state() reports the state of the path the
 * association uses.  Every wait is for a state, with a generous deadline
 * only as a hang guard.
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

#include "nvme_spec.h"
#include "nvmeof.h"
#include "target_proc.h"

#define NQN "nqn.2026-11.org.example:ana-host"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:0a7e6c2e-52f4-4d8e-a0d7-3f1d2b9c4e77"
#define HOSTID "0a7e6c2e-52f4-4d8e-a0d7-3f1d2b9c4e77"

static char dir[96];
static struct tproc T;
static int port0, port1;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void setup(void)
{
	static const char *const args[] = { "-n", NQN, "--ns", "ram:1M",
					    "--ns", "ram:1M,ana=2", "-l",
					    "127.0.0.1:0", NULL };
	char p[160], msg[256];
	FILE *f;

	snprintf(dir, sizeof dir, "%s/anahost.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(tproc_start(&T, dir, args, msg, sizeof msg), 0, "%s", msg);
	snprintf(p, sizeof p, "%s/port", dir);
	f = fopen(p, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%d %d", &port0, &port1), 2, "two ports");
	fclose(f);
}

static void teardown(void)
{
	char p[200];

	tproc_stop(&T);
	for (const char *const *g = (const char *const[]){ "port", "ctl",
							   "stderr", NULL };
	     *g; g++) {
		snprintf(p, sizeof p, "%s/%s", dir, *g);
		unlink(p);
	}
	rmdir(dir);
}

TestSuite(ana_host, .init = setup, .fini = teardown, .timeout = 60);

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned ana_events, other_events;
	uint32_t last;
} E = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };

static void event_cb(void *arg, uint32_t dw0, const uint32_t *nsids,
		     size_t nr)
{
	(void)arg;
	(void)nsids;
	(void)nr;
	pthread_mutex_lock(&E.lock);
	if (NVME_AER_TYPE(dw0) == NVME_AER_NOTICE &&
	    NVME_AER_INFO(dw0) == NVME_AER_NOTICE_ANA &&
	    NVME_AER_LID(dw0) == NVME_LOG_ANA)
		E.ana_events++;
	else
		E.other_events++;
	E.last = dw0;
	pthread_cond_broadcast(&E.cond);
	pthread_mutex_unlock(&E.lock);
}

/* Wait until n ANA Change notices came (20 s: a hang guard). */
static bool wait_ana_events(unsigned n)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&E.lock);
	while (E.ana_events < n &&
	       pthread_cond_timedwait(&E.cond, &E.lock, &ts) == 0)
		;
	ok = E.ana_events >= n;
	pthread_mutex_unlock(&E.lock);
	return ok;
}

static unsigned ana_events(void)
{
	unsigned n;

	pthread_mutex_lock(&E.lock);
	n = E.ana_events;
	pthread_mutex_unlock(&E.lock);
	return n;
}

static struct nvmeof_ctrl *connect_to(int port)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char p[16];

	snprintf(p, sizeof p, "%d", port);
	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = p;
	o.subnqn = NQN;
	o.hostnqn = HOSTNQN;
	o.hostid = HOSTID;
	o.nr_io_queues = 1;
	o.queue_size = 16;
	o.kato_ms = 5000;
	o.connect_timeout_ms = 5000;
	o.reconnect_delay = 1;
	o.ctrl_loss_tmo = 60;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "connect to port %d: %s", port,
		     nvmeof_get_error());
	nvmeof_set_event_cb(c, event_cb, NULL);
	return c;
}

static void ana(int port, int grp, const char *state)
{
	char cmd[96], out[256];

	snprintf(cmd, sizeof cmd, "ana 127.0.0.1:%d %d %s", port, grp, state);
	cr_assert_eq(tproc_control(&T, cmd, out, sizeof out), 0, "%s: %s", cmd,
		     out);
}

static uint8_t state_of(struct nvmeof_ctrl *c, uint32_t nsid)
{
	uint8_t st = 0xee;

	cr_assert_eq(nvmeof_ana_state(c, nsid, &st), 0, "nsid %u: %s", nsid,
		     nvmeof_get_error());
	return st;
}

Test(ana_host, states_follow_the_notice_and_the_reconnect)
{
	struct nvmeof_ctrl *c = connect_to(port1);
	struct nvmeof_ctrl_status st;
	uint8_t buf[4096], s = 0;
	uint64_t until;

	/* read at connect */
	cr_expect_eq(state_of(c, 1), NVME_ANA_OPTIMIZED);
	cr_expect_eq(state_of(c, 2), NVME_ANA_OPTIMIZED);
	cr_expect_eq(nvmeof_ana_state(c, 3, &s), -ENOENT, "no namespace 3");
	cr_expect_eq(nvmeof_ana_state(c, 0, &s), -EINVAL);

	/* a change on the other listener: nothing for this association;
	 * then one on ours: one notice, and the new state is there when the
	 * callback runs (the library read the log before calling it) */
	ana(port0, 2, "inaccessible");
	ana(port1, 2, "inaccessible");
	cr_assert(wait_ana_events(1), "no ANA Change notice came");
	cr_expect_eq(state_of(c, 2), NVME_ANA_INACCESSIBLE);
	cr_expect_eq(state_of(c, 1), NVME_ANA_OPTIMIZED);
	cr_expect_neq(nvmeof_read(c, 2, 0, 1, buf), 0,
		      "I/O through an inaccessible path fails");
	cr_expect_eq(nvmeof_read(c, 1, 0, 1, buf), 0, "%s", nvmeof_get_error());

	/* the notice was re-armed by the library's read: a second one */
	ana(port1, 2, "non-optimized");
	cr_assert(wait_ana_events(2), "the second notice did not come");
	cr_expect_eq(state_of(c, 2), NVME_ANA_NON_OPTIMIZED);
	cr_expect_eq(nvmeof_read(c, 2, 0, 1, buf), 0, "%s", nvmeof_get_error());

	/* moved to the other listener: its states, read after the reconnect
	 * (group 2 is inaccessible there; no notice says so) */
	{
		char p[16];

		snprintf(p, sizeof p, "%d", port0);
		cr_assert_eq(nvmeof_ctrl_reconnect(c, "127.0.0.1", p), 0, "%s",
			     nvmeof_get_error());
	}
	until = now_ms() + 20000;
	do {
		nvmeof_ctrl_status(c, &st);
		if (st.reconnects >= 1 && !strcmp(nvmeof_ctrl_state(c), "live"))
			break;
		usleep(5000);
	} while (now_ms() < until);
	cr_assert(st.reconnects >= 1 && !strcmp(nvmeof_ctrl_state(c), "live"),
		  "not live again after the reconnect");
	cr_expect_eq(state_of(c, 2), NVME_ANA_INACCESSIBLE,
		     "the other listener's state after the reconnect");
	cr_expect_eq(state_of(c, 1), NVME_ANA_OPTIMIZED);
	cr_expect_eq(ana_events(), 2, "no notice for the reconnect");
	nvmeof_disconnect(c);
}
