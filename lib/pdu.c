/* SPDX-License-Identifier: MIT */
/* NVMe/TCP PDU encode / validate / decode: pure functions on bytes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "pdu.h"

const char *pdu_type_name(uint8_t type)
{
	static __thread char buf[24];

	switch (type) {
	case NVME_TCP_ICREQ: return "ICReq";
	case NVME_TCP_ICRESP: return "ICResp";
	case NVME_TCP_H2C_TERM: return "H2CTermReq";
	case NVME_TCP_C2H_TERM: return "C2HTermReq";
	case NVME_TCP_CMD: return "CapsuleCmd";
	case NVME_TCP_RSP: return "CapsuleResp";
	case NVME_TCP_H2C_DATA: return "H2CData";
	case NVME_TCP_C2H_DATA: return "C2HData";
	case NVME_TCP_R2T: return "R2T";
	}
	snprintf(buf, sizeof buf, "unknown (0x%02x)", type);
	return buf;
}

const char *pdu_fes_name(uint16_t fes)
{
	switch (fes) {
	case NVME_TCP_FES_INVALID_HDR: return "invalid PDU header field";
	case NVME_TCP_FES_PDU_SEQ: return "PDU sequence error";
	case NVME_TCP_FES_HDR_DIGEST: return "header digest error";
	case NVME_TCP_FES_DATA_RANGE: return "data transfer out of range";
	case NVME_TCP_FES_DATA_LIMIT: return "data transfer or R2T limit exceeded";
	case NVME_TCP_FES_UNSUPPORTED: return "unsupported parameter";
	}
	return "unknown fatal error status";
}

static int fail(struct pdu_error *err, uint16_t fes, uint32_t fei,
		const char *fmt, ...) NVMEOF_PRINTF(4, 5);
static int fail(struct pdu_error *err, uint16_t fes, uint32_t fei,
		const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->fes = fes;
		err->fei = fei;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

/* Which PDU types each side may send, and their fixed header length. */
static int expected_hlen(uint8_t type, enum pdu_dir dir)
{
	switch (type) {
	case NVME_TCP_ICREQ:
		return dir == PDU_FROM_HOST ? NVME_TCP_IC_HLEN : -1;
	case NVME_TCP_ICRESP:
		return dir == PDU_FROM_CTRL ? NVME_TCP_IC_HLEN : -1;
	case NVME_TCP_H2C_TERM:
		return dir == PDU_FROM_HOST ? NVME_TCP_TERM_HLEN : -1;
	case NVME_TCP_C2H_TERM:
		return dir == PDU_FROM_CTRL ? NVME_TCP_TERM_HLEN : -1;
	case NVME_TCP_CMD:
		return dir == PDU_FROM_HOST ? NVME_TCP_CMD_HLEN : -1;
	case NVME_TCP_H2C_DATA:
		return dir == PDU_FROM_HOST ? NVME_TCP_DATA_HLEN : -1;
	case NVME_TCP_RSP:
		return dir == PDU_FROM_CTRL ? NVME_TCP_RSP_HLEN : -1;
	case NVME_TCP_C2H_DATA:
		return dir == PDU_FROM_CTRL ? NVME_TCP_DATA_HLEN : -1;
	case NVME_TCP_R2T:
		return dir == PDU_FROM_CTRL ? NVME_TCP_R2T_HLEN : -1;
	}
	return -1;
}

int pdu_validate_hdr(const void *hdr, enum pdu_dir dir,
		     const struct pdu_params *p, struct pdu_info *info,
		     struct pdu_error *err)
{
	const uint8_t *h = hdr;
	uint8_t type = h[0], flags = h[1], hlen = h[2], pdo = h[3];
	uint32_t plen = le32_get(h + 4);
	int want = expected_hlen(type, dir);
	const char *name = pdu_type_name(type);
	bool term = type == NVME_TCP_H2C_TERM || type == NVME_TCP_C2H_TERM;
	bool ic = type == NVME_TCP_ICREQ || type == NVME_TCP_ICRESP;
	bool data_type = type == NVME_TCP_CMD || type == NVME_TCP_H2C_DATA ||
			 type == NVME_TCP_C2H_DATA;
	uint32_t hdgst_len, ddgst_len, align, max_data;

