/* SPDX-License-Identifier: MIT */
/*
 * Multipath (lib/path.c) against nvmeof-target with two listeners: two
 * paths to one subsystem.  Every case writes a pattern and reads it back
 * (data verified), from several threads where a path changes under load.
 * Every wait is for a state (a path's state or counters), with a generous
 * deadline only as a hang guard.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nvmeof.h"
#include "target_proc.h"

#define NQN "nqn.2026-12.org.example:mpath"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:5b0f4a52-1c2d-4e8f-9a7b-6c5d4e3f2a1b"
#define HOSTID "5b0f4a52-1c2d-4e8f-9a7b-6c5d4e3f2a1b"
#define NLBA 2048          /* 1 MiB of 512-byte blocks */
#define THREADS 4
#define HANG_MS 30000

static char dir[96];
static struct tproc T;
static int port0, port1;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void start_target(const char *l0, const char *l1)
{
	const char *args[16];
	char msg[256], p[160];
	int n = 0;
	FILE *f;

	args[n++] = "-n";
	args[n++] = NQN;
	args[n++] = "--ns";
	args[n++] = "ram:1M,lba=512";
	args[n++] = "-l";
	args[n++] = l0;
	if (l1) {
		args[n++] = "-l";
		args[n++] = l1;
	}
	args[n] = NULL;
	cr_assert_eq(tproc_start(&T, dir, args, msg, sizeof msg), 0, "%s", msg);
	snprintf(p, sizeof p, "%s/port", dir);
	f = fopen(p, "r");
	cr_assert_not_null(f);
	if (!port0) {
		int first;

		cr_assert_eq(fscanf(f, "%d %d %d", &first, &port0, &port1), 3,
			     "three ports");
	}
	fclose(f);
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "%s/mpath.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	port0 = port1 = 0;
	start_target("127.0.0.1:0", "127.0.0.1:0");
}

/* A target's directory: its port file, control socket and stderr. */
static void target_dir_remove(const char *d)
{
	char p[200];

	for (const char *const *g = (const char *const[]){ "port", "ctl",
							   "stderr", NULL };
	     *g; g++) {
		snprintf(p, sizeof p, "%s/%s", d, *g);
		unlink(p);
	}
	rmdir(d);
}

static void teardown(void)
{
	tproc_stop(&T);
	target_dir_remove(dir);
}

TestSuite(mpath, .init = setup, .fini = teardown, .timeout = 120);

static struct nvmeof_mpath *connect_group(const char *policy, int kato_ms)
{
	struct nvmeof_opts o;
	struct nvmeof_mpath *g = NULL;
	char a0[64], a1[64];
	const char *addrs[2] = { a0, a1 };

	snprintf(a0, sizeof a0, "127.0.0.1:%d", port0);
	snprintf(a1, sizeof a1, "127.0.0.1:%d", port1);
	nvmeof_opts_init(&o);
	o.subnqn = NQN;
	o.hostnqn = HOSTNQN;
	o.hostid = HOSTID;
	o.nr_io_queues = 2;
	o.queue_size = 32;
	o.kato_ms = kato_ms;
	o.connect_timeout_ms = 5000;
	o.io_timeout_ms = 5000;
	o.reconnect_delay = 1;
	o.ctrl_loss_tmo = 60;
	cr_assert_eq(nvmeof_mpath_connect(&o, addrs, 2, policy, &g), 0,
		     "connect: %s", nvmeof_get_error());
	cr_assert_eq(nvmeof_mpath_nr_paths(g), 2);
	return g;
}

