/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target's Asymmetric Namespace Access over raw sockets: one target
 * with two listeners (two paths), namespace 5 in ANA group 2 and the rest
 * in group 1.  A group's state is changed on one listener with the control
 * socket; Identify, log 0Ch (with and without RGO), the ANA Change notice
 * (only to the associations of that listener, only with AEC bit 11) and
 * the status of I/O through each listener are checked.  The raw host:
 * tests/raw_host.c.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "raw_host.h"

static int port0, port1;

static void ana_setup(void)
{
	static const char *const extra[] = { "--ns", "ram:1M,ana=2", "-l",
					     "127.0.0.1:0", NULL };

	memset(&T, 0, sizeof T);
	start_target_args(extra);
	port0 = port_line(0);
	port1 = port_line(1);
	cr_assert(port0 > 0 && port1 > 0 && port0 != port1, "two ports: %d %d",
		  port0, port1);
}

TestSuite(ana, .init = ana_setup, .fini = teardown, .timeout = 60);

/* An admin queue (or I/O queue) on the listener at port */
static uint16_t admin_on(struct rc *c, int port)
{
	T.port = port;
	return admin_up(c, NQN, false, false, 0);
}

static void io_on(struct rc *io, struct rc *admin, int port)
{
	T.port = port;
	io_up(io, admin, 1);
}

static void send_aer(struct rc *c, uint16_t cid)
{
	struct nvme_sqe aer = { .opcode = NVME_ADMIN_ASYNC_EVENT,
				.flags = NVME_CMD_FLAGS_SGL,
				.cid = htole16(cid) };
	uint8_t hdr[PDU_MAX_TX_HDR];
	size_t hl = pdu_build_cmd(hdr, &aer, 0, false, false, 4);

	rc_send(c, hdr, hl);
}

/* The next completion on c: its CID, dword 0 in *dw0. */
static uint16_t next_cqe(struct rc *c, uint32_t *dw0, uint16_t *status)
{
	uint8_t hdr[PDU_MAX_TX_HDR + 160];
	struct pdu_info info;
	struct nvme_cqe cqe;

	cr_assert_eq(rc_pdu(c, hdr, NULL, 0, &info), NVME_TCP_RSP);
	memcpy(&cqe, hdr + 8, sizeof cqe);
	if (dw0)
		*dw0 = le32toh(cqe.dw0);
	if (status)
		*status = le16toh(cqe.status) >> 1;
	return le16toh(cqe.cid);
}

/* No AEN is waiting for c: a new AER and a Keep Alive sent after the
 * change; an event queued by the change would complete an AER before the
 * Keep Alive's answer (the target pairs AERs with events as they come). */
static void expect_no_aen(struct rc *c, uint16_t aer_cid, const char *who)
{
	struct nvme_sqe ka = { .opcode = NVME_ADMIN_KEEP_ALIVE,
			       .flags = NVME_CMD_FLAGS_SGL,
			       .cid = htole16(4000) };
	uint8_t hdr[PDU_MAX_TX_HDR];
	size_t hl;
	uint32_t dw0 = 0;

	send_aer(c, aer_cid);
	hl = pdu_build_cmd(hdr, &ka, 0, false, false, 4);
	rc_send(c, hdr, hl);
	cr_expect_eq(next_cqe(c, &dw0, NULL), 4000,
		     "%s: an AEN 0x%08x came, none expected", who, dw0);
}

static void expect_ana_aen(struct rc *c, uint16_t aer_cid)
{
	uint32_t dw0 = 0;
	uint16_t st = 0xffff;

	cr_assert_eq(next_cqe(c, &dw0, &st), aer_cid);
	cr_expect_eq(st, 0);
	cr_expect_eq(NVME_AER_TYPE(dw0), NVME_AER_NOTICE);
	cr_expect_eq(NVME_AER_INFO(dw0), NVME_AER_NOTICE_ANA);
	cr_expect_eq(NVME_AER_LID(dw0), NVME_LOG_ANA);
}