	memset(info, 0, sizeof *info);
	if (want < 0)
		return fail(err, NVME_TCP_FES_INVALID_HDR, 0,
			    "PDU type %s is not valid from the %s", name,
			    dir == PDU_FROM_CTRL ? "controller" : "host");
	/* §3.6.2.1: nothing but ICReq/ICResp (or a TermReq) before they
	 * are exchanged, and never again after. */
	if (!p && !ic && !term)
		return fail(err, NVME_TCP_FES_PDU_SEQ, 0,
			    "%s before connection initialization", name);
	if (p && ic)
		return fail(err, NVME_TCP_FES_PDU_SEQ, 0,
			    "%s after connection initialization", name);
	if (hlen != want)
		return fail(err, NVME_TCP_FES_INVALID_HDR, 2,
			    "%s with HLEN %u, expected %d", name, hlen, want);

	info->type = type;
	info->flags = flags;
	info->hlen = hlen;
	info->pdo = pdo;
	info->plen = plen;

	if (ic) {
		if (plen != NVME_TCP_IC_HLEN)
			return fail(err, NVME_TCP_FES_INVALID_HDR, 4,
				    "%s with PLEN %u, expected 128", name, plen);
		info->hdr_len = NVME_TCP_IC_HLEN;
		return 0;
	}
	if (term) {
		/* §3.6.2.4: no digests; data is the offending header. */
		if (plen < NVME_TCP_TERM_MIN_PLEN ||
		    plen > NVME_TCP_TERM_MAX_PLEN)
			return fail(err, NVME_TCP_FES_INVALID_HDR, 4,
				    "%s with PLEN %u outside 24..152", name,
				    plen);
		info->hdr_len = hlen;
		info->data_len = plen - hlen;
		return 0;
	}

	/* From here on p is set. */
	hdgst_len = p->hdgst ? NVME_TCP_DIGEST_LEN : 0;
	if (!!(flags & NVME_TCP_F_HDGST) != p->hdgst)
		return fail(err, NVME_TCP_FES_INVALID_HDR, 1,
			    "%s header digest flag %s, but header digests were %s",
			    name, (flags & NVME_TCP_F_HDGST) ? "set" : "clear",
			    p->hdgst ? "negotiated" : "not negotiated");
	if ((flags & NVME_TCP_F_DDGST) && !p->ddgst)
		return fail(err, NVME_TCP_FES_INVALID_HDR, 1,
			    "%s data digest flag set, but data digests were not negotiated",
			    name);
	info->hdr_len = hlen + hdgst_len;

	if (!data_type || (type == NVME_TCP_CMD && plen == info->hdr_len)) {
		/* A PDU without data: exactly its header. */
		if (plen != info->hdr_len)
			return fail(err, NVME_TCP_FES_INVALID_HDR, 4,
				    "%s with PLEN %u, expected %u", name, plen,
				    info->hdr_len);
		if (flags & NVME_TCP_F_DDGST)
			return fail(err, NVME_TCP_FES_INVALID_HDR, 1,
				    "%s without data has the data digest flag",
				    name);
		return 0;
	}

	/* A PDU with data: header, digest, padding to PDO, data, digest. */
	ddgst_len = p->ddgst ? NVME_TCP_DIGEST_LEN : 0;
	if (p->ddgst && !(flags & NVME_TCP_F_DDGST))
		return fail(err, NVME_TCP_FES_INVALID_HDR, 1,
			    "%s with data lacks the data digest flag", name);
	align = p->rx_align ? p->rx_align : 4;
	if (pdo < info->hdr_len || pdo % align)
		return fail(err, NVME_TCP_FES_INVALID_HDR, 3,
			    "%s with PDO %u (header section %u, alignment %u)",
			    name, pdo, info->hdr_len, align);
	if ((uint64_t)plen < (uint64_t)pdo + ddgst_len + 1)
		return fail(err, NVME_TCP_FES_INVALID_HDR, 4,
			    "%s with PLEN %u leaves no data after PDO %u",
			    name, plen, pdo);
	info->pad_len = pdo - info->hdr_len;
	info->data_len = plen - pdo - ddgst_len;
	info->ddgst_len = ddgst_len;
	max_data = type == NVME_TCP_CMD ? p->max_incapsule : p->max_data;
	if (info->data_len > max_data)
		return fail(err, NVME_TCP_FES_DATA_LIMIT, 4,
			    "%s carries %u bytes of data, more than the %u negotiated",
			    name, info->data_len, max_data);
	return 0;
}

bool pdu_hdgst_ok(const void *hdr_section, const struct pdu_info *info)
{
	const uint8_t *h = hdr_section;

	if (info->hdr_len == info->hlen)
		return true;
	return crc32c(0, h, info->hlen) == le32_get(h + info->hlen);
}

