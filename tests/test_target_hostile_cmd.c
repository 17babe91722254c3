/* SPDX-License-Identifier: MIT */
/*
 * Hostile hosts, command level: CID reuse, a queue never connected,
 * Connect with bad fields, LBA ranges past the end and overflowing,
 * NLB and MDTS limits, Dataset Management, Identify and Get Log Page with
 * odd lengths and offsets, a flood of AERs.  Each case: the answer on the
 * wire, a well-behaved host still served, the guard intact.
 */
#include <string.h>
#include <unistd.h>

#include "target_hostile.h"

TestSuite(hostile_cmd, .fini = teardown, .timeout = 90);

#define LBA_RANGE (ST(NVME_SCT_GENERIC, NVME_SC_LBA_RANGE) | DNR_)
#define INVALID_FIELD (ST(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | DNR_)
#define CONNECT_PARAM \
	(ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAM) | DNR_)

static uint16_t rw_raw(struct rc *io, uint8_t op, uint64_t slba, uint32_t nlb0,
		       uint32_t len)
{
	static uint8_t buf[1u << 20];
	struct nvme_sqe sqe = { .opcode = op, .nsid = htole32(1) };

	sqe.cdw10 = htole32((uint32_t)slba);
	sqe.cdw11 = htole32((uint32_t)(slba >> 32));
	sqe.cdw12 = htole32(nlb0);
	return rc_cmd(io, &sqe, op == NVME_NVM_READ ? X_IN : X_R2T,
		      buf, len, NULL);
}

/* A Write waits for its data (R2T sent); the same CID again is refused
 * with Command ID Conflict, and the first one still completes. */
Test(hostile_cmd, cid_reused_while_outstanding)
{
	uint8_t b[512], data[BS];
	struct nvme_sqe w = { .opcode = NVME_NVM_WRITE, .cid = htole16(77),
			      .nsid = htole32(1), .cdw10 = htole32(20) };
	struct nvme_sqe r = { .opcode = NVME_NVM_READ, .cid = htole16(77),
			      .nsid = htole32(1), .cdw10 = htole32(21) };
	struct rc a, io;
	uint16_t ttag;
	size_t hl;

	hostile_start(NULL);
	assoc_up(&a, &io);
	send_sqe(&io, &w, NULL, BS);
	raw_pdu(&io, b, sizeof b);
	cr_assert_eq(b[0], NVME_TCP_R2T);
	ttag = le16_get(b + 10);
	send_sqe(&io, &r, NULL, BS);
	cr_expect_eq(expect_rsp(&io, 77),
		     ST(NVME_SCT_GENERIC, NVME_SC_CID_CONFLICT) | DNR_);
	memset(data, 0x3c, sizeof data);
	hl = pdu_build_h2c_data(b, 77, ttag, 0, BS, true, false, false, 4);
	rc_send(&io, b, hl);
	rc_send(&io, data, BS);
	cr_expect_eq(expect_rsp(&io, 77), 0, "the first command completes");
	close(io.fd);
	close(a.fd);
	hostile_done(20, 1);
}

/* AERs are outstanding too: a command reusing an AER's CID. */
Test(hostile_cmd, cid_of_an_outstanding_aer)
{
	struct nvme_sqe aer = { .opcode = NVME_ADMIN_ASYNC_EVENT,
				.cid = htole16(300) };
	struct nvme_sqe ka = { .opcode = NVME_ADMIN_KEEP_ALIVE,
			       .cid = htole16(300) };
	struct rc a;

	hostile_start(NULL);
	admin_up(&a, NQN, false, false, 0);
	send_sqe(&a, &aer, NULL, 0);
	send_sqe(&a, &ka, NULL, 0);
	cr_expect_eq(expect_rsp(&a, 300),
		     ST(NVME_SCT_GENERIC, NVME_SC_CID_CONFLICT) | DNR_);
	close(a.fd);
	hostile_done(0, 0);
}