static void ctl(const char *fmt, ...)
{
	char cmd[160], out[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	cr_assert_eq(tproc_control(&T, cmd, out, sizeof out), 0, "%s: %s", cmd,
		     out);
}

static struct nvmeof_mpath_path_info info(struct nvmeof_mpath *g, unsigned i)
{
	struct nvmeof_mpath_path_info in;

	cr_assert_eq(nvmeof_mpath_path_info(g, i, &in), 0);
	return in;
}

/* Wait until path i is in state st (and, for ana != 0, its group 1 is). */
static void wait_path(struct nvmeof_mpath *g, unsigned i, const char *st,
		      uint8_t ana)
{
	uint64_t until = now_ms() + HANG_MS;
	struct nvmeof_mpath_path_info in;

	for (;;) {
		in = info(g, i);
		if (!strcmp(in.state, st) &&
		    (!ana || (in.nr_groups && in.grpstate[0] == ana)))
			return;
		cr_assert(now_ms() < until, "path %u stays %s (%s), not %s",
			  i, in.state, in.last_error, st);
		usleep(2000);
	}
}

/* ---- a verify load: each thread owns a stripe of blocks ------------------ */

struct load {
	struct nvmeof_mpath *g;
	int id;
	volatile bool *stop;
	unsigned rounds;       /* at least this many */
	unsigned done;
	uint64_t worst_ms;     /* the longest batch: a figure, not a check */
	int err;
	char msg[256];
};

static void fill(uint8_t *b, int id, unsigned round, uint64_t lba)
{
	for (unsigned i = 0; i < 512; i += 8) {
		uint64_t v = ((uint64_t)id << 56) ^ ((uint64_t)round << 32) ^
			     (lba << 8) ^ i;

		memcpy(b + i, &v, 8);
	}
}

struct batch {
	int left;
	int err;
	uint16_t status;
};

static void batch_cb(void *arg, int err, uint16_t status)
{
	struct batch *b = arg;

	if (err && !b->err) {
		b->err = err;
		b->status = status;
	}
	__atomic_sub_fetch(&b->left, 1, __ATOMIC_RELEASE);
}

/* Wait until the batch is done, polling the group (callbacks of ours may
 * run in a thread that shares a queue with us: left is atomic). */
static int batch_wait(struct nvmeof_mpath *g, struct batch *b)
{
	while (__atomic_load_n(&b->left, __ATOMIC_ACQUIRE) > 0)
		if (nvmeof_mpath_poll(g, 100) < 0 &&
		    __atomic_load_n(&b->left, __ATOMIC_ACQUIRE) > 0)
			return -EIO;
	return b->err;
}

/* Rounds of 8 writes of one block at queue depth 8, then 8 reads of them,
 * compared. */
static void *load_thread(void *arg)
{
	struct load *l = arg;
	uint8_t w[8 * 512], r[8 * 512];
	uint64_t base = (uint64_t)l->id * (NLBA / THREADS);

	for (unsigned round = 0; !*l->stop || round < l->rounds; round++) {
		uint64_t lba = base + (round * 8) % (NLBA / THREADS);
		struct batch b = { .left = 8 };
		uint64_t t0 = now_ms();
		int rc = 0;

		for (unsigned i = 0; i < 8; i++)
			fill(w + i * 512, l->id, round, lba + i);
		for (unsigned i = 0; i < 8 && rc == 0; i++)
			rc = nvmeof_mpath_submit_write(l->g, 1, lba + i, 1,
						       w + i * 512, false,
						       batch_cb, &b);
		if (rc == 0)
			rc = batch_wait(l->g, &b);
		b = (struct batch){ .left = 8 };
		for (unsigned i = 0; i < 8 && rc == 0; i++)
			rc = nvmeof_mpath_submit_read(l->g, 1, lba + i, 1,
						      r + i * 512, batch_cb, &b);
		if (rc == 0)
			rc = batch_wait(l->g, &b);
		if (now_ms() - t0 > l->worst_ms)
			l->worst_ms = now_ms() - t0;
		if (rc < 0) {
			l->err = rc;
			snprintf(l->msg, sizeof l->msg, "round %u: %s (status %#x)",
				 round, nvmeof_get_error(), b.status);
			return NULL;
		}
		if (memcmp(w, r, sizeof w)) {
			l->err = -EILSEQ;
			snprintf(l->msg, sizeof l->msg,
				 "round %u lba %llu: read back other data", round,
				 (unsigned long long)lba);
			return NULL;
		}
		/* and the synchronous calls */
		if (round % 4 == 0) {
			rc = nvmeof_mpath_write(l->g, 1, lba, 8, w, false);
			if (rc == 0)
				rc = nvmeof_mpath_read(l->g, 1, lba, 8, r);
			if (rc < 0 || memcmp(w, r, sizeof w)) {
				l->err = rc ? rc : -EILSEQ;
				snprintf(l->msg, sizeof l->msg, "round %u sync: %s",
					 round, rc ? nvmeof_get_error() : "other data");
				return NULL;
			}
		}
		l->done = round + 1;
	}
	return NULL;
}

struct loads {
	pthread_t tid[THREADS];
	struct load l[THREADS];
	volatile bool stop;
};

static void loads_start(struct loads *L, struct nvmeof_mpath *g)
{
	L->stop = false;
	for (int i = 0; i < THREADS; i++) {
		L->l[i] = (struct load){ .g = g, .id = i, .stop = &L->stop,
					 .rounds = 50 };
		cr_assert_eq(pthread_create(&L->tid[i], NULL, load_thread,
					    &L->l[i]), 0);
	}
}

static unsigned loads_done(struct loads *L)
{
	unsigned m = ~0u;

	for (int i = 0; i < THREADS; i++)
		m = L->l[i].done < m ? L->l[i].done : m;
	return m;
}

/* Wait until every thread did n more rounds (or failed). */
static void loads_progress(struct loads *L, unsigned n)
{
	unsigned target = loads_done(L) + n;
	uint64_t until = now_ms() + HANG_MS;

	while (loads_done(L) < target) {
		for (int i = 0; i < THREADS; i++)
			cr_assert_eq(L->l[i].err, 0, "thread %d: %s", i, L->l[i].msg);
		cr_assert(now_ms() < until, "the load makes no progress");
		usleep(1000);
	}
}

static uint64_t loads_stop(struct loads *L)
{
	uint64_t worst = 0;

	L->stop = true;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(L->tid[i], NULL);
		cr_expect_eq(L->l[i].err, 0, "thread %d: %s", i, L->l[i].msg);
		if (L->l[i].worst_ms > worst)
			worst = L->l[i].worst_ms;
	}
	return worst;
}