static uint16_t get_ana_log(struct rc *c, bool rgo, bool rae, uint8_t *buf,
			    uint32_t len)
{
	uint32_t numd = len / 4 - 1;
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_GET_LOG_PAGE,
		.nsid = htole32(0xffffffff),
		.cdw10 = htole32(NVME_LOG_ANA | (rgo ? NVME_ANA_LSP_RGO : 0) |
				 (rae ? 1u << 15 : 0) | (numd & 0xffff) << 16),
		.cdw11 = htole32(numd >> 16),
	};

	memset(buf, 0xee, len);
	return rc_cmd(c, &sqe, X_IN, buf, len, NULL);
}

#define HDR(f) offsetof(struct nvme_ana_log_hdr, f)
#define DESC(f) offsetof(struct nvme_ana_group_desc, f)

/* One group descriptor at *off: checked, *off moved past it. */
static void expect_group(const uint8_t *log, size_t *off, uint32_t grp,
			 uint8_t state, uint64_t chgcnt, uint32_t nnsids,
			 const uint32_t *nsids)
{
	const uint8_t *d = log + *off;

	cr_expect_eq(le32_get(d + DESC(grpid)), grp, "group at %zu", *off);
	cr_expect_eq(le32_get(d + DESC(nnsids)), nnsids, "group %u NNSIDS", grp);
	cr_expect_eq(le64_get(d + DESC(chgcnt)), chgcnt, "group %u CHGCNT", grp);
	cr_expect_eq(d[DESC(state)] & 0xf, state, "group %u state", grp);
	cr_expect(all_zero(d + DESC(rsvd), sizeof((struct nvme_ana_group_desc *)0)->rsvd),
		  "group %u reserved bytes", grp);
	for (uint32_t i = 0; i < nnsids; i++)
		cr_expect_eq(le32_get(d + 32 + 4 * i), nsids[i],
			     "group %u NSID %u", grp, i);
	*off += 32 + 4 * nnsids;
}

Test(ana, identify_fields)
{
	uint8_t b[4096];
	struct nvme_id_ctrl *id = (void *)b;
	struct nvme_id_ns *ns = (void *)b;
	struct rc a;

	/* offsets as in the NVMe Base specification */
	cr_assert_eq(offsetof(struct nvme_id_ctrl, cmic), 76);
	cr_assert_eq(offsetof(struct nvme_id_ctrl, oaes), 92);
	cr_assert_eq(offsetof(struct nvme_id_ctrl, anatt), 342);
	cr_assert_eq(offsetof(struct nvme_id_ctrl, anacap), 343);
	cr_assert_eq(offsetof(struct nvme_id_ctrl, anagrpmax), 344);
	cr_assert_eq(offsetof(struct nvme_id_ctrl, nanagrpid), 348);
	cr_assert_eq(offsetof(struct nvme_id_ctrl, mnan), 540);
	cr_assert_eq(offsetof(struct nvme_id_ns, anagrpid), 92);

	admin_on(&a, port1);
	cr_assert_eq(identify(&a, NVME_CNS_CTRL, 0, b), 0);
	cr_expect_eq(id->cmic & NVME_CMIC_ANA, NVME_CMIC_ANA, "CMIC bit 3");
	cr_expect_eq(le32toh(id->oaes) & NVME_OAES_ANA, NVME_OAES_ANA,
		     "OAES bit 11");
	cr_expect_eq(id->anacap & 0x1f, 0x1f, "every ANA state reported");
	cr_expect(id->anacap & 0x40, "ANAGRPID constant while attached");
	cr_expect_eq(id->anacap & 0x80, 0, "no Namespace Management");
	cr_expect_gt(id->anatt, 0, "ANATT");
	cr_expect_eq(le32toh(id->anagrpmax), 32);
	cr_expect_eq(le32toh(id->nanagrpid), 32);
	cr_expect_eq(le32toh(id->mnan), 1024);
	cr_assert_eq(identify(&a, NVME_CNS_NS, 5, b), 0);
	cr_expect_eq(le32toh(ns->anagrpid), 2);
	cr_assert_eq(identify(&a, NVME_CNS_NS, 1, b), 0);
	cr_expect_eq(le32toh(ns->anagrpid), 1, "group 1 by default");
	close(a.fd);
	finish();
}