Test(hostile_cmd, command_on_a_queue_never_connected)
{
	struct nvme_sqe r = { .opcode = NVME_NVM_READ, .cid = htole16(3),
			      .nsid = htole32(1) };
	struct nvme_sqe w = { .opcode = NVME_NVM_WRITE, .cid = htole16(4),
			      .nsid = htole32(1), .cdw10 = htole32(10) };
	uint8_t data[BS] = { 1 };
	struct rc c;

	hostile_start(NULL);
	rc_init(&c, false, false, NULL);
	send_sqe(&c, &r, NULL, BS);
	cr_expect_eq(expect_rsp(&c, 3),
		     ST(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR) | DNR_);
	send_sqe(&c, &w, data, BS);
	cr_expect_eq(expect_rsp(&c, 4),
		     ST(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR) | DNR_);
	close(c.fd);
	hostile_done(0, 0);
}

/* A Connect with fields set by the caller. */
static uint16_t connect_raw(struct rc *c, uint16_t qid, uint16_t sqsize,
			    uint32_t kato, uint16_t cntlid, const char *sub,
			    size_t sublen, const char *host, size_t hostlen,
			    uint64_t *res)
{
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS_COMMAND };
	struct nvmf_connect_data d;
	uint8_t *b = (uint8_t *)&sqe;

	b[NVMF_SQE_FCTYPE] = NVMF_FCTYPE_CONNECT;
	le16_put(b + NVMF_CONNECT_QID, qid);
	le16_put(b + NVMF_CONNECT_SQSIZE, sqsize);
	le32_put(b + NVMF_CONNECT_KATO, kato);
	memset(&d, 0, sizeof d);
	d.cntlid = htole16(cntlid);
	memcpy(d.subnqn, sub, sublen);
	memcpy(d.hostnqn, host, hostlen);
	return rc_cmd(c, &sqe, X_INCAPSULE, &d, sizeof d, res);
}

Test(hostile_cmd, connect_bad_fields)
{
	char longs[256];
	struct rc a, c;
	uint64_t res;

	hostile_start(NULL);
	admin_up(&a, NQN, false, false, 0);
	memset(longs, 'a', sizeof longs);
#define TRY(qid, sq, kato, cntlid, sub, sl, host, hl, want)                  \
	do {                                                                 \
		rc_init(&c, false, false, NULL);                             \
		cr_expect_eq(connect_raw(&c, qid, sq, kato, cntlid, sub, sl,  \
					 host, hl, &res), want,               \
			     "Connect QID %u SQSIZE %u CNTLID %u", qid, sq,   \
			     cntlid);                                         \
		close(c.fd);                                                 \
	} while (0)
	/* QID beyond any queue, and the admin queue of another CNTLID */
	TRY(0xffff, 31, 0, a.cntlid, NQN, sizeof NQN, HOSTNQN, sizeof HOSTNQN,
	    CONNECT_PARAM);
	TRY(1, 31, 0, (uint16_t)(a.cntlid + 1), NQN, sizeof NQN, HOSTNQN,
	    sizeof HOSTNQN, CONNECT_PARAM);
	TRY(0, 31, 0, 0x1234, NQN, sizeof NQN, HOSTNQN, sizeof HOSTNQN,
	    CONNECT_PARAM);
	/* SQSIZE 0 and beyond MQES */
	TRY(0, 0, 0, 0xffff, NQN, sizeof NQN, HOSTNQN, sizeof HOSTNQN,
	    CONNECT_PARAM);
	TRY(0, 0xffff, 0, 0xffff, NQN, sizeof NQN, HOSTNQN, sizeof HOSTNQN,
	    CONNECT_PARAM);
	/* strings without their NUL, and a subsystem that is not there */
	TRY(0, 31, 0, 0xffff, longs, sizeof longs, HOSTNQN, sizeof HOSTNQN,
	    CONNECT_PARAM);
	TRY(0, 31, 0, 0xffff, NQN, sizeof NQN, longs, sizeof longs,
	    CONNECT_PARAM);
	TRY(0, 31, 0, 0xffff, "nqn.x", 6, HOSTNQN, sizeof HOSTNQN,
	    CONNECT_PARAM);
	/* an I/O queue for an association of another host */
	TRY(1, 31, 0, a.cntlid, NQN, sizeof NQN, "nqn.2014-08.org.example:x",
	    26, CONNECT_PARAM);
	/* KATO of 49 days: taken, and the association works */
	rc_init(&c, false, false, NULL);
	cr_expect_eq(connect_raw(&c, 0, 31, 0xffffffffu, 0xffff, NQN,
				 sizeof NQN, HOSTNQN, sizeof HOSTNQN, &res), 0);
	c.cntlid = (uint16_t)res;
	enable(&c);
	/* Connect again on a connected queue */
	cr_expect_eq(connect_raw(&c, 0, 31, 0, 0xffff, NQN, sizeof NQN,
				 HOSTNQN, sizeof HOSTNQN, &res),
		     ST(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR) | DNR_);
	close(c.fd);
	close(a.fd);
	hostile_done(0, 0);
}