/* ---- cases --------------------------------------------------------------- */

Test(mpath, round_robin_uses_both_paths)
{
	struct nvmeof_mpath *g = connect_group(NULL, 5000);
	struct loads L;
	char text[2048];

	cr_expect_str_eq(nvmeof_mpath_iopolicy(g), "round-robin");
	cr_expect_str_eq(nvmeof_mpath_state(g), "live");
	loads_start(&L, g);
	loads_progress(&L, 20);
	loads_stop(&L);
	cr_expect_gt(info(g, 0).reads, 0, "path 0 was not used");
	cr_expect_gt(info(g, 1).reads, 0, "path 1 was not used");
	cr_expect_gt(info(g, 0).writes, 0);
	cr_expect_gt(info(g, 1).writes, 0);
	cr_assert_gt(nvmeof_mpath_paths_text(g, text, sizeof text), 0);
	cr_expect(strstr(text, "0 127.0.0.1:") == text, "%s", text);
	cr_expect(strstr(text, " state=live ana=1:optimized reads="), "%s", text);
	cr_expect(strstr(text, "\n1 127.0.0.1:"), "%s", text);
	cr_expect(strstr(text, "last_error=-\n"), "%s", text);
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
}

Test(mpath, numa_sticks_to_the_first_path)
{
	struct nvmeof_mpath *g = connect_group("numa", 5000);
	struct loads L;

	cr_expect_eq(nvmeof_mpath_set_iopolicy(g, "bogus"), -EINVAL);
	loads_start(&L, g);
	loads_progress(&L, 10);
	loads_stop(&L);
	cr_expect_gt(info(g, 0).reads, 0);
	cr_expect_eq(info(g, 1).reads, 0, "numa used the second path");
	cr_expect_eq(nvmeof_mpath_set_iopolicy(g, "queue-depth"), 0);
	loads_start(&L, g);
	loads_progress(&L, 20);
	loads_stop(&L);
	cr_expect_gt(info(g, 1).reads, 0, "queue-depth never used path 1");
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
}

Test(mpath, inaccessible_group_moves_io_and_back)
{
	struct nvmeof_mpath *g = connect_group(NULL, 5000);
	struct loads L;
	uint64_t r0, r1;

	loads_start(&L, g);
	loads_progress(&L, 5);
	ctl("ana 127.0.0.1:%d 1 inaccessible", port0);
	wait_path(g, 0, "live", 0x03);
	loads_progress(&L, 2);  /* what was in flight on path 0 is done */
	r0 = info(g, 0).reads;
	r1 = info(g, 1).reads;
	loads_progress(&L, 10);
	cr_expect_eq(info(g, 0).reads, r0, "I/O went to an inaccessible path");
	cr_expect_gt(info(g, 1).reads, r1);
	ctl("ana 127.0.0.1:%d 1 optimized", port0);
	wait_path(g, 0, "live", 0x01);
	r0 = info(g, 0).reads;
	loads_progress(&L, 10);
	cr_expect_gt(info(g, 0).reads, r0, "I/O did not come back to path 0");
	cr_log_info("inaccessible group: longest write+read round %llu ms",
		    (unsigned long long)loads_stop(&L));
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
}