Test(ana, two_listeners_one_group_changes)
{
	static const uint32_t g1[] = { 1, 2, 3, 4 }, g2[] = { 5 };
	struct rc a, b, quiet, ioa, iob;
	uint8_t log[8192], blk[BS];
	char cmd[128];
	size_t off;
	uint16_t st;
	struct nvme_sqe sf = { .opcode = NVME_ADMIN_SET_FEATURES,
			       .cdw10 = htole32(NVME_FEAT_ASYNC_EVENT),
			       .cdw11 = htole32(NVME_AEC_NS_ATTR) };

	admin_on(&a, port0);
	admin_on(&b, port1);
	admin_on(&quiet, port1);
	/* quiet: namespace notices only (AEC bit 11 clear) */
	cr_assert_eq(rc_cmd(&quiet, &sf, X_NONE, NULL, 0, NULL), 0);
	io_on(&ioa, &a, port0);
	io_on(&iob, &b, port1);

	/* before any change: every group optimized, CHGCNT 0 */
	cr_assert_eq(get_ana_log(&b, false, false, log, sizeof log), 0);
	cr_expect_eq(le64_get(log + HDR(chgcnt)), 0);
	cr_expect_eq(le16_get(log + HDR(ngrps)), 2);
	cr_expect(all_zero(log + HDR(rsvd), 6));
	off = 16;
	expect_group(log, &off, 1, NVME_ANA_OPTIMIZED, 0, 4, g1);
	expect_group(log, &off, 2, NVME_ANA_OPTIMIZED, 0, 1, g2);
	cr_expect(all_zero(log + off, sizeof log - off), "zeros past the end");

	send_aer(&a, 100);
	send_aer(&b, 200);
	send_aer(&quiet, 300);
	snprintf(cmd, sizeof cmd, "ana 127.0.0.1:%d 2 inaccessible", port1);
	cr_assert_str_eq(control(cmd), "ok\n");

	/* the notice: to b only (a is on the other listener, quiet did not
	 * ask for it) */
	expect_ana_aen(&b, 200);
	expect_no_aen(&a, 101, "association on the other listener");
	expect_no_aen(&quiet, 301, "association without AEC bit 11");

	/* log 0Ch as seen from each listener */
	cr_assert_eq(get_ana_log(&b, false, true, log, sizeof log), 0);
	cr_expect_eq(le64_get(log + HDR(chgcnt)), 1);
	cr_expect_eq(le16_get(log + HDR(ngrps)), 2);
	off = 16;
	expect_group(log, &off, 1, NVME_ANA_OPTIMIZED, 0, 4, g1);
	expect_group(log, &off, 2, NVME_ANA_INACCESSIBLE, 1, 1, g2);
	cr_assert_eq(get_ana_log(&b, true, true, log, sizeof log), 0);
	cr_expect_eq(le16_get(log + HDR(ngrps)), 2, "RGO");
	off = 16;
	expect_group(log, &off, 1, NVME_ANA_OPTIMIZED, 0, 0, NULL);
	expect_group(log, &off, 2, NVME_ANA_INACCESSIBLE, 1, 0, NULL);
	cr_expect(all_zero(log + off, sizeof log - off), "RGO: no NSIDs");
	cr_assert_eq(get_ana_log(&a, false, true, log, sizeof log), 0);
	cr_expect_eq(le64_get(log + HDR(chgcnt)), 0, "other listener");
	off = 16;
	expect_group(log, &off, 1, NVME_ANA_OPTIMIZED, 0, 4, g1);
	expect_group(log, &off, 2, NVME_ANA_OPTIMIZED, 0, 1, g2);

	/* I/O through each path */
	fill(blk, sizeof blk, 9);
	cr_expect_eq(rw(&ioa, NVME_NVM_WRITE, 5, 0, 1, blk, X_INCAPSULE), 0);
	st = rw(&iob, NVME_NVM_READ, 5, 0, 1, blk, X_IN);
	cr_expect_eq(st, NVME_SF(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE),
		     "inaccessible: status 0x%x", st);
	cr_expect_eq(st & NVME_SF_DNR_BIT, 0, "no DNR: another path may do");
	st = rw(&iob, NVME_NVM_WRITE, 5, 0, 1, blk, X_R2T);
	cr_expect_eq(st, NVME_SF(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE),
		     "R2T write: status 0x%x", st);
	cr_expect_eq(rw(&iob, NVME_NVM_READ, 1, 0, 1, blk, X_IN), 0,
		     "group 1 still optimized");
	cr_expect_eq(rw(&ioa, NVME_NVM_READ, 5, 0, 1, blk, X_IN), 0,
		     "group 2 optimized on the other listener");

	/* b read the log with RAE: still masked, no second notice */
	send_aer(&b, 201);
	snprintf(cmd, sizeof cmd, "ana 127.0.0.1:%d 2 persistent-loss", port1);
	cr_assert_str_eq(control(cmd), "ok\n");
	expect_no_aen(&b, 202, "notice masked until log 0Ch is read");
	st = rw(&iob, NVME_NVM_READ, 5, 0, 1, blk, X_IN);
	cr_expect_eq(st, NVME_SF(NVME_SCT_PATH, NVME_SC_ANA_PERSISTENT_LOSS),
		     "persistent loss: status 0x%x", st);
	/* read without RAE: unmasked, the next change completes AER 201 */
	cr_assert_eq(get_ana_log(&b, false, false, log, sizeof log), 0);
	cr_expect_eq(le64_get(log + HDR(chgcnt)), 2);
	snprintf(cmd, sizeof cmd, "ana 127.0.0.1:%d 2 change", port1);
	cr_assert_str_eq(control(cmd), "ok\n");
	expect_ana_aen(&b, 201);
	st = rw(&iob, NVME_NVM_DSM, 5, 0, 1, blk, X_INCAPSULE);
	cr_expect_eq(st, NVME_SF(NVME_SCT_PATH, NVME_SC_ANA_TRANSITION),
		     "change: status 0x%x", st);
	cr_assert_eq(get_ana_log(&b, false, false, log, sizeof log), 0);
	off = 16;
	expect_group(log, &off, 1, NVME_ANA_OPTIMIZED, 0, 4, g1);
	expect_group(log, &off, 2, NVME_ANA_CHANGE, 3, 1, g2);

	/* the same state again is no change: no CHGCNT step, no notice */
	cr_assert_str_eq(control(cmd), "ok\n");
	snprintf(cmd, sizeof cmd, "ana 127.0.0.1:%d 2 non-optimized", port1);
	cr_assert_str_eq(control(cmd), "ok\n");
	expect_ana_aen(&b, 202);
	cr_expect_eq(rw(&iob, NVME_NVM_READ, 5, 0, 1, blk, X_IN), 0,
		     "non-optimized serves I/O");
	cr_assert_eq(get_ana_log(&b, true, false, log, sizeof log), 0);
	cr_expect_eq(le64_get(log + HDR(chgcnt)), 4);
	cr_expect_eq(log[16 + 32 + DESC(state)], NVME_ANA_NON_OPTIMIZED);
	cr_expect(strstr(control("ana"), " 2=non-optimized\n"), "%s",
		  control("ana"));

	close(ioa.fd);
	close(iob.fd);
	close(quiet.fd);
	close(a.fd);
	close(b.fd);
	finish();
}