Test(hostile_cmd, lba_past_the_end_and_overflowing)
{
	struct rc a, io;

	hostile_start(NULL);
	assoc_up(&a, &io);
	cr_expect_eq(rw_raw(&io, NVME_NVM_READ, NS1_BLOCKS, 0, BS), LBA_RANGE);
	cr_expect_eq(rw_raw(&io, NVME_NVM_READ, NS1_BLOCKS - 1, 1, 2 * BS),
		     LBA_RANGE);
	cr_expect_eq(rw_raw(&io, NVME_NVM_WRITE, NS1_BLOCKS - 1, 1, 2 * BS),
		     LBA_RANGE);
	cr_expect_eq(rw_raw(&io, NVME_NVM_WRITE, UINT64_MAX, 1, 2 * BS),
		     LBA_RANGE);
	cr_expect_eq(rw_raw(&io, NVME_NVM_WRITE, UINT64_MAX - 30, 31, 32 * BS),
		     LBA_RANGE);
	cr_expect_eq(rw_raw(&io, NVME_NVM_READ, UINT64_MAX, 0, BS), LBA_RANGE);
	cr_expect_eq(rw_raw(&io, NVME_NVM_WRITE, 1ull << 52, 0, BS), LBA_RANGE);
	/* Write Zeroes has no data: NLB up to 64 Ki blocks, past the end */
	{
		struct nvme_sqe wz = { .opcode = NVME_NVM_WRITE_ZEROES,
				       .nsid = htole32(1),
				       .cdw10 = htole32(NS1_BLOCKS - 8),
				       .cdw12 = htole32(0xffff) };

		cr_expect_eq(rc_cmd(&io, &wz, X_NONE, NULL, 0, NULL), LBA_RANGE);
	}
	close(io.fd);
	close(a.fd);
	hostile_done(0, 0);
}

/* NLB against the SGL length, and MDTS (128 KiB by default). */
Test(hostile_cmd, nlb_and_mdts_limits)
{
	struct rc a, io;
	uint16_t st;

	hostile_start(NULL);
	assoc_up(&a, &io);
	/* 33 blocks > MDTS: refused before any R2T */
	st = rw_raw(&io, NVME_NVM_WRITE, 16, 32, 33 * BS);
	cr_expect_neq(st, 0);
	cr_expect(st & DNR_);
	st = rw_raw(&io, NVME_NVM_READ, 16, 32, 33 * BS);
	cr_expect_neq(st, 0);
	/* NLB says 2 blocks, the SGL 1 block (and the other way round) */
	cr_expect_neq(rw_raw(&io, NVME_NVM_WRITE, 16, 1, BS), 0);
	cr_expect_neq(rw_raw(&io, NVME_NVM_WRITE, 16, 0, 2 * BS), 0);
	cr_expect_neq(rw_raw(&io, NVME_NVM_READ, 16, 1, BS), 0);
	/* exactly MDTS is fine */
	cr_expect_eq(rw_raw(&io, NVME_NVM_WRITE, 16, 31, 32 * BS), 0);
	close(io.fd);
	close(a.fd);
	hostile_done(16, 32);
}