int pdu_check_icreq(const void *hdr, struct pdu_error *err)
{
	const uint8_t *h = hdr;
	uint16_t pfv = le16_get(h + 8);

	if (pfv != NVME_TCP_PFV_1_0)
		return fail(err, NVME_TCP_FES_UNSUPPORTED, 8,
			    "ICReq with PDU format version %u (only 0 is known)",
			    pfv);
	if (h[10] > NVME_TCP_MAX_CPDA)
		return fail(err, NVME_TCP_FES_INVALID_HDR, 10,
			    "ICReq with HPDA %u (at most 31)", h[10]);
	if (h[11] & ~(NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE))
		return fail(err, NVME_TCP_FES_INVALID_HDR, 11,
			    "ICReq with unknown digest bits 0x%02x", h[11]);
	return 0;
}

int pdu_check_icresp(const void *hdr, struct pdu_error *err)
{
	const uint8_t *h = hdr;
	uint16_t pfv = le16_get(h + 8);
	uint32_t maxh2c = le32_get(h + 12);

	if (pfv != NVME_TCP_PFV_1_0)
		return fail(err, NVME_TCP_FES_UNSUPPORTED, 8,
			    "ICResp with PDU format version %u (only 0 is known)",
			    pfv);
	if (h[10] > NVME_TCP_MAX_CPDA)
		return fail(err, NVME_TCP_FES_INVALID_HDR, 10,
			    "ICResp with CPDA %u (at most 31)", h[10]);
	if (h[11] & ~(NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE))
		return fail(err, NVME_TCP_FES_INVALID_HDR, 11,
			    "ICResp with unknown digest bits 0x%02x", h[11]);
	if (maxh2c < NVME_TCP_MIN_MAXH2CDATA || maxh2c % 4)
		return fail(err, NVME_TCP_FES_INVALID_HDR, 12,
			    "ICResp with MAXH2CDATA %u (at least 4096, a multiple of 4)",
			    maxh2c);
	return 0;
}

static void put_common(uint8_t *b, uint8_t type, uint8_t flags, uint8_t hlen,
		       uint8_t pdo, uint32_t plen)
{
	b[0] = type;
	b[1] = flags;
	b[2] = hlen;
	b[3] = pdo;
	le32_put(b + 4, plen);
}

size_t pdu_build_icreq(void *buf, uint8_t hpda, bool hdgst, bool ddgst,
		       uint32_t maxr2t)
{
	uint8_t *b = buf;

	memset(b, 0, NVME_TCP_IC_HLEN);
	put_common(b, NVME_TCP_ICREQ, 0, NVME_TCP_IC_HLEN, 0, NVME_TCP_IC_HLEN);
	le16_put(b + 8, NVME_TCP_PFV_1_0);
	b[10] = hpda;
	b[11] = (hdgst ? NVME_TCP_HDGST_ENABLE : 0) |
		(ddgst ? NVME_TCP_DDGST_ENABLE : 0);
	le32_put(b + 12, maxr2t);
	return NVME_TCP_IC_HLEN;
}

size_t pdu_build_icresp(void *buf, uint8_t cpda, bool hdgst, bool ddgst,
			uint32_t maxh2cdata)
{
	uint8_t *b = buf;

	memset(b, 0, NVME_TCP_IC_HLEN);
	put_common(b, NVME_TCP_ICRESP, 0, NVME_TCP_IC_HLEN, 0,
		   NVME_TCP_IC_HLEN);
	le16_put(b + 8, NVME_TCP_PFV_1_0);
	b[10] = cpda;
	b[11] = (hdgst ? NVME_TCP_HDGST_ENABLE : 0) |
		(ddgst ? NVME_TCP_DDGST_ENABLE : 0);
	le32_put(b + 12, maxh2cdata);
	return NVME_TCP_IC_HLEN;
}

/* Common tail of every data-capable PDU: digest, padding, PDO and PLEN. */
static size_t finish(uint8_t *b, uint8_t type, uint8_t flags, uint8_t hlen,
		     uint32_t data_len, bool hdgst, bool ddgst,
		     uint32_t tx_align)
{
	uint32_t hdr_len = hlen + (hdgst ? NVME_TCP_DIGEST_LEN : 0);
	uint32_t pdo = 0, plen = hdr_len, sect = hdr_len;

	if (hdgst)
		flags |= NVME_TCP_F_HDGST;
	if (data_len) {
		if (tx_align < 4)
			tx_align = 4;
		pdo = ROUND_UP(hdr_len, tx_align);
		if (ddgst)
			flags |= NVME_TCP_F_DDGST;
		plen = pdo + data_len + (ddgst ? NVME_TCP_DIGEST_LEN : 0);
		sect = pdo;
	}
	put_common(b, type, flags, hlen, (uint8_t)pdo, plen);
	if (hdgst)
		le32_put(b + hlen, crc32c(0, b, hlen));
	if (sect > hdr_len)
		memset(b + hdr_len, 0, sect - hdr_len);
	return sect;
}

