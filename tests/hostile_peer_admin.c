/* SPDX-License-Identifier: MIT */
/* The hostile peer's controller contents (Identify, the discovery log) and
 * its answers to Fabrics and admin commands, with their misbehaviours. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile_peer_int.h"

/* ---- controller contents ---------------------------------------------- */

static void put_str(uint8_t *dst, size_t field, const char *s)
{
	size_t n = strlen(s);

	memset(dst, ' ', field);
	memcpy(dst, s, n < field ? n : field);
}

static void build_id_ctrl(struct hconn *c, uint8_t *id)
{
	struct hp *p = c->p;
	const char *nqn = c->discovery ? NVMF_DISCOVERY_NQN : HP_NQN;

	memset(id, 0, 4096);
	le16_put(id + 0, 0x1b36);
	put_str(id + 4, 20, "HOSTILE0001");
	put_str(id + 24, 40, "hostile peer");
	put_str(id + 64, 8, "1.0");
	id[77] = 5; /* MDTS: 128 KiB */
	le16_put(id + 78, 1);
	le32_put(id + 80, 0x00010400);
	id[512] = 0x66;
	id[513] = 0x44;
	le32_put(id + 516, c->discovery ? 0 : 1); /* NN */
	le32_put(id + 536, 1u << 2 | 1); /* SGLS: keyed, supported */
	memcpy(id + 768, nqn, strlen(nqn));
	le32_put(id + 1792, (8192 + 64) / 16); /* IOCCSZ: 8 KiB in capsule */
	le32_put(id + 1796, 1);
	if (p->mode == HP_ID_STRINGS) {
		/* No NUL, no space: every field full to its end, with bytes
		 * that are not text at all. */
		for (int i = 0; i < 20; i++)
			id[4 + i] = (uint8_t)(i & 1 ? 0xff : 0x01);
		memset(id + 24, 'M', 40);
		id[30] = '\n';
		id[31] = '\\';
		id[32] = '"';
		memset(id + 64, 0x80, 8);
		memset(id + 768, 'Q', 256);
		hp_mark(p);
	}
	if (p->mode == HP_ID_NN0) {
		le32_put(id + 516, 0);
		hp_mark(p);
	}
	if (p->mode == HP_ID_MDTS) {
		id[77] = 255;
		hp_mark(p);
	}
}

static void build_id_ns(struct hconn *c, uint32_t nsid, uint8_t *id)
{
	struct hp *p = c->p;

	memset(id, 0, 4096);
	if (nsid != 1 || p->mode == HP_ID_NN0)
		return; /* inactive: all zero */
	le64_put(id + 0, HP_NLBA);
	le64_put(id + 8, HP_NLBA);
	le64_put(id + 16, HP_NLBA);
	id[25] = 0;  /* NLBAF: one format */
	id[26] = 0;  /* FLBAS */
	id[33] = 1;  /* DLFEAT */
	id[128 + 2] = 12; /* LBAF0: 4096 bytes */
	memset(id + 104, 0xab, 16); /* NGUID */
	if (hp_trigger(p, p->mode == HP_NS_FLBAS))
		id[26] = 5;
	if (hp_trigger(p, p->mode == HP_NS_LBADS))
		id[128 + 2] = 40;
	if (hp_trigger(p, p->mode == HP_NS_NSZE))
		le64_put(id + 0, 1ull << 62);
}

