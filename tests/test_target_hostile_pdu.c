/* SPDX-License-Identifier: MIT */
/*
 * Hostile hosts, transport level: ICReq fields and sizes, no ICReq at all,
 * CapsuleCmd framing (HLEN, PLEN, PDO), in-capsule data beyond IOCCSZ.
 * Each case: the target's answer on the wire, a well-behaved host still
 * served, the guard pattern intact (tests/target_hostile.h).
 */
#include <string.h>
#include <unistd.h>

#include "target_hostile.h"

TestSuite(hostile_pdu, .fini = teardown, .timeout = 90);

/* An ICReq as bytes: 128 bytes, fields patched by the caller. */
static void icreq(uint8_t *b, uint16_t pfv, uint8_t hpda, uint8_t dgst,
		  uint32_t maxr2t)
{
	pdu_build_icreq(b, hpda, false, false, maxr2t);
	le16_put(b + 8, pfv);
	b[10] = hpda;
	b[11] = dgst;
	le32_put(b + 12, maxr2t);
}

static void icreq_refused(uint16_t pfv, uint8_t hpda, uint8_t dgst,
			  uint8_t hlen, uint32_t plen, uint16_t fes)
{
	uint8_t b[256];
	struct rc c;

	hostile_start(NULL);
	rc_open(&c);
	memset(b, 0, sizeof b);
	icreq(b, pfv, hpda, dgst, 0);
	b[2] = hlen;
	le32_put(b + 4, plen);
	rc_send(&c, b, plen <= sizeof b ? plen : 128);
	cr_expect_eq(expect_term(&c), fes);
	hostile_done(0, 0);
}

Test(hostile_pdu, icreq_bad_pfv)
{
	icreq_refused(1, 0, 0, 128, 128, NVME_TCP_FES_UNSUPPORTED);
}

Test(hostile_pdu, icreq_bad_hpda)
{
	icreq_refused(0, 32, 0, 128, 128, NVME_TCP_FES_INVALID_HDR);
}

Test(hostile_pdu, icreq_bad_digest_bits)
{
	icreq_refused(0, 0, 0x84, 128, 128, NVME_TCP_FES_INVALID_HDR);
}

Test(hostile_pdu, icreq_short)
{
	icreq_refused(0, 0, 0, 128, 64, NVME_TCP_FES_INVALID_HDR);
}

Test(hostile_pdu, icreq_long)
{
	icreq_refused(0, 0, 0, 128, 256, NVME_TCP_FES_INVALID_HDR);
}

Test(hostile_pdu, icreq_bad_hlen)
{
	icreq_refused(0, 0, 0, 64, 128, NVME_TCP_FES_INVALID_HDR);
}

/* MAXR2T is how many R2Ts the host takes: any value is fine for a target
 * that sends one per command. */
Test(hostile_pdu, icreq_any_maxr2t)
{
	uint8_t b[128];
	struct rc c;

	hostile_start(NULL);
	rc_open(&c);
	icreq(b, 0, 0, 0, 0xffffffffu);
	rc_send(&c, b, sizeof b);
	cr_assert_eq(rc_recv(&c, b, sizeof b), 0);
	cr_expect_eq(b[0], NVME_TCP_ICRESP);
	close(c.fd);
	hostile_done(0, 0);
}

/* A cut ICReq and then silence, or nothing at all: the connection is
 * closed after --login-timeout; so is one that never sends Connect. */
Test(hostile_pdu, no_icreq_times_out)
{
	const char *args[] = { "--login-timeout", "1", NULL };
	struct rc silent, cut, noconn;
	uint8_t b[128];

	hostile_start(args);
	rc_open(&silent);
	rc_open(&cut);
	icreq(b, 0, 0, 0, 0);
	rc_send(&cut, b, 60);
	rc_init(&noconn, false, false, NULL);
	expect_closed(&silent);
	expect_closed(&cut);
	expect_closed(&noconn);
	hostile_done(0, 0);
}

