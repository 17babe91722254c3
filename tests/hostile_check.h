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
 *
 * One program, a file per kind of misbehaviour: test_hostile_pdu.c (PDU
 * framing, completions, header digests), test_hostile_data.c (data transfer:
 * C2HData, R2T, data digests), test_hostile_timing.c (answers late or never,
 * keep-alive), test_hostile_connect.c (connection initialisation and
 * bring-up), test_hostile_identify.c (Identify data, the discovery log),
 * test_hostile_faults.c (nvmeof-target --fault).  The helpers they share
 * are in hostile_check.c.
 */
#ifndef NVMEOF_TESTS_HOSTILE_CHECK_H
#define NVMEOF_TESTS_HOSTILE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostile_peer.h"
#include "nvmeof.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:0c4a1e70-5d2b-4f3e-9a61-7b8c9d0e1f23"
#define HOSTID "0c4a1e70-5d2b-4f3e-9a61-7b8c9d0e1f23"
#define IO_TIMEOUT_MS 1000
#define CONNECT_TIMEOUT_MS 1500

/* CLOCK_MONOTONIC in milliseconds */
uint64_t now_ms(void);
/* options for 127.0.0.1:port (subnqn NULL: the hostile peer's), no reconnect */
void opts_for(struct nvmeof_opts *o, const char *port, const char *subnqn);
/* nvmeof_connect() that must succeed */
struct nvmeof_ctrl *connect_ok(const struct nvmeof_opts *o);
/* rc is -want_errno and the library's message holds want_msg */
void expect_error(int rc, int want_errno, const char *want_msg, const char *what);
/* the association ended ("failed"), with want_msg as its reason if not NULL */
void expect_failed(struct nvmeof_ctrl *c, const char *want_msg);
/* a byte pattern from seed */
void fill(uint8_t *b, size_t len, unsigned seed);
/* a write and read-back that must succeed on c */
void good_io(struct nvmeof_ctrl *c, unsigned seed);
/* b's peer bp misbehaves on a 4-block read that must still succeed, whole
 * and right */
void read_right_data(struct nvmeof_ctrl *b, struct hp *bp);

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

void run_io_case(const struct io_case *kc);

#define IO_CASE(name, ...)                                              \
	Test(hostile, name, .timeout = 20)                              \
	{                                                               \
		run_io_case(&(struct io_case){ __VA_ARGS__ });           \
	}

#endif
