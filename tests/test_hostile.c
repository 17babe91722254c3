/* SPDX-License-Identifier: MIT */
/*
 * A broken or malicious controller must never crash the host, corrupt its
 * memory, make it hang, or make it hand wrong data to a caller as if it
 * were right (issue 7).  Two halves:
 *
 *  - suite "hostile": a scripted controller in this process
 *    (hostile_peer.c) answers normally and then misbehaves in one way.
 *    Reconnect is off (ctrl_loss_tmo 0) so that the failure is seen: the
 *    call fails with the documented errno and a message that says what the
 *    controller did, the association ends ("failed", later I/O fails too),
 *    the caller's buffer is never reported good, and an association with a
 *    well-behaved controller, opened before, carries on.  LeakSanitizer
 *    (make check with --enable-sanitizers) finds what would dangle, and
 *    every test has a timeout.
 *
 *  - suite "faults": nvmeof-target's --fault modes with reconnect on; the
 *    host reacts as it must to each of them (issue 8).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostile_peer.h"
#include "describe.h"
#include "target_proc.h"
#include "nvmeof.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:0c4a1e70-5d2b-4f3e-9a61-7b8c9d0e1f23"
#define HOSTID "0c4a1e70-5d2b-4f3e-9a61-7b8c9d0e1f23"
#define IO_TIMEOUT_MS 1000
#define CONNECT_TIMEOUT_MS 1500

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void opts_for(struct nvmeof_opts *o, const char *port, const char *subnqn)
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

static struct nvmeof_ctrl *connect_ok(const struct nvmeof_opts *o)
{
	struct nvmeof_ctrl *c = NULL;
	int rc = nvmeof_connect(o, &c);

	cr_assert_eq(rc, 0, "connect to 127.0.0.1:%s: %s", o->trsvcid,
		     nvmeof_get_error());
	return c;
}

static void expect_error(int rc, int want_errno, const char *want_msg,
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
static void expect_failed(struct nvmeof_ctrl *c, const char *want_msg)
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

static void fill(uint8_t *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 13 + seed * 101 + (i >> 9));
}

/* A write and reads on a well-behaved association give the right data. */
static void good_io(struct nvmeof_ctrl *c, unsigned seed)
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

/* ---- the I/O cases: one read or write meets the misbehaviour ------------ */

struct io_case {
	enum hp_mode mode;
	bool write;
	uint32_t nlb;
	bool hdgst, ddgst;
	int want_errno;
	const char *want_msg;
	bool survives; /* the command fails, the association does not */
};

static void run_io_case(const struct io_case *kc)
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

#define IO_CASE(name, ...)                                              \
	Test(hostile, name, .timeout = 20)                              \
	{                                                               \
		run_io_case(&(struct io_case){ __VA_ARGS__ });           \
	}

/* PDU framing */
IO_CASE(rsp_hlen_wrong, .mode = HP_RSP_BAD_HLEN,
	.want_msg = "CapsuleResp with HLEN 28, expected 24")
IO_CASE(rsp_plen_wrong, .mode = HP_RSP_BAD_PLEN,
	.want_msg = "CapsuleResp with PLEN 28, expected 24")
IO_CASE(rsp_plen_wrong_with_hdgst, .mode = HP_RSP_BAD_PLEN, .hdgst = true,
	.want_msg = "CapsuleResp with PLEN 32, expected 28")
IO_CASE(c2h_pdo_inside_header, .mode = HP_C2H_BAD_PDO,
	.want_msg = "C2HData with PDO 20")
IO_CASE(c2h_plen_1gib, .mode = HP_C2H_HUGE_PLEN,
	.want_msg = "C2HData DATAL 16384 but the PDU carries")
IO_CASE(termreq_plen_over_max, .mode = HP_TERM_HUGE_PLEN,
	.want_msg = "C2HTermReq with PLEN 4096 outside 24..152")
IO_CASE(termreq_with_128_bytes, .mode = HP_TERM_MAX,
	.want_msg = "controller terminated the connection (C2HTermReq: invalid PDU header field, FEI 2)")
IO_CASE(unknown_pdu_type, .mode = HP_UNKNOWN_TYPE,
	.want_msg = "PDU type unknown (0x0f) is not valid from the controller")
IO_CASE(icresp_after_init, .mode = HP_ICRESP_AGAIN,
	.want_msg = "ICResp after connection initialization")