size_t pdu_build_cmd(void *buf, const struct nvme_sqe *sqe, uint32_t data_len,
		     bool hdgst, bool ddgst, uint32_t tx_align)
{
	uint8_t *b = buf;

	memcpy(b + 8, sqe, sizeof *sqe);
	return finish(b, NVME_TCP_CMD, 0, NVME_TCP_CMD_HLEN, data_len, hdgst,
		      ddgst, tx_align);
}

size_t pdu_build_rsp(void *buf, const struct nvme_cqe *cqe, bool hdgst)
{
	uint8_t *b = buf;

	memcpy(b + 8, cqe, sizeof *cqe);
	return finish(b, NVME_TCP_RSP, 0, NVME_TCP_RSP_HLEN, 0, hdgst, false,
		      4);
}

static void put_data_fields(uint8_t *b, uint16_t cccid, uint16_t ttag,
			    uint32_t o, uint32_t l)
{
	le16_put(b + 8, cccid);
	le16_put(b + 10, ttag);
	le32_put(b + 12, o);
	le32_put(b + 16, l);
	le32_put(b + 20, 0);
}

size_t pdu_build_h2c_data(void *buf, uint16_t cccid, uint16_t ttag,
			  uint32_t datao, uint32_t datal, bool last, bool hdgst,
			  bool ddgst, uint32_t tx_align)
{
	uint8_t *b = buf;

	put_data_fields(b, cccid, ttag, datao, datal);
	return finish(b, NVME_TCP_H2C_DATA, last ? NVME_TCP_F_DATA_LAST : 0,
		      NVME_TCP_DATA_HLEN, datal, hdgst, ddgst, tx_align);
}

size_t pdu_build_c2h_data(void *buf, uint16_t cccid, uint32_t datao,
			  uint32_t datal, bool last, bool success, bool hdgst,
			  bool ddgst, uint32_t tx_align)
{
	uint8_t *b = buf;
	uint8_t flags = (last ? NVME_TCP_F_DATA_LAST : 0) |
			(success ? NVME_TCP_F_DATA_SUCCESS : 0);

	put_data_fields(b, cccid, 0, datao, datal);
	return finish(b, NVME_TCP_C2H_DATA, flags, NVME_TCP_DATA_HLEN, datal,
		      hdgst, ddgst, tx_align);
}

size_t pdu_build_r2t(void *buf, uint16_t cccid, uint16_t ttag, uint32_t r2to,
		     uint32_t r2tl, bool hdgst)
{
	uint8_t *b = buf;

	put_data_fields(b, cccid, ttag, r2to, r2tl);
	return finish(b, NVME_TCP_R2T, 0, NVME_TCP_R2T_HLEN, 0, hdgst, false,
		      4);
}

size_t pdu_build_term(void *buf, uint8_t type, uint16_t fes, uint32_t fei,
		      const void *bad_hdr, size_t bad_len)
{
	uint8_t *b = buf;
	size_t max = NVME_TCP_TERM_MAX_PLEN - NVME_TCP_TERM_HLEN;

	if (bad_len > max)
		bad_len = max;
	memset(b, 0, NVME_TCP_TERM_HLEN);
	put_common(b, type, 0, NVME_TCP_TERM_HLEN, 0,
		   (uint32_t)(NVME_TCP_TERM_HLEN + bad_len));
	le16_put(b + 8, fes);
	le32_put(b + 10, fei);
	if (bad_len)
		memcpy(b + NVME_TCP_TERM_HLEN, bad_hdr, bad_len);
	return NVME_TCP_TERM_HLEN + bad_len;
}

uint32_t pdu_ddgst(uint32_t crc, const void *data, size_t len)
{
	return crc32c(crc, data, len);
}

void rx_hint_saw(struct rx_hint *h, uint32_t data_len)
{
	if (data_len >= RX_HINT_LARGE) {
		h->large = true;
		h->without_data = 0;
	} else if (data_len) {
		h->large = false;
	} else if (h->large && ++h->without_data >= RX_HINT_DECAY) {
		h->large = false;
	}
}

size_t rx_hint_fill(const struct rx_hint *h, size_t room, size_t want)
{
	size_t small = want > RX_HINT_SMALL_FILL ? want : RX_HINT_SMALL_FILL;

	return h->large && room > small ? small : room;
}