Test(mpath, ana_status_is_retried_on_the_other_path)
{
	struct nvmeof_mpath *g = connect_group(NULL, 5000);
	struct nvmeof_mpath_stats st;
	struct loads L;

	/* every association fails its 30th command with SCT 3h SC 02h
	 * (Asymmetric Access Inaccessible), without a notice */
	ctl("fault fail-nth:30:3:2");
	loads_start(&L, g);
	loads_progress(&L, 40);
	loads_stop(&L);
	nvmeof_mpath_stats(g, &st);
	cr_expect_geq(st.ana_retries, 1, "no SCT 3h retry happened");
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
}

Test(mpath, dropped_connection_fails_over)
{
	struct nvmeof_mpath *g = connect_group(NULL, 5000);
	struct nvmeof_mpath_stats st;
	struct loads L;
	unsigned drops = 0;
	uint64_t worst;

	loads_start(&L, g);
	loads_progress(&L, 5);
	/* A drop when the queue had nothing in flight fails nothing over:
	 * drop again (each time once both paths are back) until one did. */
	do {
		uint64_t until = now_ms() + HANG_MS;

		/* one-shot: the first queue that answers 20 more commands
		 * drops its connection */
		ctl("fault drop-after:20");
		drops++;
		while (strcmp(info(g, 0).state, "live") == 0 &&
		       strcmp(info(g, 1).state, "live") == 0) {
			cr_assert(now_ms() < until, "no path was dropped");
			loads_progress(&L, 1);
		}
		loads_progress(&L, 5);
		wait_path(g, 0, "live", 0);
		wait_path(g, 1, "live", 0);
		loads_progress(&L, 5);
		nvmeof_mpath_stats(g, &st);
	} while (st.failovers == 0 && drops < 20);
	worst = loads_stop(&L);
	cr_log_info("dropped connection: %llu commands failed over in %u drops; longest write+read round %llu ms",
		    (unsigned long long)st.failovers, drops,
		    (unsigned long long)worst);
	cr_expect_gt(st.failovers, 0, "nothing was ever in flight on a dropped path");
	cr_expect(info(g, 0).last_error[0] || info(g, 1).last_error[0],
		  "no path says why it was lost");
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
}

Test(mpath, silent_path_is_left_by_keep_alive)
{
	struct nvmeof_mpath *g = connect_group(NULL, 1000);
	struct loads L;
	uint64_t r0;

	loads_start(&L, g);
	loads_progress(&L, 5);
	/* path 0's listener reads every command and answers none: its
	 * keep-alive (KATO 1 s) or the I/O timeout ends the association */
	ctl("fault silent@127.0.0.1:%d", port0);
	wait_path(g, 0, "connecting", 0);
	loads_progress(&L, 10);
	cr_expect_str_eq(info(g, 1).state, "live");
	ctl("fault off silent");
	wait_path(g, 0, "live", 0);
	r0 = info(g, 0).reads;
	loads_progress(&L, 10);
	cr_expect_gt(info(g, 0).reads, r0, "I/O did not come back to path 0");
	cr_log_info("silent path: longest write+read round %llu ms (KATO 1000 ms)",
		    (unsigned long long)loads_stop(&L));
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
}

struct one {
	struct nvmeof_mpath *g;
	int rc;
	char msg[256];
	uint8_t w[512], r[512];
};

static void *one_write(void *arg)
{
	struct one *o = arg;

	o->rc = nvmeof_mpath_write(o->g, 1, 7, 1, o->w, false);
	if (o->rc == 0)
		o->rc = nvmeof_mpath_read(o->g, 1, 7, 1, o->r);
	if (o->rc < 0)
		snprintf(o->msg, sizeof o->msg, "%s", nvmeof_get_error());
	return NULL;
}