IO_CASE(h2cdata_from_controller, .mode = HP_H2C_FROM_CTRL,
	.want_msg = "PDU type H2CData is not valid from the controller")

/* C2HData */
IO_CASE(c2h_cid_not_in_flight, .mode = HP_C2H_UNKNOWN_CID,
	.want_msg = "which is not in flight")
IO_CASE(c2h_beyond_length, .mode = HP_C2H_BEYOND,
	.want_msg = "ends at 16896, beyond its 16384 bytes")
IO_CASE(c2h_overlapping, .mode = HP_C2H_OVERLAP,
	.want_msg = "at offset 4096, expected 8192 (overlapping or missing data)")
IO_CASE(c2h_missing_offset, .mode = HP_C2H_GAP,
	.want_msg = "at offset 8192, expected 4096 (overlapping or missing data)")
IO_CASE(c2h_short_then_success, .mode = HP_C2H_SHORT_RSP, .survives = true,
	.want_msg = "completed a read without sending all its data")
IO_CASE(c2h_success_without_last, .mode = HP_C2H_SUCCESS_NOT_LAST,
	.want_msg = "C2HData with SUCCESS but not LAST_PDU")
IO_CASE(c2h_success_short, .mode = HP_C2H_SUCCESS_SHORT,
	.want_msg = "after 8192 of 16384 bytes")
IO_CASE(c2h_success_on_write, .mode = HP_C2H_ON_WRITE, .write = true,
	.want_msg = "which reads no data")

/* R2T */
IO_CASE(r2t_for_read, .mode = HP_R2T_FOR_READ,
	.want_msg = "which has no data to send by R2T")
IO_CASE(r2t_for_incapsule_write, .mode = HP_R2T_INCAPSULE, .write = true,
	.nlb = 1, .want_msg = "which has no data to send by R2T")
IO_CASE(r2t_beyond_write, .mode = HP_R2T_BEYOND, .write = true,
	.want_msg = "asks for 20480 bytes at offset 0; the write has 16384 bytes")
IO_CASE(r2t_more_than_maxr2t, .mode = HP_R2T_TWO, .write = true,
	.want_msg = "more than MAXR2T")
IO_CASE(r2t_not_at_offset_0, .mode = HP_R2T_OFFSET, .write = true,
	.want_msg = "asks for 12288 bytes at offset 4096")
IO_CASE(r2t_zero_length, .mode = HP_R2T_ZERO, .write = true,
	.want_msg = "asks for 0 bytes at offset 0")
IO_CASE(write_success_without_all_data, .mode = HP_WRITE_PARTIAL,
	.write = true, .survives = true,
	.want_msg = "completed a write without asking for all its data")

/* CapsuleResp */
IO_CASE(rsp_cid_never_issued, .mode = HP_RSP_UNKNOWN_CID,
	.want_msg = "CapsuleResp for command ID")

/* digests */
IO_CASE(header_digest_wrong, .mode = HP_BAD_HDGST, .hdgst = true,
	.ddgst = true, .want_msg = "header digest error in CapsuleResp")
/* A read damaged on every try: sent three more times, then EIO. */
IO_CASE(data_digest_wrong_every_try, .mode = HP_BAD_DDGST_4X, .hdgst = true,
	.ddgst = true, .survives = true,
	.want_msg = "data digest error in C2HData")

/* time */
IO_CASE(read_never_answered, .mode = HP_IO_SILENT,
	.want_msg = "got no completion within 1000 ms, nor after an Abort (the controller did not abort it)")
IO_CASE(read_answered_one_byte_at_a_time, .mode = HP_IO_SLOW,
	.want_msg = "got no completion within 1000 ms")

/* The peer misbehaves on a 4-block read that must still succeed, whole
 * and right. */
static void read_right_data(struct nvmeof_ctrl *b, struct hp *bp)
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

/* A read damaged once on the way is sent again: the caller gets the right
 * data, never an error, and the association stays. */
Test(hostile, data_digest_wrong_once_is_retried, .timeout = 20)
{
	struct hp *bp = hp_start(HP_BAD_DDGST);
	struct nvmeof_opts o;
	struct nvmeof_ctrl *b;
	struct nvmeof_stats st;

	cr_assert(bp);
	opts_for(&o, hp_port(bp), NULL);
	o.hdr_digest = o.data_digest = true;
	b = connect_ok(&o);
	read_right_data(b, bp);
	nvmeof_ctrl_stats(b, &st);
	cr_assert_eq(st.retries, 1, "%" PRIu64 " commands sent again",
		     st.retries);
	cr_assert_str_eq(nvmeof_ctrl_state(b), "live");
	nvmeof_disconnect(b);
	hp_stop(bp);
}

