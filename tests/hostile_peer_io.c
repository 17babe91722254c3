/* SPDX-License-Identifier: MIT */
/* The hostile peer's answers to Read and Write on I/O queues, with the
 * data-transfer and completion misbehaviours. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile_peer_int.h"

static bool is_read_mode(enum hp_mode m)
{
	return (m >= HP_RSP_BAD_HLEN && m <= HP_C2H_SUCCESS_SHORT) ||
	       (m >= HP_R2T_FOR_READ && m <= HP_IO_ABORTABLE);
}

static bool is_r2t_write_mode(enum hp_mode m)
{
	return m >= HP_C2H_ON_WRITE && m <= HP_WRITE_PARTIAL;
}

static int read_cmd(struct hconn *c, uint16_t cid, const uint8_t *data,
		    uint32_t len)
{
	struct hp *p = c->p;
	uint8_t s[16], *big;
	int rc;

	if (p->mode == HP_BAD_DDGST_4X) {
		pthread_mutex_lock(&p->lock);
		rc = p->bad_reads < 4 ? (int)++p->bad_reads : 0;
		p->fired |= rc > 0;
		pthread_mutex_unlock(&p->lock);
		if (!rc)
			return hp_answer_data(c, cid, data, len);
	} else if (p->mode == HP_IO_SILENT_ALWAYS) {
		hp_mark(p);
		return 0;
	} else if (!hp_trigger(p, is_read_mode(p->mode))) {
		return hp_answer_data(c, cid, data, len);
	}

	switch (p->mode) {
	case HP_RSP_BAD_HLEN:
		hp_rsp_spec(c, s, cid, 0, 0, 0);
		if (hp_send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_LAST) < 0)
			return -1;
		{
			uint8_t spec[20] = { 0 };

			memcpy(spec, s, 16);
			return hp_send_pdu(c, TX(.type = NVME_TCP_RSP, .hlen = 28,
					      .spec = spec));
		}
	case HP_RSP_BAD_PLEN:
		if (hp_send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_LAST) < 0)
			return -1;
		hp_rsp_spec(c, s, cid, 0, 0, 0);
		return hp_send_pdu(c, TX(.type = NVME_TCP_RSP, .hlen = 24, .spec = s,
				      .plen_override = 24 + (c->hdgst ? 4 : 0) + 4));
	case HP_C2H_BAD_PDO:
		hp_data_spec(s, cid, 0, 0, len);
		return hp_send_pdu(c, TX(.type = NVME_TCP_C2H_DATA,
				      .flags = NVME_TCP_F_DATA_LAST, .hlen = 24,
				      .spec = s, .data = data, .dlen = len,
				      .pdo_override = 20));
	case HP_C2H_HUGE_PLEN:
		hp_data_spec(s, cid, 0, 0, len);
		return hp_send_pdu(c, TX(.type = NVME_TCP_C2H_DATA,
				      .flags = NVME_TCP_F_DATA_LAST, .hlen = 24,
				      .spec = s, .data = data, .dlen = len,
				      .plen_override = 1u << 30));
	case HP_TERM_HUGE_PLEN:
	case HP_TERM_MAX: {
		uint8_t t[152] = { NVME_TCP_C2H_TERM, 0, 24, 0 };
		uint32_t plen = p->mode == HP_TERM_MAX ? 152 : 4096;

		le32_put(t + 4, plen);
		le16_put(t + 8, NVME_TCP_FES_INVALID_HDR);
		le32_put(t + 10, 2);
		memset(t + 24, 0xee, 128); /* "the offending header" */
		return hp_wr(c, t, 152);
	}
	case HP_UNKNOWN_TYPE:
		memset(s, 0, sizeof s);
		return hp_send_pdu(c, TX(.type = 0x0f, .hlen = 24, .spec = s));
	case HP_ICRESP_AGAIN: {
		uint8_t ic[128] = { NVME_TCP_ICRESP, 0, 128, 0, 128 };

		le32_put(ic + 12, PEER_MAXH2C);
		return hp_wr(c, ic, sizeof ic);
	}
	case HP_H2C_FROM_CTRL:
		hp_data_spec(s, cid, 1, 0, len);
		return hp_send_pdu(c, TX(.type = NVME_TCP_H2C_DATA,
				      .flags = NVME_TCP_F_DATA_LAST, .hlen = 24,
				      .spec = s, .data = data, .dlen = len));
	case HP_C2H_UNKNOWN_CID:
		return hp_answer_data(c, cid ^ 0x8000, data, len);
	case HP_C2H_BEYOND:
		big = calloc(1, len + 512);
		if (!big)
			return -1;
		memcpy(big, data, len);
		rc = hp_send_c2h(c, cid, 0, big, len + 512, NVME_TCP_F_DATA_LAST);
		free(big);
		return rc < 0 ? rc : hp_send_rsp(c, cid, 0, 0, 0);
	case HP_C2H_OVERLAP:
		if (hp_send_c2h(c, cid, 0, data, len / 2, 0) < 0)
			return -1;
		return hp_send_c2h(c, cid, len / 4, data + len / 4, len - len / 4,
				   NVME_TCP_F_DATA_LAST) ||
		       hp_send_rsp(c, cid, 0, 0, 0);
	case HP_C2H_GAP:
		if (hp_send_c2h(c, cid, 0, data, len / 4, 0) < 0)
			return -1;
		return hp_send_c2h(c, cid, len / 2, data + len / 2, len / 2,
				   NVME_TCP_F_DATA_LAST) ||
		       hp_send_rsp(c, cid, 0, 0, 0);
	case HP_C2H_SHORT_RSP:
		return hp_send_c2h(c, cid, 0, data, len / 2, NVME_TCP_F_DATA_LAST) ||
		       hp_send_rsp(c, cid, 0, 0, 0);
	case HP_C2H_SUCCESS_NOT_LAST:
		return hp_send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_SUCCESS);
	case HP_C2H_SUCCESS_SHORT:
		return hp_send_c2h(c, cid, 0, data, len / 2,
				   NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	case HP_R2T_FOR_READ:
		return hp_send_r2t(c, cid, 1, 0, len);
	case HP_RSP_UNKNOWN_CID:
		if (hp_send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_LAST) < 0)
			return -1;
		return hp_send_rsp(c, cid ^ 0x0400, 0, 0, 0);
	case HP_RSP_TWICE:
		if (hp_answer_data(c, cid, data, len) < 0)
			return -1;
		return hp_send_rsp(c, cid, 0, 0, 0);
	case HP_BAD_HDGST:
		if (hp_send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_LAST) < 0)
			return -1;
		hp_rsp_spec(c, s, cid, 0, 0, 0);
		return hp_send_pdu(c, TX(.type = NVME_TCP_RSP, .hlen = 24, .spec = s,
				      .hdgst_xor = 0x10));
	case HP_BAD_DDGST:
	case HP_BAD_DDGST_4X:
		hp_data_spec(s, cid, 0, 0, len);
		if (hp_send_pdu(c, TX(.type = NVME_TCP_C2H_DATA,
				   .flags = NVME_TCP_F_DATA_LAST, .hlen = 24,
				   .spec = s, .data = data, .dlen = len,
				   .data_flip = len / 3 + 1)) < 0)
			return -1;
		return hp_send_rsp(c, cid, 0, 0, 0);
	case HP_IO_SILENT:
		return 0;
	case HP_IO_ABORTABLE:
		pthread_mutex_lock(&p->lock);
		p->held_conn = c;
		p->held_cid = cid;
		pthread_mutex_unlock(&p->lock);
		return 0;
	case HP_IO_SLOW: {
		uint8_t *all = malloc(len + 256);
		size_t n = 0;

		if (!all)
			return -1;
		hp_data_spec(s, cid, 0, 0, len);
		hp_send_pdu(c, TX(.type = NVME_TCP_C2H_DATA,
			       .flags = NVME_TCP_F_DATA_LAST, .hlen = 24,
			       .spec = s, .data = data, .dlen = len,
			       .collect = all, .collect_len = &n));
		rc = hp_wr_slow(c, all, n, 100);
		free(all);
		return rc < 0 ? rc : hp_send_rsp(c, cid, 0, 0, 0);
	}
	default:
		return hp_answer_data(c, cid, data, len);
	}
}