Test(mpath, both_lost_one_back_and_one_refusing)
{
	struct nvmeof_mpath *g = connect_group(NULL, 5000);
	struct nvmeof_mpath_stats st;
	struct one o = { .rc = 1 };
	pthread_t tid;
	char l0[64];
	uint64_t until;

	o.g = g;
	memset(o.w, 0x5a, sizeof o.w);
	cr_assert_eq(nvmeof_mpath_write(g, 1, 0, 1, o.w, false), 0);
	/* both paths gone */
	tproc_stop(&T);
	wait_path(g, 0, "connecting", 0);
	wait_path(g, 1, "connecting", 0);
	cr_expect_str_eq(nvmeof_mpath_state(g), "reconnecting");
	nvmeof_mpath_stats(g, &st);
	cr_assert_eq(pthread_create(&tid, NULL, one_write, &o), 0);
	/* the write waits for a path */
	until = now_ms() + HANG_MS;
	for (;;) {
		struct nvmeof_mpath_stats s2;

		nvmeof_mpath_stats(g, &s2);
		if (s2.waits > st.waits)
			break;
		cr_assert(now_ms() < until, "the write did not wait");
		usleep(1000);
	}
	cr_expect_eq(o.rc, 1, "the write completed without a path");
	/* one listener back (the other port stays closed: that path is
	 * refused on every attempt) */
	snprintf(l0, sizeof l0, "127.0.0.1:%d", port0);
	start_target(l0, NULL);
	pthread_join(tid, NULL);
	cr_expect_eq(o.rc, 0, "%s", o.msg);
	cr_expect_eq(memcmp(o.w, o.r, sizeof o.w), 0, "read back other data");
	cr_expect_str_eq(info(g, 0).state, "live");
	cr_expect_str_neq(info(g, 1).state, "live");
	cr_expect(info(g, 1).last_error[0], "the refused path says nothing");
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
}

Test(mpath, fail_ends_what_waits)
{
	struct nvmeof_mpath *g = connect_group(NULL, 5000);
	struct nvmeof_mpath_stats st, s2;
	struct one o = { .rc = 1 };
	pthread_t tid;
	uint64_t until;

	o.g = g;
	memset(o.w, 0x3c, sizeof o.w);
	tproc_stop(&T);
	wait_path(g, 0, "connecting", 0);
	wait_path(g, 1, "connecting", 0);
	nvmeof_mpath_stats(g, &st);
	cr_assert_eq(pthread_create(&tid, NULL, one_write, &o), 0);
	until = now_ms() + HANG_MS;
	do {
		cr_assert(now_ms() < until, "the write did not wait");
		usleep(1000);
		nvmeof_mpath_stats(g, &s2);
	} while (s2.waits == st.waits);
	cr_expect_eq(nvmeof_mpath_fail(g, "the test ends it"), 0);
	pthread_join(tid, NULL);
	cr_expect_eq(o.rc, -EIO, "the waiting write: %d %s", o.rc, o.msg);
	cr_expect_str_eq(nvmeof_mpath_state(g), "failed");
	cr_expect_lt(nvmeof_mpath_read(g, 1, 0, 1, o.r), 0, "I/O after the end");
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
	/* teardown stops the target again: harmless */
}

Test(mpath, a_path_to_another_namespace_is_refused)
{
	/* a second target under the same NQN whose namespace 1 is another
	 * one (another backing: another NGUID) */
	static const char *const args[] = { "-n", NQN, "--ns", "ram:2M,lba=512",
					     NULL };
	struct tproc t2;
	char d2[128], msg[256], a0[64], a1[64];
	const char *addrs[2] = { a0, a1 };
	struct nvmeof_opts o;
	struct nvmeof_mpath *g = NULL;
	struct nvmeof_mpath_path_info in;
	uint8_t w[512], r[512];

	snprintf(d2, sizeof d2, "%s/t2", dir);
	cr_assert_eq(mkdir(d2, 0700), 0);
	cr_assert_eq(tproc_start(&t2, d2, args, msg, sizeof msg), 0, "%s", msg);
	snprintf(a0, sizeof a0, "127.0.0.1:%d", port0);
	snprintf(a1, sizeof a1, "127.0.0.1:%d", t2.port);
	nvmeof_opts_init(&o);
	o.subnqn = NQN;
	o.hostnqn = HOSTNQN;
	o.hostid = HOSTID;
	o.nr_io_queues = 1;
	o.reconnect_delay = 1;
	cr_assert_eq(nvmeof_mpath_connect(&o, addrs, 2, NULL, &g), 0, "%s",
		     nvmeof_get_error());
	cr_assert_eq(nvmeof_mpath_path_info(g, 1, &in), 0);
	cr_expect_str_eq(in.state, "failed");
	cr_expect(strstr(in.last_error, "not the same namespace"), "%s",
		  in.last_error);
	cr_expect_null(nvmeof_mpath_path_ctrl(g, 1));
	memset(w, 0x77, sizeof w);
	cr_expect_eq(nvmeof_mpath_write(g, 1, 9, 1, w, false), 0, "%s",
		     nvmeof_get_error());
	cr_expect_eq(nvmeof_mpath_read(g, 1, 9, 1, r), 0);
	cr_expect_eq(memcmp(w, r, sizeof w), 0);
	cr_expect_eq(nvmeof_mpath_path_info(g, 0, &in), 0);
	cr_expect_gt(in.writes, 0);
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
	tproc_stop(&t2);
	target_dir_remove(d2);
}