/* A read past the I/O timeout that the controller aborts when asked
 * (Command Abort Requested, the Abort answering "aborted") is sent again:
 * the caller gets the right data, and the association stays. */
Test(hostile, read_aborted_on_request_is_sent_again, .timeout = 20)
{
	struct hp *bp = hp_start(HP_IO_ABORTABLE);
	struct nvmeof_opts o;
	struct nvmeof_ctrl *b;
	struct nvmeof_stats st;
	struct nvmeof_ctrl_status cs;

	cr_assert(bp);
	opts_for(&o, hp_port(bp), NULL);
	b = connect_ok(&o);
	read_right_data(b, bp);
	nvmeof_ctrl_stats(b, &st);
	cr_assert_eq(st.aborts, 1, "%" PRIu64 " Aborts sent", st.aborts);
	cr_assert_eq(st.retries, 1, "%" PRIu64 " commands sent again",
		     st.retries);
	nvmeof_ctrl_status(b, &cs);
	cr_assert_eq(cs.reconnects, 0, "%u reconnects", cs.reconnects);
	cr_assert_str_eq(cs.state, "live");
	nvmeof_disconnect(b);
	hp_stop(bp);
}

/* A read that no association ever completes is not sent again forever:
 * after it outlived the I/O timeout on 5 associations it fails with
 * ETIMEDOUT, and the association, rebuilt, stays. */
Test(hostile, read_never_answered_anywhere_gives_up, .timeout = 60)
{
	struct hp *bp = hp_start(HP_IO_SILENT_ALWAYS);
	struct nvmeof_opts o;
	struct nvmeof_ctrl *b;
	struct nvmeof_stats st;
	struct nvmeof_ctrl_status cs;
	uint8_t buf[HP_LBA];
	uint64_t t0;
	int rc;

	cr_assert(bp);
	opts_for(&o, hp_port(bp), NULL);
	o.io_timeout_ms = 300;
	o.ctrl_loss_tmo = -1;
	b = connect_ok(&o);
	t0 = now_ms();
	rc = nvmeof_read(b, 1, 0, 1, buf);
	cr_assert(hp_fired(bp), "the controller did not misbehave");
	expect_error(rc, ETIMEDOUT, "outlived the I/O timeout on 5 associations",
		     "read");
	nvmeof_ctrl_stats(b, &st);
	nvmeof_ctrl_status(b, &cs);
	cr_log_info("gave up after %" PRIu64 " ms: %" PRIu64 " Aborts, %" PRIu64
		    " resends, %u reconnects", now_ms() - t0, st.aborts,
		    st.retries, cs.reconnects);
	cr_assert_eq(st.aborts, 5, "%" PRIu64 " Aborts sent", st.aborts);
	/* the read 4 times (and the Async Event Request too) */
	cr_assert_geq(st.retries, 4, "%" PRIu64 " commands sent again",
		      st.retries);
	cr_assert_geq(cs.reconnects, 4, "%u reconnects", cs.reconnects);
	nvmeof_disconnect(b);
	hp_stop(bp);
}

/* Two completions for one command: the first is right and is taken; the
 * second ends the association. */
Test(hostile, rsp_twice_for_one_command, .timeout = 20)
{
	struct hp *gp = hp_start(HP_NONE), *bp = hp_start(HP_RSP_TWICE);
	struct nvmeof_opts o;
	struct nvmeof_ctrl *g, *b;
	uint8_t buf[4 * HP_LBA];
	int rc;

	opts_for(&o, hp_port(gp), NULL);
	g = connect_ok(&o);
	opts_for(&o, hp_port(bp), NULL);
	b = connect_ok(&o);
	rc = nvmeof_read(b, 1, 0, 4, buf);
	cr_assert(hp_fired(bp));
	if (rc == 0) {
		for (uint32_t i = 0; i < sizeof buf; i++)
			cr_assert_eq(buf[i], hp_pattern(i), "byte %u", i);
	} else {
		cr_assert_eq(rc, -EIO, "%s", nvmeof_get_error());
	}
	/* Nobody polls the queue between commands: the next one meets the
	 * duplicate, and it is not handed that completion. */
	rc = nvmeof_read(b, 1, 0, 1, buf);
	expect_error(rc, EIO, "which is not in flight", "next read");
	expect_failed(b, "which is not in flight");
	good_io(g, 3);
	nvmeof_disconnect(b);
	nvmeof_disconnect(g);
	hp_stop(bp);
	hp_stop(gp);
}

