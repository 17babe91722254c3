/* SPDX-License-Identifier: MIT */
/* What the files of tests/test_hostile share (see hostile_check.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile_check.h"
#include <time.h>

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void opts_for(struct nvmeof_opts *o, const char *port, const char *subnqn)
{
	nvmeof_opts_init(o);
	o->traddr = "127.0.0.1";
	o->trsvcid = port;
	o->subnqn = subnqn ? subnqn : HP_NQN;
	o->hostnqn = HOSTNQN;
	o->hostid = HOSTID;
	o->nr_io_queues = 1;
	o->queue_size = 32;
	o->kato_ms = 0;
	o->connect_timeout_ms = CONNECT_TIMEOUT_MS;
	o->io_timeout_ms = IO_TIMEOUT_MS;
	o->ctrl_loss_tmo = 0;
	o->reconnect_delay = 1;
}

struct nvmeof_ctrl *connect_ok(const struct nvmeof_opts *o)
{
	struct nvmeof_ctrl *c = NULL;
	int rc = nvmeof_connect(o, &c);

	cr_assert_eq(rc, 0, "connect to 127.0.0.1:%s: %s", o->trsvcid,
		     nvmeof_get_error());
	return c;
}

void expect_error(int rc, int want_errno, const char *want_msg,
		  const char *what)
{
	cr_assert_lt(rc, 0, "%s: reported success", what);
	cr_assert_eq(-rc, want_errno, "%s: errno %d (%s), expected %d (%s); message: %s",
		     what, -rc, strerror(-rc), want_errno, strerror(want_errno),
		     nvmeof_get_error());
	cr_assert_eq(nvmeof_get_errno(), want_errno, "%s: nvmeof_get_errno() %d",
		     what, nvmeof_get_errno());
	cr_assert_not_null(strstr(nvmeof_get_error(), want_msg),
			   "%s: message '%s' lacks '%s'", what,
			   nvmeof_get_error(), want_msg);
}

/* The association ends: the state says so within a moment. */
void expect_failed(struct nvmeof_ctrl *c, const char *want_msg)
{
	struct nvmeof_ctrl_status st;
	uint64_t until = now_ms() + 3000;

	while (strcmp(nvmeof_ctrl_state(c), "failed") && now_ms() < until)
		usleep(10000);
	nvmeof_ctrl_status(c, &st);
	cr_assert_str_eq(st.state, "failed", "state %s (last error: %s)",
			 st.state, st.last_error);
	if (want_msg)
		cr_assert_not_null(strstr(st.last_error, want_msg),
				   "last error '%s' lacks '%s'", st.last_error,
				   want_msg);
}

void fill(uint8_t *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 13 + seed * 101 + (i >> 9));
}

/* A write and reads on a well-behaved association give the right data. */
void good_io(struct nvmeof_ctrl *c, unsigned seed)
{
	uint32_t len = 16 * HP_LBA; /* > in-capsule: by R2T */
	uint8_t *w = malloc(len), *r = malloc(len);
	int rc;

	cr_assert(w && r);
	fill(w, len, seed);
	rc = nvmeof_write(c, 1, 64, 16, w, false);
	cr_assert_eq(rc, 0, "good association: write: %s", nvmeof_get_error());
	memset(r, 0, len);
	rc = nvmeof_read(c, 1, 64, 16, r);
	cr_assert_eq(rc, 0, "good association: read: %s", nvmeof_get_error());
	cr_assert_eq(memcmp(w, r, len), 0, "good association: data differ");
	rc = nvmeof_read(c, 1, 0, 2, r);
	cr_assert_eq(rc, 0, "good association: read: %s", nvmeof_get_error());
	for (uint32_t i = 0; i < 2 * HP_LBA; i++)
		cr_assert_eq(r[i], hp_pattern(i), "good association: byte %u", i);
	cr_assert_str_eq(nvmeof_ctrl_state(c), "live");
	free(w);
	free(r);
}

/* The peer misbehaves on a 4-block read that must still succeed, whole
 * and right. */
void read_right_data(struct nvmeof_ctrl *b, struct hp *bp)
{
	uint8_t buf[4 * HP_LBA];
	int rc;

	memset(buf, 0xee, sizeof buf);
	rc = nvmeof_read(b, 1, 0, 4, buf);
	cr_assert(hp_fired(bp), "the controller did not misbehave");
	cr_assert_eq(rc, 0, "read: %s", nvmeof_get_error());
	for (uint32_t i = 0; i < sizeof buf; i++)
		cr_assert_eq(buf[i], hp_pattern(i), "byte %u", i);
}

/* ---- the I/O cases: one read or write meets the misbehaviour ------------ */


void run_io_case(const struct io_case *kc)
{
	struct io_case kk = *kc, *k = &kk;
	struct hp *gp = hp_start(HP_NONE), *bp = hp_start(k->mode);
	struct nvmeof_opts o;
	struct nvmeof_ctrl *g, *b;
	uint32_t len;
	uint8_t *buf, *chk;
	uint64_t t0;
	int rc;

	if (!k->nlb)
		k->nlb = 4;
	if (!k->want_errno)
		k->want_errno = EIO;
	len = k->nlb * HP_LBA;
	buf = malloc(len);
	chk = malloc(len);

	cr_assert(gp && bp && buf && chk);
	opts_for(&o, hp_port(gp), NULL);
	g = connect_ok(&o);
	opts_for(&o, hp_port(bp), NULL);
	o.hdr_digest = k->hdgst;
	o.data_digest = k->ddgst;
	b = connect_ok(&o);

	t0 = now_ms();
	if (k->write) {
		fill(buf, len, 7);
		rc = nvmeof_write(b, 1, 0, k->nlb, buf, false);
	} else {
		memset(buf, 0xee, len);
		rc = nvmeof_read(b, 1, 0, k->nlb, buf);
	}
	cr_assert(hp_fired(bp), "the controller did not misbehave");
	expect_error(rc, k->want_errno, k->want_msg, k->write ? "write" : "read");
	cr_assert_lt(now_ms() - t0, 10000, "took %" PRIu64 " ms",
		     now_ms() - t0);

	if (k->survives) {
		/* Only that command failed: the next one is right. */
		rc = nvmeof_read(b, 1, 8, 1, chk);
		cr_assert_eq(rc, 0, "after: %s", nvmeof_get_error());
		for (uint32_t i = 0; i < HP_LBA; i++)
			cr_assert_eq(chk[i], hp_pattern(8 * HP_LBA + i));
		cr_assert_str_eq(nvmeof_ctrl_state(b), "live");
	} else {
		expect_failed(b, NULL);
		rc = nvmeof_read(b, 1, 0, 1, chk);
		cr_assert_lt(rc, 0, "I/O after the association ended succeeded");
		cr_assert_eq(-rc, EIO, "after: %s", nvmeof_get_error());
	}
	good_io(g, k->mode);
	cr_assert_eq(nvmeof_disconnect(g), 0, "disconnect: %s", nvmeof_get_error());
	nvmeof_disconnect(b);
	hp_stop(bp);
	hp_stop(gp);
	free(buf);
	free(chk);
}