Test(mpath, one_path_is_the_association)
{
	struct nvmeof_opts o;
	struct nvmeof_mpath *g = NULL;
	char a0[64];
	const char *addrs[1] = { a0 };
	uint8_t w[512], r[512];

	snprintf(a0, sizeof a0, "127.0.0.1:%d", port0);
	nvmeof_opts_init(&o);
	o.subnqn = NQN;
	o.hostnqn = HOSTNQN;
	o.hostid = HOSTID;
	o.nr_io_queues = 1;
	cr_assert_eq(nvmeof_mpath_connect(&o, addrs, 1, NULL, &g), 0, "%s",
		     nvmeof_get_error());
	memset(w, 0xa5, sizeof w);
	cr_expect_eq(nvmeof_mpath_write(g, 1, 3, 1, w, true), 0);
	cr_expect_eq(nvmeof_mpath_read(g, 1, 3, 1, r), 0);
	cr_expect_eq(memcmp(w, r, sizeof w), 0);
	cr_expect_neq(nvmeof_mpath_read(g, 9, 0, 1, r), 0, "namespace 9");
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
	{
		const char *bad[1] = { "127.0.0.1:1" };

		cr_expect_lt(nvmeof_mpath_connect(&o, bad, 1, NULL, &g), 0);
		cr_expect_lt(nvmeof_mpath_connect(&o, addrs, 1, "fastest", &g), 0);
	}
}

/* A path removed (its discovery log entry went) while the load runs: what
 * was outstanding on it is sent again on the other path, no error, the
 * data reads back; it leaves the count and the paths text, is never used
 * again, and the last path cannot be removed. */
Test(mpath, remove_path_under_load)
{
	struct nvmeof_mpath *g = connect_group(NULL, 5000);
	struct nvmeof_mpath_path_info in;
	struct loads L;
	char a0[64], a1[64], text[2048];
	uint64_t w1;

	snprintf(a0, sizeof a0, "127.0.0.1:%d", port0);
	snprintf(a1, sizeof a1, "127.0.0.1:%d", port1);
	cr_expect_eq(nvmeof_mpath_remove_path(g, "127.0.0.1:1"), -ENOENT);
	loads_start(&L, g);
	loads_progress(&L, 10);
	cr_expect_gt(info(g, 1).writes, 0, "path 1 was not used");
	cr_assert_eq(nvmeof_mpath_remove_path(g, a1), 0, "%s", nvmeof_get_error());
	cr_expect_eq(nvmeof_mpath_nr_paths(g), 1);
	cr_expect_eq(nvmeof_mpath_path_info(g, 1, &in), -ENOENT);
	cr_expect_str_eq(nvmeof_mpath_state(g), "live");
	loads_progress(&L, 20);
	/* the last one stays */
	cr_expect_eq(nvmeof_mpath_remove_path(g, a0), -EBUSY);
	cr_expect(strstr(nvmeof_get_error(), "last path") != NULL, "%s",
		  nvmeof_get_error());
	w1 = info(g, 0).writes;
	loads_progress(&L, 10);
	loads_stop(&L);
	cr_expect_gt(info(g, 0).writes, w1, "path 0 carries the load");
	cr_assert_gt(nvmeof_mpath_paths_text(g, text, sizeof text), 0);
	cr_expect(strncmp(text, "0 ", 2) == 0 && !strchr(text, '\n')[1],
		  "one line, path 0's: %s", text);
	cr_expect_null(nvmeof_mpath_path_ctrl(g, 1));
	/* a removed address may come back as a new path (a new ID) */
	cr_expect_eq(nvmeof_mpath_add_path(g, a1), 2, "%s", nvmeof_get_error());
	cr_expect_eq(nvmeof_mpath_nr_paths(g), 2);
	wait_path(g, 2, "live", 0);
	cr_expect_eq(nvmeof_mpath_disconnect(g), 0);
}
