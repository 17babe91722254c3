/* SPDX-License-Identifier: MIT */
/*
 * One thread, many associations (issue 14): a thread is bound to one I/O
 * queue of each handle it uses, and keeps that binding however many
 * handles it uses (a tree mount has up to 1024 subsystems).  16
 * associations with two I/O queues each, commands in flight on all of
 * them at once from this thread: every binding stays (the poll descriptor
 * of a handle does not change) and every command completes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "target_proc.h"
#include "nvmeof.h"

#define NR_CTRL 16
#define QD 4
#define BLK 4096u
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:0b4f54a8-0c38-4bc4-b5a4-1e9b2fbd52c7"
#define HOSTID "0b4f54a8-0c38-4bc4-b5a4-1e9b2fbd52c7"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char dir[96];
static struct tproc T;

static void nqn_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "nqn.2026-11.org.example:bind%02d", i);
}

static void start(void)
{
	char nqn[64], cmd[128], msg[256];

	snprintf(dir, sizeof dir, "%s/bindings.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(tproc_start(&T, dir, NULL, msg, sizeof msg), 0, "%s", msg);
	for (int i = 0; i < NR_CTRL; i++) {
		nqn_of(i, nqn, sizeof nqn);
		snprintf(cmd, sizeof cmd, "ns-add %s 1 ram:1M", nqn);
		cr_assert_eq(tproc_control(&T, cmd, msg, sizeof msg), 0,
			     "%s: %s", cmd, msg);
	}
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

struct cmd {
	int done, err;
	uint16_t status;
};

static void cmd_done(void *arg, int err, uint16_t status)
{
	struct cmd *c = arg;

	c->done = 1;
	c->err = err;
	c->status = status;
}

static void fill(uint8_t *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 11 + seed * 37 + (i >> 10));
}

TestSuite(bindings, .init = start, .fini = stop);

/* write: one round of QD commands on every handle, all in flight before
 * any is polled; then poll them all round and round. */
static void round_all(struct nvmeof_ctrl **c, uint8_t (*buf)[QD][BLK],
		      bool write, const int *fd)
{
	static struct cmd cmds[NR_CTRL][QD];
	uint64_t until;
	int left = NR_CTRL * QD;

	memset(cmds, 0, sizeof cmds);
	for (int i = 0; i < NR_CTRL; i++) {
		for (int j = 0; j < QD; j++) {
			int rc = write ?
				 nvmeof_submit_write(c[i], 1, (uint64_t)j, 1,
						     buf[i][j], false, cmd_done,
						     &cmds[i][j]) :
				 nvmeof_submit_read(c[i], 1, (uint64_t)j, 1,
						    buf[i][j], cmd_done,
						    &cmds[i][j]);

			cr_assert_eq(rc, 0, "submit on %d: %s", i,
				     nvmeof_get_error());
		}
	}
	for (int i = 0; i < NR_CTRL; i++)
		cr_assert_eq(nvmeof_poll_fd(c[i]), fd[i],
			     "association %d: this thread's queue changed (binding lost)",
			     i);
	until = now_ms() + 20000; /* hang guard */
	while (left) {
		cr_assert_lt(now_ms(), until,
			     "%d commands still without completion after 20 s", left);
		for (int i = 0; i < NR_CTRL; i++) {
			int rc = nvmeof_poll(c[i], 0);

			cr_assert_geq(rc, 0, "poll on %d: %s", i,
				      nvmeof_get_error());
			left -= rc;
		}
		if (left)
			usleep(200);
	}
	for (int i = 0; i < NR_CTRL; i++)
		for (int j = 0; j < QD; j++)
			cr_assert(cmds[i][j].done && !cmds[i][j].err &&
				  !cmds[i][j].status,
				  "association %d command %d: done %d err %d status %#x",
				  i, j, cmds[i][j].done, cmds[i][j].err,
				  cmds[i][j].status);
}

Test(bindings, sixteen_associations_one_thread, .timeout = 120)
{
	static uint8_t w[NR_CTRL][QD][BLK], r[NR_CTRL][QD][BLK];
	struct nvmeof_ctrl *c[NR_CTRL];
	int fd[NR_CTRL];
	char port[16];

	snprintf(port, sizeof port, "%d", T.port);
	for (int i = 0; i < NR_CTRL; i++) {
		struct nvmeof_opts o;
		char nqn[64];

		nqn_of(i, nqn, sizeof nqn);
		nvmeof_opts_init(&o);
		o.traddr = "127.0.0.1";
		o.trsvcid = port;
		o.subnqn = nqn;
		o.hostnqn = HOSTNQN;
		o.hostid = HOSTID;
		o.nr_io_queues = 2;
		o.queue_size = 32;
		cr_assert_eq(nvmeof_connect(&o, &c[i]), 0, "connect %s: %s",
			     nqn, nvmeof_get_error());
		cr_assert_eq(nvmeof_ctrl_nr_io_queues(c[i]), 2);
	}
	for (int i = 0; i < NR_CTRL; i++)
		for (int j = 0; j < QD; j++)
			fill(w[i][j], BLK, (unsigned)(i * QD + j));
	/* The first use binds; the descriptor of each binding is kept. */
	for (int i = 0; i < NR_CTRL; i++) {
		fd[i] = nvmeof_poll_fd(c[i]);
		cr_assert_geq(fd[i], 0, "no queue for %d: %s", i,
			      nvmeof_get_error());
	}
	for (int round = 0; round < 3; round++) {
		round_all(c, w, true, fd);
		memset(r, 0, sizeof r);
		round_all(c, r, false, fd);
		cr_assert_eq(memcmp(w, r, sizeof r), 0, "round %d: wrong data",
			     round);
	}
	for (int i = 0; i < NR_CTRL; i++)
		cr_assert_eq(nvmeof_disconnect(c[i]), 0, "%s", nvmeof_get_error());
}