Test(ana, control_errors_and_namespace_groups)
{
	char cmd[128], *r;

	cr_expect_str_eq(control("ana 127.0.0.1:1 1 optimized"),
		"error: no listener 127.0.0.1:1 (HOST:PORT as given to -l or as bound)\n");
	snprintf(cmd, sizeof cmd, "ana 127.0.0.1:%d 0 optimized", port0);
	cr_expect_str_eq(control(cmd), "error: ANA group '0': 1..32\n");
	snprintf(cmd, sizeof cmd, "ana 127.0.0.1:%d 33 optimized", port0);
	cr_expect_str_eq(control(cmd), "error: ANA group '33': 1..32\n");
	snprintf(cmd, sizeof cmd, "ana 127.0.0.1:%d 1x optimized", port0);
	cr_expect_str_eq(control(cmd), "error: ANA group '1x': 1..32\n");
	snprintf(cmd, sizeof cmd, "ana 127.0.0.1:%d 1 fast", port0);
	cr_expect_str_eq(control(cmd),
		"error: ANA state 'fast': optimized, non-optimized, inaccessible, persistent-loss or change\n");
	r = control("ana 127.0.0.1:1 1");
	cr_expect(!strncmp(r, "error: usage: ana HOST:PORT GROUP", 33), "%s", r);
	r = control("ana");
	cr_expect(strstr(r, " every group optimized\n"), "%s", r);

	cr_expect_str_eq(control("ns-add " NQN " 9 ram:1M ana=7"),
			 "nsid 9\nok\n");
	cr_expect(strstr(control("list"), "  ns 9 ram:1048576 lba=4096 rw ana=7"),
		  "%s", control("list"));
	cr_expect_str_eq(control("ns-add " NQN " 10 ram:1M ana=33"),
		"error: unknown namespace option 'ana=33' (ro, rw, lba=512|4096, ana=1..32)\n");
	cr_expect_str_eq(control("ns-add " NQN " 10 ram:1M ana=0"),
		"error: unknown namespace option 'ana=0' (ro, rw, lba=512|4096, ana=1..32)\n");
	finish();
}

