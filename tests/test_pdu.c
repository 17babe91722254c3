/* Unit tests of the NVMe/TCP PDU codec (lib/pdu.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "pdu.h"

static const struct pdu_params plain = {
	.rx_align = 4, .max_data = 131072, .max_incapsule = 8192,
};
static const struct pdu_params digests = {
	.hdgst = true, .ddgst = true, .rx_align = 4, .max_data = 131072,
	.max_incapsule = 8192,
};

Test(pdu, icreq_roundtrip)
{
	uint8_t b[128];
	struct pdu_info info;
	struct pdu_error e;

	cr_assert_eq(pdu_build_icreq(b, 0, true, false, 3), 128);
	cr_assert_eq(b[0], NVME_TCP_ICREQ);
	cr_assert_eq(b[2], 128);
	cr_assert_eq(le32_get(b + 4), 128);
	cr_assert_eq(b[11], NVME_TCP_HDGST_ENABLE);
	cr_assert_eq(le32_get(b + 12), 3);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_HOST, NULL, &info, &e), 0);
	cr_assert_eq(pdu_check_icreq(b, &e), 0);
	/* The host must not accept an ICReq, only an ICResp. */
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, NULL, &info, &e), -EPROTO);
}

Test(pdu, icresp_checks)
{
	uint8_t b[128];
	struct pdu_error e;

	pdu_build_icresp(b, 0, false, false, 4096);
	cr_assert_eq(pdu_check_icresp(b, &e), 0);
	le16_put(b + 8, 1);
	cr_assert_eq(pdu_check_icresp(b, &e), -EPROTO);
	cr_assert(strstr(e.msg, "version"), "%s", e.msg);
	pdu_build_icresp(b, 32, false, false, 4096);
	cr_assert_eq(pdu_check_icresp(b, &e), -EPROTO);
	cr_assert(strstr(e.msg, "CPDA"), "%s", e.msg);
	pdu_build_icresp(b, 0, false, false, 4092);
	cr_assert_eq(pdu_check_icresp(b, &e), -EPROTO);
	cr_assert(strstr(e.msg, "MAXH2CDATA"), "%s", e.msg);
}

Test(pdu, cmd_with_incapsule_data_and_digests)
{
	uint8_t b[PDU_MAX_TX_HDR];
	struct nvme_sqe sqe = { .opcode = 0x01 };
	struct pdu_info info;
	struct pdu_error e;
	size_t n = pdu_build_cmd(b, &sqe, 4096, true, true, 4);

	/* 72 header + 4 digest = 76, already 4-aligned: data starts there. */
	cr_assert_eq(n, 76);
	cr_assert_eq(b[3], 76);
	cr_assert_eq(le32_get(b + 4), 76 + 4096 + 4);
	cr_assert_eq(b[1], NVME_TCP_F_HDGST | NVME_TCP_F_DDGST);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_HOST, &digests, &info, &e), 0,
		     "%s", e.msg);
	cr_assert_eq(info.data_len, 4096);
	cr_assert_eq(info.hdr_len, 76);
	cr_assert(pdu_hdgst_ok(b, &info));
	b[20] ^= 1; /* corrupt the SQE */
	cr_assert_not(pdu_hdgst_ok(b, &info));
}

Test(pdu, cpda_padding)
{
	uint8_t b[PDU_MAX_TX_HDR];
	struct pdu_params p = plain;
	struct pdu_info info;
	struct pdu_error e;
	size_t n;

	/* CPDA 31 → 128-byte alignment: PDO 128, zero padding after 72. */
	memset(b, 0xee, sizeof b);
	n = pdu_build_h2c_data(b, 5, 7, 0, 100, true, false, false, 128);
	cr_assert_eq(n, 128);
	cr_assert_eq(b[3], 128);
	for (unsigned i = 24; i < 128; i++)
		cr_assert_eq(b[i], 0, "padding byte %u", i);
	p.rx_align = 128;
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_HOST, &p, &info, &e), 0, "%s",
		     e.msg);
	cr_assert_eq(info.pad_len, 104);
	cr_assert_eq(info.data_len, 100);
	/* The same PDU is misaligned for a receiver that wants 256. */
	p.rx_align = 256;
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_HOST, &p, &info, &e), -EPROTO);
}