/* ---- connection initialisation and bring-up ---------------------------- */

static void run_connect_case(enum hp_mode mode, bool hdgst, int want_errno,
			     const char *want_msg, int max_ms)
{
	struct hp *gp = hp_start(HP_NONE), *bp = hp_start(mode);
	struct nvmeof_opts o;
	struct nvmeof_ctrl *g, *b = NULL;
	uint64_t t0;
	int rc;

	cr_assert(gp && bp);
	opts_for(&o, hp_port(gp), NULL);
	g = connect_ok(&o);
	opts_for(&o, hp_port(bp), NULL);
	o.hdr_digest = hdgst;
	t0 = now_ms();
	rc = nvmeof_connect(&o, &b);
	cr_assert(hp_fired(bp), "the controller did not misbehave");
	expect_error(rc, want_errno, want_msg, "connect");
	cr_assert_null(b);
	cr_assert_leq(now_ms() - t0, (uint64_t)max_ms, "took %" PRIu64 " ms",
		      now_ms() - t0);
	good_io(g, mode);
	nvmeof_disconnect(g);
	hp_stop(bp);
	hp_stop(gp);
}

Test(hostile, icresp_pfv_1, .timeout = 20)
{
	run_connect_case(HP_IC_PFV, false, EPROTO,
			 "ICResp with PDU format version 1", 1000);
}

Test(hostile, icresp_maxh2cdata_2048, .timeout = 20)
{
	run_connect_case(HP_IC_MAXH2C, false, EPROTO,
			 "ICResp with MAXH2CDATA 2048", 1000);
}

Test(hostile, icresp_cpda_32, .timeout = 20)
{
	run_connect_case(HP_IC_CPDA, false, EPROTO, "ICResp with CPDA 32",
			 1000);
}

Test(hostile, icresp_digest_not_asked_for, .timeout = 20)
{
	run_connect_case(HP_IC_DGST, false, EPROTO,
			 "ICResp enables a digest the host did not ask for",
			 1000);
}

Test(hostile, icresp_digest_not_asked_for_ddgst, .timeout = 20)
{
	/* Asked for header digests only; granted both. */
	run_connect_case(HP_IC_DGST, true, EPROTO,
			 "ICResp enables a digest the host did not ask for",
			 1000);
}

Test(hostile, no_icresp_at_all, .timeout = 20)
{
	run_connect_case(HP_IC_SILENT, false, ETIMEDOUT,
			 "no ICResp within 1500 ms", CONNECT_TIMEOUT_MS + 1500);
}

Test(hostile, icresp_slowloris, .timeout = 20)
{
	/* One byte every 300 ms: the deadline is for the whole ICResp. */
	run_connect_case(HP_IC_SLOW, false, ETIMEDOUT,
			 "no ICResp within 1500 ms", CONNECT_TIMEOUT_MS + 1500);
}

Test(hostile, termreq_instead_of_icresp, .timeout = 20)
{
	run_connect_case(HP_IC_TERM, false, ECONNREFUSED,
			 "controller refused the connection (C2HTermReq: unsupported parameter)",
			 1000);
}

Test(hostile, connect_never_answered, .timeout = 20)
{
	run_connect_case(HP_CONNECT_SILENT, false, ETIMEDOUT,
			 "(opcode 0x7f) got no completion within 1000 ms",
			 CONNECT_TIMEOUT_MS + 1500);
}

Test(hostile, csts_never_ready, .timeout = 20)
{
	/* CAP.TO is 500 ms. */
	run_connect_case(HP_CSTS_NEVER_RDY, false, ETIMEDOUT,
			 "controller not ready (CSTS.RDY) within CAP.TO = 500 ms",
			 2500);
}

Test(hostile, identify_controller_short, .timeout = 20)
{
	run_connect_case(HP_ID_SHORT, false, EIO,
			 "completed a read without sending all its data", 2500);
}

/* ---- Identify data -------------------------------------------------------- */

struct pair {
	struct hp *gp, *bp;
	struct nvmeof_ctrl *g, *b;
};

static void pair_open(struct pair *p, enum hp_mode mode)
{
	struct nvmeof_opts o;

	p->gp = hp_start(HP_NONE);
	p->bp = hp_start(mode);
	cr_assert(p->gp && p->bp);
	opts_for(&o, hp_port(p->gp), NULL);
	p->g = connect_ok(&o);
	opts_for(&o, hp_port(p->bp), NULL);
	p->b = connect_ok(&o);
}

