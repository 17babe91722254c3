/* SPDX-License-Identifier: MIT */
/*
 * Hostile hosts, H2CData: for an unknown TTAG, beyond the R2T, out of
 * order, with a gap, after the last one, for a command that never had an
 * R2T.  Every one is a fatal transport error (C2HTermReq, then the
 * connection closes); a well-behaved host is still served and nothing is
 * written outside the command's LBAs.
 */
#include <string.h>
#include <unistd.h>

#include "target_hostile.h"

TestSuite(hostile_h2c, .fini = teardown, .timeout = 90);

#define SLBA 40u
#define NLB 8u

/* A Write of NLB blocks at SLBA by R2T on a new association; returns the
 * R2T's TTAG. */
static uint16_t write_r2t(struct rc *a, struct rc *io, uint16_t cid)
{
	uint8_t b[512];
	struct nvme_sqe w = { .opcode = NVME_NVM_WRITE, .cid = htole16(cid),
			      .nsid = htole32(1), .cdw10 = htole32(SLBA),
			      .cdw12 = htole32(NLB - 1) };

	assoc_up(a, io);
	send_sqe(io, &w, NULL, NLB * BS);
	raw_pdu(io, b, sizeof b);
	cr_assert_eq(b[0], NVME_TCP_R2T);
	cr_assert_eq(le32_get(b + 12), 0);
	cr_assert_eq(le32_get(b + 16), NLB * BS);
	return le16_get(b + 10);
}

static void h2c(struct rc *io, uint16_t cid, uint16_t ttag, uint32_t off,
		uint32_t len, bool last)
{
	static uint8_t data[1u << 18];
	uint8_t hdr[64];
	size_t hl = pdu_build_h2c_data(hdr, cid, ttag, off, len, last, false,
				       false, 4);

	memset(data, 0x77, len);
	rc_send(io, hdr, hl);
	rc_send(io, data, len);
}

static void done(struct rc *a)
{
	close(a->fd);
	hostile_done(SLBA, NLB);
}

Test(hostile_h2c, unknown_ttag)
{
	struct rc a, io;
	uint16_t ttag;

	hostile_start(NULL);
	ttag = write_r2t(&a, &io, 5);
	h2c(&io, 5, (uint16_t)(ttag + 1000), 0, NLB * BS, true);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_INVALID_HDR);
	done(&a);
}

Test(hostile_h2c, cccid_not_the_ttags_command)
{
	struct rc a, io;
	uint16_t ttag;

	hostile_start(NULL);
	ttag = write_r2t(&a, &io, 5);
	h2c(&io, 6, ttag, 0, NLB * BS, true);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_INVALID_HDR);
	done(&a);
}

Test(hostile_h2c, beyond_the_r2t)
{
	struct rc a, io;
	uint16_t ttag;

	hostile_start(NULL);
	ttag = write_r2t(&a, &io, 5);
	h2c(&io, 5, ttag, 0, (NLB + 1) * BS, true);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_DATA_RANGE);
	done(&a);
}

Test(hostile_h2c, beyond_the_r2t_in_the_last_pdu)
{
	struct rc a, io;
	uint16_t ttag;

	hostile_start(NULL);
	ttag = write_r2t(&a, &io, 5);
	h2c(&io, 5, ttag, 0, 4 * BS, false);
	h2c(&io, 5, ttag, 4 * BS, 8 * BS, true);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_DATA_RANGE);
	done(&a);
}

Test(hostile_h2c, out_of_order)
{
	struct rc a, io;
	uint16_t ttag;

	hostile_start(NULL);
	ttag = write_r2t(&a, &io, 5);
	h2c(&io, 5, ttag, 4 * BS, 4 * BS, true);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_DATA_RANGE);
	done(&a);
}

Test(hostile_h2c, gap)
{
	struct rc a, io;
	uint16_t ttag;

	hostile_start(NULL);
	ttag = write_r2t(&a, &io, 5);
	h2c(&io, 5, ttag, 0, 2 * BS, false);
	h2c(&io, 5, ttag, 3 * BS, 5 * BS, true);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_DATA_RANGE);
	done(&a);
}

Test(hostile_h2c, last_flag_early_or_missing)
{
	struct rc a, io;
	uint16_t ttag;

	hostile_start(NULL);
	ttag = write_r2t(&a, &io, 5);
	h2c(&io, 5, ttag, 0, 2 * BS, true);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_INVALID_HDR);
	close(a.fd);
	ttag = write_r2t(&a, &io, 5);
	h2c(&io, 5, ttag, 0, NLB * BS, false);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_INVALID_HDR);
	done(&a);
}

Test(hostile_h2c, after_the_last)
{
	struct rc a, io;
	uint16_t ttag;

	hostile_start(NULL);
	ttag = write_r2t(&a, &io, 5);
	h2c(&io, 5, ttag, 0, NLB * BS, true);
	cr_expect_eq(expect_rsp(&io, 5), 0);
	h2c(&io, 5, ttag, 0, BS, true);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_INVALID_HDR);
	done(&a);
}

Test(hostile_h2c, without_any_r2t)
{
	struct rc a, io;

	hostile_start(NULL);
	assoc_up(&a, &io);
	h2c(&io, 1, 0, 0, BS, true);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_INVALID_HDR);
	done(&a);
}

/* More than MAXH2CDATA (128 KiB by default) in one PDU. */
Test(hostile_h2c, beyond_maxh2cdata)
{
	const char *args[] = { "--mdts", "6", NULL };
	uint8_t b[512];
	struct nvme_sqe w = { .opcode = NVME_NVM_WRITE, .cid = htole16(9),
			      .nsid = htole32(1), .cdw10 = htole32(SLBA),
			      .cdw12 = htole32(63) };
	struct rc a, io;

	hostile_start(args);
	assoc_up(&a, &io);
	send_sqe(&io, &w, NULL, 64 * BS);
	raw_pdu(&io, b, sizeof b);
	cr_assert_eq(b[0], NVME_TCP_R2T);
	h2c(&io, 9, le16_get(b + 10), 0, (1u << 17) + BS, false);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_DATA_LIMIT);
	close(a.fd);
	hostile_done(SLBA, 64);
}