Test(pdu, c2h_data_fields)
{
	uint8_t b[PDU_MAX_TX_HDR];
	struct pdu_info info;
	struct pdu_error e;

	pdu_build_c2h_data(b, 0x1234, 8192, 4096, true, true, false, false, 4);
	cr_assert_eq(le16_get(b + 8), 0x1234);
	cr_assert_eq(le32_get(b + 12), 8192);
	cr_assert_eq(le32_get(b + 16), 4096);
	cr_assert_eq(b[1], NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), 0);
	cr_assert_eq(info.data_len, 4096);
}

Test(pdu, rejects_wrong_hlen)
{
	uint8_t b[PDU_MAX_TX_HDR];
	struct nvme_cqe cqe = { 0 };
	struct pdu_info info;
	struct pdu_error e;

	pdu_build_rsp(b, &cqe, false);
	b[2] = 28;
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), -EPROTO);
	cr_assert_eq(e.fes, NVME_TCP_FES_INVALID_HDR);
	cr_assert_eq(e.fei, 2);
	cr_assert(strstr(e.msg, "HLEN"), "%s", e.msg);
}

Test(pdu, rejects_wrong_plen_on_response)
{
	uint8_t b[PDU_MAX_TX_HDR];
	struct nvme_cqe cqe = { 0 };
	struct pdu_info info;
	struct pdu_error e;

	pdu_build_rsp(b, &cqe, false);
	le32_put(b + 4, 1 << 20);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), -EPROTO);
	cr_assert(strstr(e.msg, "PLEN"), "%s", e.msg);
}

Test(pdu, rejects_bad_pdo)
{
	uint8_t b[PDU_MAX_TX_HDR];
	struct pdu_info info;
	struct pdu_error e;

	pdu_build_c2h_data(b, 1, 0, 512, true, false, false, false, 4);
	b[3] = 8; /* data would start inside the header */
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), -EPROTO);
	cr_assert(strstr(e.msg, "PDO"), "%s", e.msg);
	b[3] = 26; /* not 4-aligned */
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), -EPROTO);
}

Test(pdu, rejects_data_beyond_maximum)
{
	uint8_t b[PDU_MAX_TX_HDR];
	struct pdu_params p = plain;
	struct pdu_info info;
	struct pdu_error e;

	pdu_build_c2h_data(b, 1, 0, 65536, true, false, false, false, 4);
	p.max_data = 65535;
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &p, &info, &e), -EPROTO);
	cr_assert_eq(e.fes, NVME_TCP_FES_DATA_LIMIT);
	/* A PLEN that leaves no room for data at all. */
	pdu_build_c2h_data(b, 1, 0, 4, true, false, false, false, 4);
	le32_put(b + 4, 24);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), -EPROTO);
}

Test(pdu, rejects_unknown_and_misdirected_types)
{
	uint8_t b[32] = { 0x08, 0, 24, 0 };
	struct pdu_info info;
	struct pdu_error e;

	le32_put(b + 4, 24);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), -EPROTO);
	cr_assert(strstr(e.msg, "unknown"), "%s", e.msg);
	b[0] = NVME_TCP_R2T; /* only a controller sends R2T */
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_HOST, &plain, &info, &e), -EPROTO);
	b[0] = NVME_TCP_ICRESP; /* not after initialisation */
	b[2] = 128;
	le32_put(b + 4, 128);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), -EPROTO);
	cr_assert_eq(e.fes, NVME_TCP_FES_PDU_SEQ);
}

Test(pdu, digest_flags_must_match_negotiation)
{
	uint8_t b[PDU_MAX_TX_HDR];
	struct nvme_cqe cqe = { 0 };
	struct pdu_info info;
	struct pdu_error e;

	pdu_build_rsp(b, &cqe, false);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &digests, &info, &e), -EPROTO);
	cr_assert(strstr(e.msg, "digest"), "%s", e.msg);
	pdu_build_rsp(b, &cqe, true);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), -EPROTO);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &digests, &info, &e), 0);
	cr_assert(pdu_hdgst_ok(b, &info));
	b[8] ^= 0x80;
	cr_assert_not(pdu_hdgst_ok(b, &info));
	/* Data without its digest flag when data digests are on. */
	pdu_build_c2h_data(b, 1, 0, 64, true, false, true, false, 4);
	le32_put(b + 4, le32_get(b + 4) + 4);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &digests, &info, &e), -EPROTO);
}

