/* SPDX-License-Identifier: MIT */
/* The hostile controller breaks the PDU framing or answers a command it
 * never got, or twice: the command fails with a message naming what came,
 * the association ends, another association carries on. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile_check.h"

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

/* CapsuleResp */
IO_CASE(rsp_cid_never_issued, .mode = HP_RSP_UNKNOWN_CID,
	.want_msg = "CapsuleResp for command ID")

/* digests */
IO_CASE(header_digest_wrong, .mode = HP_BAD_HDGST, .hdgst = true,
	.ddgst = true, .want_msg = "header digest error in CapsuleResp")

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
