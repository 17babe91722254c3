/* SPDX-License-Identifier: MIT */
/* The hostile controller breaks connection initialisation (ICResp) or the
 * bring-up (Connect, CSTS.RDY, Identify). */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile_check.h"

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