Test(pdu, term_req)
{
	uint8_t bad[200], b[NVME_TCP_TERM_MAX_PLEN];
	struct pdu_info info;
	struct pdu_error e;
	size_t n;

	memset(bad, 0xab, sizeof bad);
	n = pdu_build_term(b, NVME_TCP_C2H_TERM, NVME_TCP_FES_HDR_DIGEST, 0,
			   bad, sizeof bad);
	cr_assert_eq(n, NVME_TCP_TERM_MAX_PLEN, "offending header is capped");
	cr_assert_eq(le16_get(b + 8), NVME_TCP_FES_HDR_DIGEST);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), 0);
	cr_assert_eq(info.data_len, 128);
	le32_put(b + 4, 153);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), -EPROTO);
	le32_put(b + 4, 23);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, &plain, &info, &e), -EPROTO);
}

Test(pdu, nothing_but_ic_before_initialisation)
{
	uint8_t b[PDU_MAX_TX_HDR];
	struct nvme_cqe cqe = { 0 };
	struct pdu_info info;
	struct pdu_error e;

	pdu_build_rsp(b, &cqe, false);
	cr_assert_eq(pdu_validate_hdr(b, PDU_FROM_CTRL, NULL, &info, &e), -EPROTO);
	cr_assert_eq(e.fes, NVME_TCP_FES_PDU_SEQ);
}

Test(pdu, r2t_layout)
{
	uint8_t b[64];

	cr_assert_eq(pdu_build_r2t(b, 9, 0x55, 4096, 8192, true), 28);
	cr_assert_eq(b[0], NVME_TCP_R2T);
	cr_assert_eq(b[1], NVME_TCP_F_HDGST);
	cr_assert_eq(b[3], 0, "PDO is 0 for a PDU without data");
	cr_assert_eq(le16_get(b + 10), 0x55);
	cr_assert_eq(le32_get(b + 12), 4096);
	cr_assert_eq(le32_get(b + 16), 8192);
	cr_assert_eq(le32_get(b + 24), crc32c(0, b, 24));
}

/* How much a receiver reads at a time: all the room it has, except while
 * the payloads are large, when a fill takes what is wanted or 512 bytes. */
Test(pdu, rx_hint_reads_little_while_payloads_are_large)
{
	struct rx_hint h = { 0 };
	int i;

	cr_assert_eq(rx_hint_fill(&h, 65536, 8), 65536, "small PDUs: fill it all");
	rx_hint_saw(&h, 4096);
	cr_assert_eq(rx_hint_fill(&h, 65536, 8), 65536);
	rx_hint_saw(&h, 131072);
	cr_assert_eq(rx_hint_fill(&h, 65536, 8), RX_HINT_SMALL_FILL,
		     "a header after a large payload");
	cr_assert_eq(rx_hint_fill(&h, 65536, 3000), 3000, "the rest of a payload");
	cr_assert_eq(rx_hint_fill(&h, 100, 8), 100, "never more than the room");
	/* Responses alone keep it, for a while. */
	for (i = 0; i < RX_HINT_DECAY - 1; i++)
		rx_hint_saw(&h, 0);
	cr_assert_eq(rx_hint_fill(&h, 65536, 8), RX_HINT_SMALL_FILL);
	rx_hint_saw(&h, 0);
	cr_assert_eq(rx_hint_fill(&h, 65536, 8), 65536, "%d PDUs without data end it",
		     RX_HINT_DECAY);
	/* A small payload ends it at once. */
	rx_hint_saw(&h, RX_HINT_LARGE);
	cr_assert_eq(rx_hint_fill(&h, 65536, 8), RX_HINT_SMALL_FILL);
	rx_hint_saw(&h, RX_HINT_LARGE - 1);
	cr_assert_eq(rx_hint_fill(&h, 65536, 8), 65536);
}