static void pair_close(struct pair *p)
{
	good_io(p->g, 11);
	nvmeof_disconnect(p->b);
	cr_assert_eq(nvmeof_disconnect(p->g), 0, "%s", nvmeof_get_error());
	hp_stop(p->bp);
	hp_stop(p->gp);
}

/* Strings without a NUL, full of bytes that are not text: every decoder
 * stays inside its field and escapes what it prints. */
Test(hostile, identify_unterminated_strings, .timeout = 20)
{
	struct pair p;
	const uint8_t *id;
	char *text, *json, *line;
	size_t q = 0;

	pair_open(&p, HP_ID_STRINGS);
	cr_assert(hp_fired(p.bp));
	id = nvmeof_ctrl_identify(p.b);
	cr_assert_eq(id[4], 0x01);
	text = nvmeof_describe(NVMEOF_DESC_ID_CTRL, id, 4096, 0);
	cr_assert_not_null(text);
	for (const char *s = text; *s; s++)
		cr_assert(((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) ||
				  *s == '\n',
			  "raw byte 0x%02x in the text", (unsigned char)*s);
	line = strstr(text, "subnqn");
	cr_assert_not_null(line);
	for (const char *s = line; *s && *s != '\n'; s++)
		q += *s == 'Q';
	cr_assert_eq(q, 256, "subnqn shows %zu of its 256 bytes", q);
	cr_assert_not_null(strstr(text, "\\x01\\xff"), "sn not escaped:\n%s", text);
	json = nvmeof_describe(NVMEOF_DESC_ID_CTRL, id, 4096, NVMEOF_DESCRIBE_JSON);
	cr_assert_not_null(json);
	for (const char *s = json; *s; s++)
		cr_assert((unsigned char)*s < 0x80 && ((unsigned char)*s >= 0x20 || *s == '\n'),
			  "JSON byte 0x%02x", (unsigned char)*s);
	free(text);
	free(json);
	/* and I/O is unaffected */
	good_io(p.b, 5);
	pair_close(&p);
}

/* NN 0 and no active namespace: nothing to read, said so, nothing sent. */
Test(hostile, identify_nn_0, .timeout = 20)
{
	struct pair p;
	uint32_t *ids = NULL;
	size_t n = 99;
	uint8_t buf[HP_LBA];
	int rc;

	pair_open(&p, HP_ID_NN0);
	rc = nvmeof_ns_list(p.b, &ids, &n);
	cr_assert_eq(rc, 0, "%s", nvmeof_get_error());
	cr_assert_eq(n, 0);
	free(ids);
	memset(buf, 0xee, sizeof buf);
	rc = nvmeof_read(p.b, 1, 0, 1, buf);
	expect_error(rc, ENOENT, "namespace 1 is not active", "read");
	cr_assert_eq(hp_io_cmds(p.bp), 0, "a read was sent anyway");
	cr_assert_str_eq(nvmeof_ctrl_state(p.b), "live");
	pair_close(&p);
}

/* MDTS 255 (2^255 pages) means no useful limit: the host still splits at
 * its own 1 MiB cap, and the data is right. */
Test(hostile, identify_mdts_absurd, .timeout = 20)
{
	struct pair p;
	uint32_t len = HP_NLBA * HP_LBA;
	uint8_t *buf = malloc(len);
	int rc;

	cr_assert_not_null(buf);
	pair_open(&p, HP_ID_MDTS);
	cr_assert_eq(nvmeof_ctrl_mdts_bytes(p.b), 0);
	rc = nvmeof_read(p.b, 1, 0, HP_NLBA, buf);
	cr_assert_eq(rc, 0, "%s", nvmeof_get_error());
	for (uint32_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], hp_pattern(i), "byte %u", i);
	cr_assert_eq(hp_io_cmds(p.bp), 2, "%u commands for 2 MiB",
		     hp_io_cmds(p.bp));
	free(buf);
	pair_close(&p);
}