static uint16_t dsm(struct rc *io, const uint8_t *ranges, uint32_t nr,
		    uint32_t len)
{
	struct nvme_sqe sqe = { .opcode = NVME_NVM_DSM, .nsid = htole32(1),
				.cdw10 = htole32(nr - 1),
				.cdw11 = htole32(NVME_DSM_AD) };

	return rc_cmd(io, &sqe, X_INCAPSULE, (void *)ranges, len, NULL);
}

static void range(uint8_t *r, uint32_t i, uint64_t slba, uint32_t nlb)
{
	memset(r + 16 * i, 0, 16);
	le32_put(r + 16 * i + 4, nlb);
	le64_put(r + 16 * i + 8, slba);
}

Test(hostile_cmd, dsm_256_ranges_and_out_of_bounds)
{
	static uint8_t r[4096], b[BS];
	struct rc a, io;

	hostile_start(NULL);
	assoc_up(&a, &io);
	/* 256 ranges, all inside the namespace, between the guards */
	for (uint32_t i = 0; i < 256; i++)
		range(r, i, 300 + i, 1);
	cr_expect_eq(dsm(&io, r, 256, sizeof r), 0);
	/* one range of 256 out of bounds: nothing deallocated (LBA 20 is
	 * guarded), LBA Out of Range */
	range(r, 0, 20, 1);
	range(r, 255, NS1_BLOCKS - 1, 2);
	cr_expect_eq(dsm(&io, r, 256, sizeof r), LBA_RANGE);
	range(r, 255, UINT64_MAX, 2);
	cr_expect_eq(dsm(&io, r, 256, sizeof r), LBA_RANGE);
	range(r, 255, 40, 0xffffffffu);
	cr_expect_eq(dsm(&io, r, 256, sizeof r), LBA_RANGE);
	/* fewer bytes than ranges */
	cr_expect_neq(dsm(&io, r, 256, 1024), 0);
	/* the data by R2T: 4 KiB into a slot buffer */
	{
		struct nvme_sqe sqe = { .opcode = NVME_NVM_DSM,
					.nsid = htole32(1),
					.cdw10 = htole32(255),
					.cdw11 = htole32(NVME_DSM_AD) };

		for (uint32_t i = 0; i < 256; i++)
			range(r, i, 600 + i, 1);
		cr_expect_eq(rc_cmd(&io, &sqe, X_R2T, r, sizeof r, NULL), 0);
		/* more than a slot's buffer holds */
		sqe.cdw10 = 0;
		static uint8_t big[16384];

		cr_expect_neq(rc_cmd(&io, &sqe, X_R2T, big, sizeof big, NULL),
			      0);
	}
	cr_assert_eq(rw(&io, NVME_NVM_READ, 1, 300, 1, b, X_IN), 0);
	cr_expect(all_zero(b, BS), "deallocated blocks read as zeros");
	close(io.fd);
	close(a.fd);
	hostile_done(0, 0);
}

/* Identify and Get Log Page with lengths and offsets a host should not
 * use: the target never sends more than the host asked for. */
