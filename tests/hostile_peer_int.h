/* SPDX-License-Identifier: MIT */
/* Inside the hostile peer (hostile_peer.h): its state, its PDUs and what
 * its four files call of each other.  Not for the tests. */
#ifndef HOSTILE_PEER_INT_H
#define HOSTILE_PEER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostile_peer.h"
#include "nvme_spec.h"

#define MAX_CONNS 64
#define MAX_PLEN (8u << 20)
#define PEER_MAXH2C 32768u
#define PEER_CPDA 1 /* the host pads its data to 8 bytes */

struct hconn {
	struct hp *p;
	int fd;
	pthread_t thread;
	bool hdgst, ddgst;
	uint16_t qid;
	bool discovery;
	uint16_t sqhd;
};

struct hp {
	enum hp_mode mode;
	int lfd;
	char port[16];
	pthread_t thread;
	volatile bool stop;
	pthread_mutex_t lock;
	struct hconn *conns[MAX_CONNS];
	int nconns;
	uint8_t *ram;
	uint32_t cc;
	bool fired;
	unsigned bad_reads;     /* HP_BAD_DDGST_4X: reads damaged so far */
	unsigned io_cmds;
	struct hconn *held_conn; /* HP_IO_ABORTABLE: the Read held */
	uint16_t held_cid;
	uint64_t genctr;
	uint16_t next_cntlid;
};

struct tx {
	uint8_t type, flags, hlen;
	const uint8_t *spec;    /* header bytes 8..hlen */
	const uint8_t *data;
	uint32_t dlen;
	/* damage */
	int pdo_override;       /* > 0: this PDO */
	uint32_t plen_override; /* > 0: this PLEN (nothing more is sent) */
	uint32_t hdgst_xor, ddgst_xor;
	uint32_t data_flip;     /* > 0: flip data byte data_flip - 1 after
				 * the digest is computed */
	unsigned slow_ms;       /* > 0: one byte at a time */
	uint8_t *collect;       /* != NULL: append to *collect_len, do not send */
	size_t *collect_len;
};

#define TX(...) (&(struct tx){ __VA_ARGS__ })

/* A received PDU. */
struct rx {
	uint8_t *buf;
	uint8_t type, flags, hlen, pdo;
	uint32_t plen;
	const uint8_t *data;
	uint32_t dlen;
};

/* hostile_peer.c */
void hp_msleep(unsigned ms);
bool hp_trigger(struct hp *p, bool applies);
void hp_mark(struct hp *p);

/* hostile_peer_wire.c */
int hp_rd(struct hconn *c, void *buf, size_t len);
int hp_wr(struct hconn *c, const void *buf, size_t len);
int hp_wr_slow(struct hconn *c, const void *buf, size_t len, unsigned gap_ms);
int hp_send_pdu(struct hconn *c, const struct tx *t);
void hp_data_spec(uint8_t s[16], uint16_t cid, uint16_t ttag, uint32_t off,
		  uint32_t len);
int hp_send_c2h(struct hconn *c, uint16_t cid, uint32_t off,
		const uint8_t *data, uint32_t len, uint8_t flags);
void hp_rsp_spec(struct hconn *c, uint8_t s[16], uint16_t cid,
		 uint16_t sf, uint32_t dw0, uint32_t dw1);
int hp_send_rsp(struct hconn *c, uint16_t cid, uint16_t sf, uint32_t dw0,
		uint32_t dw1);
int hp_send_r2t(struct hconn *c, uint16_t cid, uint16_t ttag, uint32_t off,
		uint32_t len);
int hp_answer_data(struct hconn *c, uint16_t cid, const uint8_t *data,
		   uint32_t len);
int hp_recv_pdu(struct hconn *c, struct rx *r);

/* hostile_peer_admin.c */
int hp_fabrics_cmd(struct hconn *c, const uint8_t *sqe, uint16_t cid,
		   const uint8_t *data, uint32_t dlen);
int hp_admin_cmd(struct hconn *c, const uint8_t *sqe, uint16_t cid);

/* hostile_peer_io.c */
int hp_io_cmd(struct hconn *c, const uint8_t *sqe, uint16_t cid,
	      const uint8_t *data, uint32_t dlen);

#endif
