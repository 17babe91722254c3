/* SPDX-License-Identifier: MIT */
/* The hostile controller moves data wrongly: C2HData for the wrong
 * command, place or length, R2Ts that ask for what the write does not
 * hold, data digests that do not match. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile_check.h"

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

/* A read damaged on every try: sent three more times, then EIO. */
IO_CASE(data_digest_wrong_every_try, .mode = HP_BAD_DDGST_4X, .hdgst = true,
	.ddgst = true, .survives = true,
	.want_msg = "data digest error in C2HData")

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