Test(hostile_cmd, identify_and_log_page_odd_lengths)
{
	struct nvme_sqe sqe;
	struct rc a;
	uint32_t got;
	static const uint32_t lens[] = { 1, 3, 100, 4095, 4097, 8192,
					 1u << 20 };

	hostile_start(NULL);
	admin_up(&a, NQN, false, false, 0);
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		memset(&sqe, 0, sizeof sqe);
		sqe.opcode = NVME_ADMIN_IDENTIFY;
		sqe.cid = htole16((uint16_t)(100 + i));
		sqe.cdw10 = htole32(NVME_CNS_CTRL);
		send_sqe(&a, &sqe, NULL, lens[i]);
		collect(&a, (uint16_t)(100 + i), lens[i], &got);
	}
	/* Get Log Page: NUMD huge with a small SGL, offsets odd and far */
	struct {
		uint32_t numd, sgl;
		uint64_t off;
		uint8_t lid;
	} g[] = {
		{ 0xffffffffu, 4096, 0, NVME_LOG_SMART },
		{ 127, 512, 3, NVME_LOG_SMART },          /* LPO not dword aligned */
		{ 127, 512, 1ull << 63, NVME_LOG_ERROR },
		{ 1023, 4096, UINT64_MAX - 3, NVME_LOG_ERROR },
		{ 0, 4, 508, NVME_LOG_SMART },
		{ 0xffff, 1u << 20, 0, NVME_LOG_ERROR },
		{ 0x3ffff, 1u << 20, 0, NVME_LOG_CMD_EFFECTS },
		{ 255, 1024, 4096, NVME_LOG_CHANGED_NS },
	};
	for (size_t i = 0; i < ARRAY_SIZE(g); i++) {
		memset(&sqe, 0, sizeof sqe);
		sqe.opcode = NVME_ADMIN_GET_LOG_PAGE;
		sqe.cid = htole16((uint16_t)(200 + i));
		sqe.nsid = htole32(0xffffffff);
		sqe.cdw10 = htole32(g[i].lid | (g[i].numd & 0xffff) << 16);
		sqe.cdw11 = htole32(g[i].numd >> 16);
		sqe.cdw12 = htole32((uint32_t)g[i].off);
		sqe.cdw13 = htole32((uint32_t)(g[i].off >> 32));
		send_sqe(&a, &sqe, NULL, g[i].sgl);
		collect(&a, (uint16_t)(200 + i), g[i].sgl, &got);
	}
	close(a.fd);
	hostile_done(0, 0);
}

/* The discovery log is built per request: offsets into it as above. */
Test(hostile_cmd, discovery_log_odd_offsets)
{
	struct nvme_sqe sqe;
	struct rc a;
	uint32_t got;
	static const uint64_t offs[] = { 1, 1020, 1024, 4096, 1ull << 40,
					 UINT64_MAX - 1023 };

	hostile_start(NULL);
	admin_up(&a, NVMF_DISCOVERY_NQN, false, false, 0);
	for (size_t i = 0; i < ARRAY_SIZE(offs); i++) {
		memset(&sqe, 0, sizeof sqe);
		sqe.opcode = NVME_ADMIN_GET_LOG_PAGE;
		sqe.cid = htole16((uint16_t)(10 + i));
		sqe.cdw10 = htole32(NVME_LOG_DISCOVERY | 255u << 16);
		sqe.cdw12 = htole32((uint32_t)offs[i]);
		sqe.cdw13 = htole32((uint32_t)(offs[i] >> 32));
		send_sqe(&a, &sqe, NULL, 1024);
		collect(&a, (uint16_t)(10 + i), 1024, &got);
	}
	close(a.fd);
	hostile_done(0, 0);
}

/* A flood of Asynchronous Event Requests: four are kept (AERL 3), every
 * other one is answered at once with AER Limit Exceeded. */
Test(hostile_cmd, aer_flood)
{
	struct rc a;

	hostile_start(NULL);
	admin_up(&a, NQN, false, false, 0);
	for (uint16_t cid = 1000; cid < 1200; cid++) {
		struct nvme_sqe aer = { .opcode = NVME_ADMIN_ASYNC_EVENT,
					.cid = htole16(cid) };

		send_sqe(&a, &aer, NULL, 0);
	}
	for (uint16_t cid = 1004; cid < 1200; cid++)
		cr_assert_eq(expect_rsp(&a, cid),
			     ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_AER_LIMIT) | DNR_);
	close(a.fd);
	hostile_done(0, 0);
}