static void ns_case(enum hp_mode mode, const char *want_msg)
{
	struct pair p;
	uint8_t buf[HP_LBA];
	struct nvmeof_ns_info info;
	int rc;

	pair_open(&p, mode);
	memset(buf, 0xee, sizeof buf);
	rc = nvmeof_read(p.b, 1, 0, 1, buf);
	cr_assert(hp_fired(p.bp));
	expect_error(rc, EPROTO, want_msg, "read");
	cr_assert_eq(hp_io_cmds(p.bp), 0, "a read was sent anyway");
	rc = nvmeof_ns_info(p.b, 1, &info); /* the controller is fine now */
	cr_assert_eq(rc, 0, "%s", nvmeof_get_error());
	cr_assert_eq(info.lba_size, HP_LBA);
	pair_close(&p);
}

Test(hostile, identify_ns_flbas_beyond_nlbaf, .timeout = 20)
{
	ns_case(HP_NS_FLBAS, "formatted LBA index 5 beyond its 1 formats");
}

Test(hostile, identify_ns_lba_size_2_40, .timeout = 20)
{
	ns_case(HP_NS_LBADS, "unsupported LBA data size 2^40 bytes");
}

Test(hostile, identify_ns_size_overflows, .timeout = 20)
{
	ns_case(HP_NS_NSZE, "size overflows 64 bits");
}

/* ---- discovery log page ---------------------------------------------- */

static void disc_case(enum hp_mode mode, int want_errno, const char *want_msg)
{
	struct hp *gp = hp_start(HP_NONE), *bp = hp_start(mode);
	struct nvmeof_opts o;
	struct nvmeof_ctrl *g, *b;
	struct nvmeof_disc_log *log = (void *)1;
	int rc;

	cr_assert(gp && bp);
	opts_for(&o, hp_port(gp), NVMEOF_DISCOVERY_NQN);
	g = connect_ok(&o);
	opts_for(&o, hp_port(bp), NVMEOF_DISCOVERY_NQN);
	b = connect_ok(&o);
	rc = nvmeof_discover(b, &log);
	cr_assert(hp_fired(bp));
	expect_error(rc, want_errno, want_msg, "discover");
	cr_assert_null(log);
	rc = nvmeof_discover(g, &log);
	cr_assert_eq(rc, 0, "good discovery controller: %s", nvmeof_get_error());
	cr_assert_eq(log->numrec, 2);
	cr_assert_str_eq(log->entries[1].subnqn, HP_NQN "-1");
	cr_assert_str_eq(log->entries[0].traddr, "127.0.0.1");
	nvmeof_disc_log_free(log);
	nvmeof_disconnect(b);
	nvmeof_disconnect(g);
	hp_stop(bp);
	hp_stop(gp);
}

Test(hostile, discovery_numrec_huge, .timeout = 20)
{
	disc_case(HP_DISC_NUMREC_HUGE, EPROTO,
		  "discovery log claims 1000000000 records");
}

Test(hostile, discovery_numrec_beyond_page, .timeout = 20)
{
	disc_case(HP_DISC_SHORT, EIO,
		  "completed a read without sending all its data");
}

Test(hostile, discovery_genctr_never_settles, .timeout = 20)
{
	disc_case(HP_DISC_GENCTR, EAGAIN,
		  "discovery log kept changing (GENCTR) over 10 attempts");
}

/* ---- keep-alive ------------------------------------------------------------ */

Test(hostile, keep_alive_never_answered, .timeout = 20)
{
	struct hp *gp = hp_start(HP_NONE), *bp = hp_start(HP_KA_SILENT);
	struct nvmeof_opts o;
	struct nvmeof_ctrl *g, *b;
	uint8_t buf[HP_LBA];
	uint64_t t0;

	opts_for(&o, hp_port(gp), NULL);
	o.kato_ms = 1000;
	g = connect_ok(&o);
	opts_for(&o, hp_port(bp), NULL);
	o.kato_ms = 1000;
	b = connect_ok(&o);
	t0 = now_ms();
	while (strcmp(nvmeof_ctrl_state(b), "failed") && now_ms() - t0 < 5000)
		usleep(10000);
	/* The first Keep Alive leaves KATO/2 after connect; it is overdue
	 * KATO later; the admin thread looks at least every KATO/2. */
	cr_assert_leq(now_ms() - t0, 1000 + 500 + 1000,
		      "not detected after %" PRIu64 " ms", now_ms() - t0);
	expect_failed(b, "no Keep Alive completion within KATO (1000 ms)");
	cr_assert_eq(nvmeof_read(b, 1, 0, 1, buf), -EIO);
	good_io(g, 2);
	nvmeof_disconnect(b);
	nvmeof_disconnect(g);
	hp_stop(bp);
	hp_stop(gp);
}

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