Test(hostile_pdu, second_icreq)
{
	struct rc c;
	uint8_t b[128];

	hostile_start(NULL);
	rc_init(&c, false, false, NULL);
	icreq(b, 0, 0, 0, 0);
	rc_send(&c, b, sizeof b);
	cr_expect_eq(expect_term(&c), NVME_TCP_FES_PDU_SEQ);
	hostile_done(0, 0);
}

/* A Read capsule, its header bytes patched. */
static void capsule_refused(int field, uint32_t v, uint16_t fes)
{
	uint8_t hdr[PDU_MAX_TX_HDR + 64];
	struct nvme_sqe sqe = { .opcode = NVME_NVM_READ, .cid = 5,
				.nsid = htole32(1) };
	struct rc a, io;
	size_t hl;

	hostile_start(NULL);
	assoc_up(&a, &io);
	hl = capsule(&io, hdr, &sqe, 0);
	if (field == 2)
		hdr[2] = (uint8_t)v;
	else if (field == 3)
		hdr[3] = (uint8_t)v;
	else
		le32_put(hdr + 4, v);
	rc_send(&io, hdr, hl);
	cr_expect_eq(expect_term(&io), fes);
	close(a.fd);
	hostile_done(0, 0);
}

Test(hostile_pdu, capsule_bad_hlen)
{
	capsule_refused(2, 0x40, NVME_TCP_FES_INVALID_HDR);
}

Test(hostile_pdu, capsule_plen_below_hlen)
{
	capsule_refused(4, 8, NVME_TCP_FES_INVALID_HDR);
}

Test(hostile_pdu, capsule_bad_pdo)
{
	/* data promised (PLEN > HLEN) at an offset inside the header */
	uint8_t hdr[PDU_MAX_TX_HDR + 64], data[64] = { 0 };
	struct nvme_sqe sqe = { .opcode = NVME_NVM_WRITE, .cid = 5,
				.nsid = htole32(1) };
	struct rc a, io;
	size_t hl;

	hostile_start(NULL);
	assoc_up(&a, &io);
	hl = capsule(&io, hdr, &sqe, sizeof data);
	hdr[3] = 8;
	rc_send(&io, hdr, hl);
	rc_send(&io, data, sizeof data);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_INVALID_HDR);
	close(a.fd);
	hostile_done(0, 0);
}

Test(hostile_pdu, capsule_huge_plen)
{
	/* no data: PDO 0, inside the header */
	capsule_refused(4, 0xfffffff0u, NVME_TCP_FES_INVALID_HDR);
}

/* In-capsule data beyond IOCCSZ (8 KiB on I/O queues by default): the
 * header says 8 KiB + 16 bytes follow; the target must not take them. */
Test(hostile_pdu, incapsule_beyond_ioccsz)
{
	static uint8_t data[8192 + 16];
	uint8_t hdr[PDU_MAX_TX_HDR];
	struct nvme_sqe sqe = { .opcode = NVME_NVM_WRITE, .cid = 9,
				.nsid = htole32(1) };
	struct rc a, io;
	size_t hl;

	hostile_start(NULL);
	assoc_up(&a, &io);
	memset(data, 0xee, sizeof data);
	sqe.cdw10 = htole32(16);
	sqe.cdw12 = htole32(1); /* 2 blocks: 8 KiB; the rest overflows */
	hl = capsule(&io, hdr, &sqe, sizeof data);
	rc_send(&io, hdr, hl);
	rc_send(&io, data, sizeof data);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_DATA_LIMIT);
	close(a.fd);
	hostile_done(0, 0); /* nothing written at all */
}

/* Unknown PDU types from a host. */
Test(hostile_pdu, controller_pdu_types_from_the_host)
{
	uint8_t b[24] = { NVME_TCP_C2H_DATA, 0, 24, 0, 24, 0, 0, 0 };
	struct rc a, io;

	hostile_start(NULL);
	assoc_up(&a, &io);
	rc_send(&io, b, sizeof b);
	cr_expect_eq(expect_term(&io), NVME_TCP_FES_INVALID_HDR);
	close(a.fd);
	hostile_done(0, 0);
}
