/* SPDX-License-Identifier: MIT */
/*
 * A raw NVMe/TCP host for the tests of nvmeof-target: it starts the target
 * binary (tests/target_proc.c) with a fixed set of namespaces and speaks
 * NVMe/TCP to it with nothing but lib/pdu.c, asserting with Criterion.
 * Shared by tests/test_target_raw.c and tests/test_target_*.c.
 *
 * The target's namespaces: 1 ram:16M, 2 a 8 MiB file, 3 null:1G,
 * 4 ram:1M read-only; LBA size 4 KiB.
 */
#ifndef RAW_HOST_H
#define RAW_HOST_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "nvme_spec.h"
#include "pdu.h"
#include "target_proc.h"

#define NQN "nqn.2026-11.org.example:raw-test"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6b1c41a4-9f0c-4d6e-8d1b-4a7d3e2f1c00"
#define SERIAL "RAWSER0001"
#define MODEL "Raw Test Model"
#define FIRMWARE "FW1.2"
#define BS 4096u

/* ---- the target process ------------------------------------------------- */

struct raw_target {
	struct tproc t;
	int port;       /* the port the raw host connects to */
	char dir[90];
};
extern struct raw_target T;

/* The target with its namespaces, -v and up to two more arguments. */
void start_target(const char *extra1, const char *extra2);
/* The same with a NULL-terminated list of more arguments (may be NULL). */
void start_target_args(const char *const *extra);
int stop_target(void);          /* SIGTERM; the exit status (0: clean) */
void cleanup_dir(void);
void setup(void);               /* TestSuite .init: the target, no extras */
void teardown(void);            /* .fini */
void finish(void);              /* asserts a clean exit */
int port_line(int n);           /* the n-th line of the port file */
char *control(const char *cmd); /* a control command's whole answer */
void arm(const char *fault);    /* "fault ..." answered "ok" */
void write_cfg(const char *text); /* DIR/cfg, replaced whole */

/* ---- a raw NVMe/TCP host ------------------------------------------------ */

struct rc {
	int fd;
	bool hdgst, ddgst;
	uint32_t maxh2c;
	uint16_t cid;
	uint16_t cntlid;
	struct pdu_params rxp;
};

enum xfer { X_NONE, X_INCAPSULE, X_R2T, X_IN };

void rc_send(struct rc *c, const void *p, size_t len);
/* 0, or -1 if the connection closed (or 5 s passed) first */
int rc_recv(struct rc *c, void *p, size_t len);
void rc_open(struct rc *c);     /* TCP only */
/* ICReq/ICResp; the ICResp to icresp when not NULL. */
void rc_init(struct rc *c, bool hd, bool dd, uint8_t *icresp);
/* One PDU, checked; its type, or -1 if the connection closed. */
int rc_pdu(struct rc *c, uint8_t *hdr, uint8_t *data, size_t max,
	   struct pdu_info *info);
/* One command; the status field (CQE status >> 1), *res dwords 0 and 1. */
uint16_t rc_cmd(struct rc *c, struct nvme_sqe *sqe, enum xfer x, void *data,
		uint32_t len, uint64_t *res);
uint16_t rc_connect_q(struct rc *c, const char *subnqn, uint16_t qid,
		      uint16_t cntlid, uint32_t kato, uint64_t *res);
uint16_t rc_connect_host(struct rc *c, const char *subnqn,
			 const char *hostnqn, uint16_t qid, uint16_t cntlid,
			 uint32_t kato, uint64_t *res);
uint16_t prop(struct rc *c, bool set, uint32_t ofst, bool eight,
	      uint64_t *val);
void enable(struct rc *c);
/* Admin queue up and the controller enabled; returns the CNTLID. */
uint16_t admin_up(struct rc *c, const char *subnqn, bool hd, bool dd,
		  uint32_t kato);
void io_up(struct rc *io, struct rc *admin, uint16_t qid);
uint16_t rw(struct rc *c, uint8_t op, uint32_t nsid, uint64_t slba,
	    uint32_t nlb, void *buf, enum xfer x);
uint16_t identify(struct rc *c, uint8_t cns, uint32_t nsid, void *buf);
uint16_t get_log(struct rc *c, uint8_t lid, bool rae, uint64_t off,
		 void *buf, uint32_t len);
void fill(uint8_t *b, size_t n, unsigned seed);
bool all_zero(const uint8_t *b, size_t n);
/* A command sent by hand (no checks on what comes back). */
void raw_cmd(struct rc *c, uint8_t op, uint32_t nsid, uint16_t cid,
	     uint32_t len);
/* A whole PDU as it comes, unchecked; returns PLEN. */
uint32_t raw_pdu(struct rc *c, uint8_t *buf, size_t max);

#endif