Test(ana, groups_in_the_config_file)
{
	char cfg[200];
	struct rc c;
	uint8_t b[4096];
	size_t off = 16;
	static const uint32_t g3[] = { 1, 2 };

	cr_assert_eq(stop_target(), 0);
	snprintf(cfg, sizeof cfg, "%s/cfg", T.dir);
	write_cfg("subsystem nqn.2026-11.org.example:cfg-ana\n"
		  "  ns 1 ram:1M ana=3\n"
		  "  ns 2 null:4M ana=3 ro\n");
	start_target("-c", cfg);
	T.port = T.t.port;
	rc_init(&c, false, false, NULL);
	close(c.fd);
	c.cntlid = admin_up(&c, "nqn.2026-11.org.example:cfg-ana", false, false,
			    0);
	cr_assert_eq(identify(&c, NVME_CNS_NS, 2, b), 0);
	cr_expect_eq(le32toh(((struct nvme_id_ns *)b)->anagrpid), 3);
	cr_assert_eq(get_ana_log(&c, false, false, b, 4096), 0);
	cr_expect_eq(le16_get(b + HDR(ngrps)), 1, "only group 3 has namespaces");
	expect_group(b, &off, 3, NVME_ANA_OPTIMIZED, 0, 2, g3);
	close(c.fd);
	finish();

	/* a bad group in the file: refused at start */
	write_cfg("subsystem nqn.2026-11.org.example:cfg-ana\n"
		  "  ns 1 ram:1M ana=40\n");
	{
		char msg[256];
		const char *args[] = { "-c", cfg, NULL };

		cr_expect_neq(tproc_start(&T.t, T.dir, args, msg, sizeof msg), 0,
			      "a group out of range must be refused");
		if (T.t.pid > 0)
			tproc_stop(&T.t);
	}
}

