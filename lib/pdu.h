/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP PDU encode / validate / decode (NVMe/TCP Transport 1.0 §3.6).
 * Pure functions on bytes: no sockets, no allocation.  Shared by the host
 * library and nvmeof-target.
 */
#ifndef NVMEOF_PDU_H
#define NVMEOF_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme_spec.h"

/* Largest header section of any PDU we receive into one buffer: ICReq/ICResp
 * (128) + digest, or a TermReq whole, with the up to 128 bytes of the
 * offending PDU it carries (152: NVMe/TCP 1.0 §3.6.2.4). */
#define PDU_MAX_HDR \
	(NVME_TCP_TERM_MAX_PLEN > 128 + NVME_TCP_DIGEST_LEN ? \
		 NVME_TCP_TERM_MAX_PLEN : 128 + NVME_TCP_DIGEST_LEN)
/* The longest header we send before data: CapsuleCmd + HDGST + CPDA padding. */
#define PDU_MAX_TX_HDR 256

/* Who sends the PDU being validated. */
enum pdu_dir {
	PDU_FROM_CTRL, /* the host validates what a controller sends */
	PDU_FROM_HOST, /* the controller validates what a host sends */
};

/* What one side negotiated for a connection (ICReq/ICResp). */
struct pdu_params {
	bool hdgst;          /* header digests on */
	bool ddgst;          /* data digests on */
	uint32_t rx_align;   /* data alignment the receiver asked for (bytes, ≥ 4):
			      * HPDA for C2H data, CPDA for H2C data */
	uint32_t max_data;   /* largest data in one received PDU */
	uint32_t max_incapsule; /* CapsuleCmd data limit (controller side) */
};

/* A validated header: where everything is within the PDU. */
struct pdu_info {
	uint8_t type;
	uint8_t flags;
	uint8_t hlen;
	uint8_t pdo;
	uint32_t plen;
	uint32_t hdr_len;   /* hlen + header digest */
	uint32_t pad_len;   /* bytes between header digest and data */
	uint32_t data_len;  /* 0 if the PDU carries no data */
	uint32_t ddgst_len; /* 0 or 4 */
};

/* A validation failure: the Fatal Error Status and Fatal Error Information
 * to put in a TermReq (§3.6.2.7), and a message. */
struct pdu_error {
	uint16_t fes;
	uint32_t fei;
	char msg[160];
};

/*
 * Validate the 8-byte common header hdr of a PDU received in direction dir
 * on a connection with params p (NULL before ICReq/ICResp).  On success fill
 * *info and return 0; on failure fill *err and return -EPROTO.  Only the
 * common header is looked at; type-specific fields are checked with
 * pdu_check_* once the whole header section has arrived.
 */
int pdu_validate_hdr(const void *hdr, enum pdu_dir dir,
		     const struct pdu_params *p, struct pdu_info *info,
		     struct pdu_error *err);

/* Check the header digest of a received header section (hdr_len bytes). */
bool pdu_hdgst_ok(const void *hdr_section, const struct pdu_info *info);

/* Type-specific checks once the header section is in. */
int pdu_check_icreq(const void *hdr, struct pdu_error *err);
int pdu_check_icresp(const void *hdr, struct pdu_error *err);

/* ---- building PDUs: each returns the header-section length written to buf
 * (header, header digest, padding up to the data), and sets plen for the
 * data length given; the caller sends data and then its digest. ---------- */

size_t pdu_build_icreq(void *buf, uint8_t hpda, bool hdgst, bool ddgst,
		       uint32_t maxr2t);
size_t pdu_build_icresp(void *buf, uint8_t cpda, bool hdgst, bool ddgst,
			uint32_t maxh2cdata);

/* tx_align: the data alignment the peer asked for (CPDA for the host sending,
 * HPDA for the controller sending), in bytes, ≥ 4. */
size_t pdu_build_cmd(void *buf, const struct nvme_sqe *sqe, uint32_t data_len,
		     bool hdgst, bool ddgst, uint32_t tx_align);
size_t pdu_build_rsp(void *buf, const struct nvme_cqe *cqe, bool hdgst);
size_t pdu_build_h2c_data(void *buf, uint16_t cccid, uint16_t ttag,
			  uint32_t datao, uint32_t datal, bool last, bool hdgst,
			  bool ddgst, uint32_t tx_align);
size_t pdu_build_c2h_data(void *buf, uint16_t cccid, uint32_t datao,
			  uint32_t datal, bool last, bool success, bool hdgst,
			  bool ddgst, uint32_t tx_align);
size_t pdu_build_r2t(void *buf, uint16_t cccid, uint16_t ttag, uint32_t r2to,
		     uint32_t r2tl, bool hdgst);
/* TermReq (type NVME_TCP_H2C_TERM or NVME_TCP_C2H_TERM) carrying up to
 * 128 bytes of the offending header; returns the whole PDU length. */
size_t pdu_build_term(void *buf, uint8_t type, uint16_t fes, uint32_t fei,
		      const void *bad_hdr, size_t bad_len);

/* Data digest of an iovec-like run of buffers, chained. */
uint32_t pdu_ddgst(uint32_t crc, const void *data, size_t len);
static inline void pdu_put_digest(void *p, uint32_t crc)
{
	le32_put(p, crc);
}

/* How much a receiver reads at a time into its staging buffer.  A PDU's
 * header is read with as much of the stream as fits, so that a burst of
 * small PDUs takes one recv(); but when the next PDU carries a large
 * payload, that recv() takes a part of it (up to the buffer's size) into
 * the staging buffer, from where it is copied a second time.  So while the
 * PDUs carry large payloads (RX_HINT_LARGE or more), a fill reads no more
 * than is wanted or RX_HINT_SMALL_FILL bytes, and the rest of a payload
 * goes straight to its destination.  A small payload, or RX_HINT_DECAY
 * PDUs without a payload in a row, end that. */
#define RX_HINT_LARGE (16 * 1024)
#define RX_HINT_SMALL_FILL 512
#define RX_HINT_DECAY 32
struct rx_hint {
	bool large;
	uint32_t without_data; /* PDUs without a payload since the last large one */
};
/* A PDU's header is in: data_len is its payload (0: none). */
void rx_hint_saw(struct rx_hint *h, uint32_t data_len);
/* How many bytes to read now, for want bytes, with room in the buffer. */
size_t rx_hint_fill(const struct rx_hint *h, size_t room, size_t want);

/* Name of a PDU type for messages ("C2HData"), or "unknown (0x..)". */
const char *pdu_type_name(uint8_t type);
/* Name of a Fatal Error Status for messages. */
const char *pdu_fes_name(uint16_t fes);

#endif
