/* SPDX-License-Identifier: MIT */
/*
 * The hostile-host suite of nvmeof-target (tests/test_target_hostile_*.c):
 * each case does one wrong thing on a raw connection and checks three
 * things: the target's answer on the wire, that a well-behaved host is
 * still served on another connection, and that nothing was written
 * outside the command's LBA range (a guard pattern in RAM namespace 1).
 */
#ifndef TARGET_HOSTILE_H
#define TARGET_HOSTILE_H

#include "raw_host.h"

#define NS1_BLOCKS 4096u        /* ram:16M */
#define GUARD_LO 128u           /* blocks 0..127 carry the guard */
#define GUARD_HI (NS1_BLOCKS - 32u) /* and 4064..4095 */

/* Start the target (more arguments: NULL-terminated, may be NULL) and
 * write the guard pattern. */
void hostile_start(const char *const *extra);
/* The guard pattern is intact except in [slba, slba + nlb). */
void guard_check(uint64_t slba, uint64_t nlb);
/* A new, well-behaved association writes and reads back a block. */
void served(void);
/* Everything: served(), guard_check(slba, nlb), a clean exit. */
void hostile_done(uint64_t slba, uint64_t nlb);

/* The next PDU is a C2HTermReq and then the connection closes; its FES. */
uint16_t expect_term(struct rc *c);
/* The connection closes (EOF) within 30 s, nothing sent before. */
void expect_closed(struct rc *c);
/* The next PDU is a CapsuleResp for cid; its status field. */
uint16_t expect_rsp(struct rc *c, uint16_t cid);

/* A command header with in-capsule data of len bytes (not sent yet). */
size_t capsule(struct rc *c, uint8_t *hdr, struct nvme_sqe *sqe,
	       uint32_t len);
/* A command sent raw: SGL transport of len bytes (in) or in-capsule data
 * out (data != NULL); no checks on what comes back. */
void send_sqe(struct rc *c, struct nvme_sqe *sqe, const void *data,
	      uint32_t len);
/* Read PDUs until the CapsuleResp of cid: C2HData must stay within
 * [0, max); returns the status field, *got the bytes of data received. */
uint16_t collect(struct rc *c, uint16_t cid, uint32_t max, uint32_t *got);

/* An I/O queue of a new association on a (admin) and io (qid 1). */
void assoc_up(struct rc *a, struct rc *io);

#define ST(sct, sc) NVME_SF((sct), (sc))
#define DNR_ NVME_SF_DNR_BIT

#endif