static uint8_t *build_disc_log(struct hconn *c, size_t *lenp)
{
	struct hp *p = c->p;
	uint64_t numrec = 2, gen;
	size_t entries = 2, len;
	uint8_t *log;

	pthread_mutex_lock(&p->lock);
	if (p->mode == HP_DISC_GENCTR) {
		p->genctr++;
		p->fired = true;
	}
	gen = p->genctr;
	pthread_mutex_unlock(&p->lock);
	if (p->mode == HP_DISC_NUMREC_HUGE) {
		numrec = 1000000000ull;
		hp_mark(p);
	}
	if (p->mode == HP_DISC_SHORT) {
		numrec = 3; /* but only 2 entries follow */
		hp_mark(p);
	}
	len = 1024 + entries * 1024;
	log = calloc(1, len);
	if (!log)
		return NULL;
	le64_put(log, gen);
	le64_put(log + 8, numrec);
	for (size_t i = 0; i < entries; i++) {
		uint8_t *e = log + 1024 + i * 1024;
		char nqn[64];

		e[0] = NVMF_TRTYPE_TCP;
		e[1] = NVMF_ADRFAM_IPV4;
		e[2] = 2;
		le16_put(e + 4, 1);
		le16_put(e + 6, 0xffff);
		le16_put(e + 8, 32);
		put_str(e + 32, 32, p->port);
		snprintf(nqn, sizeof nqn, "%s-%zu", HP_NQN, i);
		memset(e + 256, 0, 256);
		memcpy(e + 256, nqn, strlen(nqn));
		put_str(e + 512, 256, "127.0.0.1");
		if (p->mode == HP_DISC_TLS) {
			e[3] = i == 0 ? 1 : 2; /* TREQ: required, not required */
			e[768] = 2;            /* TSAS SECTYPE: TLS 1.3 */
			hp_mark(p);
		}
	}
	*lenp = len;
	return log;
}

/* ---- commands ------------------------------------------------------------ */

int hp_fabrics_cmd(struct hconn *c, const uint8_t *sqe, uint16_t cid,
		   const uint8_t *data, uint32_t dlen)
{
	struct hp *p = c->p;
	uint8_t fctype = sqe[4];

	if (fctype == NVMF_FCTYPE_CONNECT) {
		uint16_t cntlid;

		if (dlen < 1024)
			return hp_send_rsp(c, cid, NVME_SC_INVALID_FIELD | 0x4000, 0, 0);
		c->qid = le16_get(sqe + 42);
		c->discovery = !strncmp((const char *)data + 256,
					NVMF_DISCOVERY_NQN, 256);
		if (hp_trigger(p, p->mode == HP_CONNECT_SILENT))
			return 0;
		pthread_mutex_lock(&p->lock);
		cntlid = c->qid ? le16_get(data + 16) : ++p->next_cntlid;
		pthread_mutex_unlock(&p->lock);
		c->sqhd = 0;
		return hp_send_rsp(c, cid, 0, cntlid, 0);
	}
	if (fctype == NVMF_FCTYPE_PROP_GET) {
		uint32_t ofst = le32_get(sqe + 44);
		uint64_t v = 0;

		switch (ofst) {
		case NVME_REG_CAP:
			/* MQES 127, CQR, TO 500 ms, CSS NVM */
			v = 127 | 1u << 16 | 1ull << 24 | 1ull << 37;
			break;
		case NVME_REG_VS:
			v = 0x00010400;
			break;
		case NVME_REG_CC:
			v = p->cc;
			break;
		case NVME_REG_CSTS:
			if (p->cc & 1)
				v |= NVME_CSTS_RDY;
			if (p->mode == HP_CSTS_NEVER_RDY) {
				v &= ~(uint64_t)NVME_CSTS_RDY;
				hp_mark(p);
			}
			if (p->cc & (3u << 14))
				v |= NVME_CSTS_SHST_CMPLT;
			break;
		}
		return hp_send_rsp(c, cid, 0, (uint32_t)v, (uint32_t)(v >> 32));
	}
	if (fctype == NVMF_FCTYPE_PROP_SET) {
		if (le32_get(sqe + 44) == NVME_REG_CC)
			p->cc = le32_get(sqe + 48);
		return hp_send_rsp(c, cid, 0, 0, 0);
	}
	return hp_send_rsp(c, cid, 0, 0, 0);
}