/* A fault limited to one listener (…@HOST:PORT) hits the queues of that
 * path only: the bench's way to drop or silence one path of two. */
Test(ana, faults_on_one_listener)
{
	struct rc a, b, ioa, iob;
	uint8_t blk[BS], byte;
	char cmd[128], want[160];
	struct nvme_sqe ka = { .opcode = NVME_ADMIN_KEEP_ALIVE };
	struct pollfd pfd;

	admin_on(&a, port0);
	admin_on(&b, port1);
	io_on(&ioa, &a, port0);
	io_on(&iob, &b, port1);

	/* drop-after:1 on listener 1: the path through listener 0 is spared */
	snprintf(cmd, sizeof cmd, "fault drop-after:1@io@127.0.0.1:%d", port1);
	cr_assert_str_eq(control(cmd), "ok\n");
	snprintf(want, sizeof want, "drop-after:1@io@127.0.0.1:%d\nok\n", port1);
	cr_assert_str_eq(control("fault list"), want);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(rw(&ioa, NVME_NVM_READ, 1, 0, 1, blk, X_IN), 0,
			     "read %d on listener 0", i);
	cr_expect_str_eq(control("fault list"), want, "not fired by listener 0");
	cr_expect_eq(rw(&iob, NVME_NVM_READ, 1, 0, 1, blk, X_IN), 0);
	cr_expect_eq(rc_recv(&iob, &byte, 1), -1, "listener 1's I/O queue closed");
	cr_expect_str_eq(control("fault list"), "off\nok\n", "fired once, disarmed");
	cr_expect_eq(rw(&ioa, NVME_NVM_READ, 1, 0, 1, blk, X_IN), 0,
		     "listener 0's queue still answers");
	close(iob.fd);
	close(b.fd);

	/* silent on listener 0's admin and I/O queues: commands are read and
	 * never answered there, while listener 1 answers (a silent path) */
	admin_on(&b, port1);
	snprintf(cmd, sizeof cmd, "fault silent@all@127.0.0.1:%d", port0);
	cr_assert_str_eq(control(cmd), "ok\n");
	cr_expect_eq(rc_cmd(&b, &ka, X_NONE, NULL, 0, NULL), 0,
		     "Keep Alive answered on listener 1");
	raw_cmd(&a, NVME_ADMIN_KEEP_ALIVE, 0, 77, 0);
	pfd = (struct pollfd){ .fd = a.fd, .events = POLLIN };
	cr_expect_eq(poll(&pfd, 1, 300), 0, "no answer on listener 0's admin queue");
	raw_cmd(&ioa, NVME_NVM_READ, 1, 78, BS);
	pfd = (struct pollfd){ .fd = ioa.fd, .events = POLLIN };
	cr_expect_eq(poll(&pfd, 1, 300), 0, "nor on its I/O queue");
	cr_assert_str_eq(control("fault off silent"), "ok\n");

	/* a listener that is not there; the HOST:PORT alone means @all */
	cr_expect_str_eq(control("fault silent@all@127.0.0.1:1"),
			 "error: fault 'silent@all@127.0.0.1:1': no listener '127.0.0.1:1' (HOST:PORT as given to -l or as bound)\n");
	snprintf(cmd, sizeof cmd, "fault delay:5@127.0.0.1:%d", port1);
	cr_assert_str_eq(control(cmd), "ok\n");
	snprintf(want, sizeof want, "delay:5@all@127.0.0.1:%d\nok\n", port1);
	cr_expect_str_eq(control("fault list"), want);
	cr_expect_str_eq(control("fault delay:5@bogus@127.0.0.1:1"),
			 "error: fault 'delay:5@bogus@127.0.0.1:1': scope '@bogus' (want @io, @admin, @all or a listener's HOST:PORT)\n");
	cr_assert_str_eq(control("fault off"), "ok\n");
	close(ioa.fd);
	close(a.fd);
	close(b.fd);
	finish();
}