/* Receive H2CData for [off, off + len) of a write into dst. */
static int recv_h2c(struct hconn *c, uint16_t cid, uint8_t *dst, uint32_t off,
		    uint32_t len)
{
	uint32_t got = 0;

	while (got < len) {
		struct rx r;
		uint32_t datao, datal;

		if (hp_recv_pdu(c, &r) < 0)
			return -1;
		if (r.type != NVME_TCP_H2C_DATA || le16_get(r.buf + 8) != cid) {
			free(r.buf);
			return -1;
		}
		datao = le32_get(r.buf + 12);
		datal = le32_get(r.buf + 16);
		if (datao != off + got || datal != r.dlen || got + datal > len) {
			fprintf(stderr, "hostile peer: bad H2CData %u+%u\n",
				datao, datal);
			free(r.buf);
			return -1;
		}
		memcpy(dst + got, r.data, datal);
		got += datal;
		free(r.buf);
	}
	return 0;
}

static int write_cmd(struct hconn *c, uint16_t cid, uint8_t *dst, uint32_t len,
		     const uint8_t *incap, uint32_t incap_len)
{
	struct hp *p = c->p;
	uint8_t s[16];

	if (incap_len) {
		if (hp_trigger(p, p->mode == HP_R2T_INCAPSULE))
			return hp_send_r2t(c, cid, 1, 0, len);
		memcpy(dst, incap, incap_len < len ? incap_len : len);
		return hp_send_rsp(c, cid, 0, 0, 0);
	}
	if (!hp_trigger(p, is_r2t_write_mode(p->mode))) {
		/* Two R2Ts when the write is larger than MAXH2CDATA... no: one
		 * R2T for everything; the host splits by MAXH2CDATA. */
		if (hp_send_r2t(c, cid, 7, 0, len) < 0 ||
		    recv_h2c(c, cid, dst, 0, len) < 0)
			return -1;
		return hp_send_rsp(c, cid, 0, 0, 0);
	}
	switch (p->mode) {
	case HP_C2H_ON_WRITE:
		return hp_send_c2h(c, cid, 0, dst, len,
				   NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	case HP_R2T_BEYOND:
		return hp_send_r2t(c, cid, 7, 0, len + 4096);
	case HP_R2T_TWO: {
		/* Both in one segment: the host sees the second while it is
		 * still serving the first. */
		uint8_t both[2 * 28];
		size_t n = 0;

		hp_data_spec(s, cid, 7, 0, len / 2);
		hp_send_pdu(c, TX(.type = NVME_TCP_R2T, .hlen = 24, .spec = s,
			       .collect = both, .collect_len = &n));
		hp_data_spec(s, cid, 8, len / 2, len - len / 2);
		hp_send_pdu(c, TX(.type = NVME_TCP_R2T, .hlen = 24, .spec = s,
			       .collect = both, .collect_len = &n));
		return hp_wr(c, both, n);
	}
	case HP_R2T_OFFSET:
		return hp_send_r2t(c, cid, 7, 4096, len - 4096);
	case HP_R2T_ZERO:
		return hp_send_r2t(c, cid, 7, 0, 0);
	case HP_WRITE_PARTIAL:
		if (hp_send_r2t(c, cid, 7, 0, len / 2) < 0 ||
		    recv_h2c(c, cid, dst, 0, len / 2) < 0)
			return -1;
		return hp_send_rsp(c, cid, 0, 0, 0);
	default:
		return -1;
	}
}

int hp_io_cmd(struct hconn *c, const uint8_t *sqe, uint16_t cid,
	      const uint8_t *data, uint32_t dlen)
{
	struct hp *p = c->p;
	uint64_t slba = le32_get(sqe + 40) | (uint64_t)le32_get(sqe + 44) << 32;
	uint32_t nlb = (le32_get(sqe + 48) & 0xffff) + 1;
	uint32_t nsid = le32_get(sqe + 4);
	uint8_t op = sqe[0];

	if (op != NVME_NVM_READ && op != NVME_NVM_WRITE)
		return hp_send_rsp(c, cid, 0, 0, 0);
	pthread_mutex_lock(&p->lock);
	p->io_cmds++;
	pthread_mutex_unlock(&p->lock);
	if (nsid != 1)
		return hp_send_rsp(c, cid, NVME_SC_INVALID_NS | 0x4000, 0, 0);
	if (slba + nlb > HP_NLBA)
		return hp_send_rsp(c, cid, NVME_SC_LBA_RANGE | 0x4000, 0, 0);
	if (op == NVME_NVM_READ)
		return read_cmd(c, cid, p->ram + slba * HP_LBA, nlb * HP_LBA);
	return write_cmd(c, cid, p->ram + slba * HP_LBA, nlb * HP_LBA, data,
			 dlen);
}