int hp_admin_cmd(struct hconn *c, const uint8_t *sqe, uint16_t cid)
{
	struct hp *p = c->p;
	uint32_t nsid = le32_get(sqe + 4), cdw10 = le32_get(sqe + 40);
	uint32_t cdw11 = le32_get(sqe + 44);
	uint8_t buf[4096];

	switch (sqe[0]) {
	case NVME_ADMIN_IDENTIFY:
		switch (cdw10 & 0xff) {
		case NVME_CNS_CTRL:
			build_id_ctrl(c, buf);
			if (hp_trigger(p, p->mode == HP_ID_SHORT))
				return hp_send_c2h(c, cid, 0, buf, 2048,
						   NVME_TCP_F_DATA_LAST) ||
				       hp_send_rsp(c, cid, 0, 0, 0);
			break;
		case NVME_CNS_NS:
			build_id_ns(c, nsid, buf);
			break;
		case NVME_CNS_NS_ACTIVE_LIST:
			memset(buf, 0, sizeof buf);
			if (nsid < 1 && p->mode != HP_ID_NN0)
				le32_put(buf, 1);
			break;
		case NVME_CNS_NS_DESC_LIST:
			memset(buf, 0, sizeof buf);
			buf[0] = 2;
			buf[1] = 16;
			memset(buf + 4, 0xab, 16);
			break;
		default:
			return hp_send_rsp(c, cid, NVME_SC_INVALID_FIELD | 0x4000, 0, 0);
		}
		return hp_answer_data(c, cid, buf, 4096);
	case NVME_ADMIN_GET_LOG_PAGE: {
		uint32_t numd = ((cdw10 >> 16) | (cdw11 & 0xffff) << 16) + 1;
		uint64_t off = le32_get(sqe + 48) |
			       (uint64_t)le32_get(sqe + 52) << 32;
		uint32_t len = numd * 4, send_len = len;
		uint8_t *out = calloc(1, len);
		int rc;

		if (!out)
			return -1;
		if ((cdw10 & 0xff) == NVME_LOG_DISCOVERY) {
			size_t loglen = 0;
			uint8_t *log = build_disc_log(c, &loglen);

			if (!log) {
				free(out);
				return -1;
			}
			if (off < loglen)
				memcpy(out, log + off,
				       loglen - off < len ? loglen - off : len);
			/* What the page holds, and no more. */
			if (p->mode == HP_DISC_SHORT && off + len > loglen)
				send_len = off < loglen ? (uint32_t)(loglen - off) : 0;
			free(log);
		}
		if (send_len)
			rc = hp_send_c2h(c, cid, 0, out, send_len,
					 NVME_TCP_F_DATA_LAST) ||
			     hp_send_rsp(c, cid, 0, 0, 0);
		else
			rc = hp_send_rsp(c, cid, 0, 0, 0);
		free(out);
		return rc;
	}
	case NVME_ADMIN_SET_FEATURES:
		if ((cdw10 & 0xff) == NVME_FEAT_NUM_QUEUES)
			return hp_send_rsp(c, cid, 0, cdw11, 0);
		return hp_send_rsp(c, cid, 0, 0, 0);
	case NVME_ADMIN_GET_FEATURES:
		return hp_send_rsp(c, cid, 0, 0, 0);
	case NVME_ADMIN_ASYNC_EVENT:
		return 0; /* held: no event ever */
	case NVME_ADMIN_KEEP_ALIVE:
		if (p->mode == HP_KA_SILENT) {
			hp_mark(p);
			return 0;
		}
		return hp_send_rsp(c, cid, 0, 0, 0);
	case NVME_ADMIN_ABORT: {
		struct hconn *held;
		uint16_t held_cid;

		pthread_mutex_lock(&p->lock);
		held = p->held_conn;
		held_cid = p->held_cid;
		if (held && held->qid == (cdw10 & 0xffff) &&
		    held_cid == cdw10 >> 16)
			p->held_conn = NULL;
		else
			held = NULL;
		pthread_mutex_unlock(&p->lock);
		/* The held Read is the only command on its queue, so its
		 * thread is waiting in recv(): this is the only writer. */
		if (held && hp_send_rsp(held, held_cid, NVME_SC_ABORT_REQ, 0, 0) < 0)
			return -1;
		return hp_send_rsp(c, cid, 0, held ? 0 : 1, 0); /* dw0 bit 0: not aborted */
	}
	}
	return hp_send_rsp(c, cid, NVME_SC_INVALID_OPCODE | 0x4000, 0, 0);
}
