/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target Fabrics commands (NVMe-oF 1.1 §3.3): Connect, which
 * makes an association or joins a queue to one, Property Get/Set, and
 * Authentication Send/Receive (DH-HMAC-CHAP, NVMe Base 2.x §8.3.4) for a
 * host with a secret: its Connect response asks for authentication (ATR)
 * and, until the queue is authenticated, every command but these and
 * Disconnect gets Authentication Required (as Linux nvmet).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, fallocate, signalfd, eventfd */
#endif
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

/* ---- DH-HMAC-CHAP -------------------------------------------------------- */

/* A queue's transaction; the NQNs the transaction points at live here. */
struct tgt_auth {
	struct dhchap_ctrl dc;
	char hostnqn[NVMF_NQN_SIZE], subnqn[NVMF_NQN_SIZE];
};

void auth_free(struct tgt_conn *c)
{
	if (c->auth) {
		dhchap_ctrl_wipe(&c->auth->dc);
		free(c->auth);
		c->auth = NULL;
	}
}

/* The host has a secret on s: its queue must authenticate. */
static int auth_start(struct tgt_conn *c, struct tgt_subsys *s,
		      const char *hostnqn)
{
	struct tgt_host_auth ha;
	struct tgt_auth *a;

	if (!host_auth_get(s, hostnqn, &ha))
		return 0;
	a = calloc(1, sizeof *a);
	if (!a) {
		host_auth_wipe(&ha);
		return -1;
	}
	snprintf(a->hostnqn, sizeof a->hostnqn, "%s", hostnqn);
	snprintf(a->subnqn, sizeof a->subnqn, "%s", s->nqn);
	dhchap_ctrl_init(&a->dc, a->hostnqn, a->subnqn, &ha.key,
			 ha.ctrl_key.len ? &ha.ctrl_key : NULL, ha.hashes, ha.groups);
	host_auth_wipe(&ha);
	auth_free(c);
	c->auth = a;
	c->auth_pending = true;
	return 1;
}

/* SECP E9h, SPSP0 01h, SPSP1 01h (DH-HMAC-CHAP's); TL or AL in CDW11. */
static bool auth_fields_ok(const uint8_t *b)
{
	return b[43] == DHCHAP_SECP && b[41] == DHCHAP_SPSP0 &&
	       b[42] == DHCHAP_SPSP1;
}

static void auth_send(struct tgt_conn *c, const struct nvme_sqe *sqe,
		      const uint8_t *data, uint32_t dlen)
{
	const uint8_t *b = (const uint8_t *)sqe;
	uint32_t tl = le32_get(b + 44);
	uint16_t cid = le16toh(sqe->cid);
	struct tgt_auth *a = c->auth;

	if (!auth_fields_ok(b) || tl == 0 || tl != dlen || !data ||
	    tl > DHCHAP_MSG_MAX) {
		warnx("%s: Authentication Send: SECP %02xh SPSP %02xh/%02xh, TL %u for %u bytes of data (E9h, 01h/01h, 1 to %u bytes expected)",
		      c->peer, b[43], b[41], b[42], tl, dlen, DHCHAP_MSG_MAX);
		conn_complete(c, cid, SF_GEN(NVME_SC_INVALID_FIELD) | DNR, 0);
		return;
	}
	if (!a) {
		warnx("%s: Authentication Send on queue %u: no secret is set for this host",
		      c->peer, c->qid);
		conn_complete(c, cid, SF_GEN(NVME_SC_CMD_SEQ_ERROR) | DNR, 0);
		return;
	}
	if (dhchap_ctrl_send(&a->dc, data, dlen) < 0) {
		warnx("%s: DH-HMAC-CHAP of host %s on queue %u failed: %s",
		      c->peer, a->hostnqn, c->qid, nvmeof_get_error());
		c->auth_pending = true;
		if (!a->dc.outlen)
			c->kill_after_flush = true; /* nothing more to say */
	} else if (a->dc.state == DHCHAP_CTRL_DONE && c->auth_pending) {
		c->auth_pending = false;
		infox("%s: host %s authenticated on queue %u (DH-HMAC-CHAP %s, %s%s)",
		      c->peer, a->hostnqn, c->qid, dhchap_hash_name(a->dc.hash_id),
		      dhchap_dh_name(a->dc.dh_id),
		      a->dc.bidi ? ", bidirectional" : "");
	}
	conn_complete(c, cid, 0, 0);
}

static void auth_recv(struct tgt_conn *c, const struct nvme_sqe *sqe,
		      uint32_t dlen)
{
	const uint8_t *b = (const uint8_t *)sqe;
	uint32_t al = le32_get(b + 44);
	uint16_t cid = le16toh(sqe->cid);
	struct tgt_auth *a = c->auth;
	struct iovec iov[2];
	size_t len;

	if (!auth_fields_ok(b) || al == 0 || al > dlen) {
		warnx("%s: Authentication Receive: SECP %02xh SPSP %02xh/%02xh, AL %u for a %u-byte buffer",
		      c->peer, b[43], b[41], b[42], al, dlen);
		conn_complete(c, cid, SF_GEN(NVME_SC_INVALID_FIELD) | DNR, 0);
		return;
	}
	if (!a || !a->dc.outlen) {
		warnx("%s: Authentication Receive on queue %u: no message is due",
		      c->peer, c->qid);
		conn_complete(c, cid, SF_GEN(NVME_SC_CMD_SEQ_ERROR) | DNR, 0);
		return;
	}
	len = a->dc.outlen;
	if (al < len) {
		warnx("%s: Authentication Receive: AL %u, the message is %zu bytes",
		      c->peer, al, len);
		conn_complete(c, cid, SF_GEN(NVME_SC_INVALID_FIELD) | DNR, 0);
		return;
	}
	/* The message, then zeros to AL (as Linux nvmet). */
	iov[0] = (struct iovec){ a->dc.out, len };
	iov[1] = (struct iovec){ (void *)tgt_zero, MIN((size_t)al - len, TGT_ZERO_SIZE) };
	conn_send_data(c, cid, 0, iov, iov[1].iov_len ? 2 : 1,
		       (uint32_t)(len + iov[1].iov_len), true);
	conn_complete(c, cid, 0, 0);
	conn_flush(c); /* the message buffer is reused by the next step */
	a->dc.outlen = 0;
	if (a->dc.state == DHCHAP_CTRL_FAILED)
		c->kill_after_flush = true; /* the Failure1 is said */
	else if (a->dc.state == DHCHAP_CTRL_DONE && c->auth_pending) {
		c->auth_pending = false;
		infox("%s: host %s authenticated on queue %u (DH-HMAC-CHAP %s, %s)",
		      c->peer, a->hostnqn, c->qid, dhchap_hash_name(a->dc.hash_id),
		      dhchap_dh_name(a->dc.dh_id));
	}
}

/* ---- Fabrics commands --------------------------------------------------- */

static void connect_fail(struct tgt_conn *c, const struct nvme_sqe *sqe,
			 uint16_t status, uint32_t dw0, const char *why)
{
	infox("%s: Connect refused: %s", c->peer, why);
	auth_free(c);
	c->auth_pending = false;
	conn_complete(c, le16toh(sqe->cid), status, dw0);
}

/* NVMe-oF 1.1 §3.3 Connect: admin queue (QID 0) makes an association,
 * an I/O queue joins one by CNTLID. */
static void do_connect(struct tgt_conn *c, const struct nvme_sqe *sqe,
		       const uint8_t *data, uint32_t dlen)
{
	const uint8_t *b = (const uint8_t *)sqe;
	uint16_t recfmt = le16_get(b + NVMF_CONNECT_RECFMT);
	uint16_t qid = le16_get(b + NVMF_CONNECT_QID);
	uint16_t sqsize = le16_get(b + NVMF_CONNECT_SQSIZE);
	uint32_t kato = le32_get(b + NVMF_CONNECT_KATO);
	const struct nvmf_connect_data *d = (const void *)data;
	char subnqn[NVMF_NQN_SIZE], hostnqn[NVMF_NQN_SIZE], why[600];
	uint8_t hostid[16];
	uint16_t cntlid;
	struct tgt_subsys *s;
	struct tgt_ctrl *ctrl;

	if (c->connected) {
		connect_fail(c, sqe, SF_GEN(NVME_SC_CMD_SEQ_ERROR) | DNR, 0,
			     "the queue is already connected");
		return;
	}
	if (recfmt != 0) {
		connect_fail(c, sqe, SF_CMD(NVME_SC_CONNECT_FORMAT) | DNR, 0,
			     "unknown record format");
		return;
	}
	if (!data || dlen != sizeof(struct nvmf_connect_data)) {
		connect_fail(c, sqe, ST_SGL_LENGTH, 0,
			     "Connect data is not 1024 bytes");
		return;
	}
	if (!memchr(d->subnqn, 0, sizeof d->subnqn) || !d->subnqn[0]) {
		connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(subnqn),
			     "subsystem NQN not terminated");
		return;
	}
	/* An empty Host NQN is allowed (SPDK's host sends one unless
	 * given one): it may connect where any host may. */
	if (!memchr(d->hostnqn, 0, sizeof d->hostnqn)) {
		connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(hostnqn),
			     "host NQN not terminated");
		return;
	}
	memcpy(subnqn, d->subnqn, sizeof subnqn);
	memcpy(hostnqn, d->hostnqn, sizeof hostnqn);
	memcpy(hostid, d->hostid, 16);
	cntlid = le16toh(d->cntlid);
	if (sqsize == 0 || sqsize >= opts.queue_size) {
		snprintf(why, sizeof why, "SQSIZE %u (0's based, 1..%u)",
			 sqsize, opts.queue_size - 1);
		connect_fail(c, sqe, ST_CONNECT_PARAM,
			     IPO_SQE(NVMF_CONNECT_SQSIZE), why);
		return;
	}
	s = subsys_get(subnqn);
	if (!s || (c->lsn->discovery_only && !s->discovery)) {
		snprintf(why, sizeof why, "no subsystem '%s'%s", subnqn,
			 s ? " on this discovery port" : "");
		connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(subnqn), why);
		if (s)
			subsys_put(s);
		return;
	}
	if (c->ssl && strcmp(hostnqn, c->tls_hostnqn)) {
		/* the PSK proved who the host is: it may not claim another */
		warnx("%s: Connect refused: host NQN '%s' is not the TLS identity's '%s'",
		      c->peer, hostnqn, c->tls_hostnqn);
		snprintf(why, sizeof why, "host NQN '%.230s' is not that of the TLS PSK identity",
			 hostnqn);
		connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(hostnqn), why);
		subsys_put(s);
		return;
	}
	if (!host_allowed(s, hostnqn)) {
		warnx("%s: Connect refused: host '%s' is not allowed on %s",
		      c->peer, hostnqn, subnqn);
		conn_complete(c, le16toh(sqe->cid),
			      SF_CMD(NVME_SC_CONNECT_INVALID_HOST) | DNR, 0);
		subsys_put(s);
		return;
	}
	if (!hostnqn[0] && !s->discovery) {
		static atomic_bool warned;

		if (!atomic_exchange(&warned, true))
			warnx("%s: a host with an empty host NQN connects to %s (any host is allowed there; this is said once)",
			      c->peer, subnqn);
	}
	if (auth_start(c, s, hostnqn) < 0) {
		connect_fail(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0, "out of memory");
		subsys_put(s);
		return;
	}

	if (qid == 0) {
		if (cntlid != NVMF_CNTLID_DYNAMIC) {
			/* Dynamic controller model only (FCATT 0). */
			snprintf(why, sizeof why,
				 "CNTLID %u on an admin queue (only FFFFh)", cntlid);
			connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(cntlid),
				     why);
			subsys_put(s);
			return;
		}
		ctrl = ctrl_new(s, hostnqn, hostid, kato);
		subsys_put(s);
		if (!ctrl) {
			connect_fail(c, sqe, SF_CMD(NVME_SC_CONNECT_CTRL_BUSY), 0,
				     "no controller ID free");
			return;
		}
		c->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->evfd < 0) {
			connect_fail(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0,
				     "eventfd failed");
			ctrl_put(ctrl);
			return;
		}
		pthread_mutex_lock(&ctrl->lock);
		ctrl->admin = c;
		ctrl->nr_queues_total++;
		pthread_mutex_unlock(&ctrl->lock);
		c->ctrl = ctrl;
		c->fscope = FS_ADMIN;
		c->rxp.max_incapsule = TGT_ADMIN_INCAPSULE;
		infox("%s: association %u: %s for host %s (KATO %u ms)", c->peer,
		      ctrl->cntlid, ctrl->subsys->nqn, hostnqn, kato);
	} else {
		if (s->discovery) {
			connect_fail(c, sqe, ST_CONNECT_PARAM,
				     IPO_SQE(NVMF_CONNECT_QID),
				     "I/O queue to the discovery subsystem");
			subsys_put(s);
			return;
		}
		ctrl = ctrl_find(s, cntlid, hostnqn, hostid);
		subsys_put(s);
		if (!ctrl) {
			snprintf(why, sizeof why,
				 "no controller %u of %s for host %s", cntlid,
				 subnqn, hostnqn);
			connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(cntlid),
				     why);
			return;
		}
		pthread_mutex_lock(&ctrl->lock);
		if (ctrl->dead) {
			pthread_mutex_unlock(&ctrl->lock);
			connect_fail(c, sqe, ST_CONNECT_PARAM, IPO_DATA(cntlid),
				     "the association has ended");
			ctrl_put(ctrl);
			return;
		}
		if (!(ctrl->csts & NVME_CSTS_RDY)) {
			pthread_mutex_unlock(&ctrl->lock);
			connect_fail(c, sqe, SF_GEN(NVME_SC_CMD_SEQ_ERROR) | DNR, 0,
				     "controller not enabled (CC.EN, CSTS.RDY)");
			ctrl_put(ctrl);
			return;
		}
		if (qid > (ctrl->nr_ioq ? ctrl->nr_ioq : opts.max_io_queues)) {
			uint32_t max = ctrl->nr_ioq ? ctrl->nr_ioq :
						      opts.max_io_queues;

			pthread_mutex_unlock(&ctrl->lock);
			snprintf(why, sizeof why, "QID %u beyond the %u granted",
				 qid, max);
			connect_fail(c, sqe, ST_CONNECT_PARAM,
				     IPO_SQE(NVMF_CONNECT_QID), why);
			ctrl_put(ctrl);
			return;
		}
		if (ctrl->ioq[qid]) {
			pthread_mutex_unlock(&ctrl->lock);
			snprintf(why, sizeof why, "QID %u is already connected",
				 qid);
			connect_fail(c, sqe, SF_GEN(NVME_SC_CMD_SEQ_ERROR) | DNR,
				     0, why);
			ctrl_put(ctrl);
			return;
		}
		ctrl->ioq[qid] = c;
		ctrl->nr_queues_total++;
		pthread_mutex_unlock(&ctrl->lock);
		c->ctrl = ctrl;
		c->fscope = FS_IO;
		c->rxp.max_incapsule = opts.io_incapsule;
		debugx("%s: association %u: I/O queue %u (%u entries)", c->peer,
		       ctrl->cntlid, qid, sqsize + 1);
	}
	c->qid = qid;
	c->sqsize = (uint16_t)(sqsize + 1);
	c->sqhd %= c->sqsize;
	c->connected = true;
	atomic_store(&c->ctrl->last_rx_ms, tgt_now_ms());
	/* DW0: CNTLID, and AUTHREQ.ATR for a host with a secret. */
	conn_complete(c, le16toh(sqe->cid), 0, c->ctrl->cntlid |
		      (c->auth ? DHCHAP_CONNECT_ATR : 0));
}

static uint64_t ctrl_cap(void)
{
	/* CAP (NVMe Base 2.0 §3.1.3.1): CSS NVM (bit 37), TO 15 (7.5 s),
	 * CQR, MQES; MPSMIN = MPSMAX = 0 (4 KiB). */
	return (1ull << 37) | (15ull << 24) | (1ull << 16) |
	       (opts.queue_size - 1);
}

/* CC written: the enable and shutdown state machine (NVMe Base 2.0 §3.6). */
static void update_cc(struct tgt_ctrl *ctrl, uint32_t cc)
{
	uint32_t old, csts;

	pthread_mutex_lock(&ctrl->lock);
	old = ctrl->cc;
	csts = ctrl->csts;
	ctrl->cc = cc;
	if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN)) {
		unsigned iosqes = (cc >> 16) & 0xf, iocqes = (cc >> 20) & 0xf;
		unsigned mps = (cc >> 7) & 0xf, ams = (cc >> 11) & 0x7;
		unsigned css = (cc >> 4) & 0x7;

		if (mps != 0 || ams != 0 || css != 0 ||
		    (!ctrl->subsys->discovery && (iosqes != 6 || iocqes != 4)))
			csts = NVME_CSTS_CFS;
		else
			csts = NVME_CSTS_RDY;
	} else if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN)) {
		csts = 0; /* controller reset */
	}
	if ((cc & NVME_CC_SHN_MASK) && !(old & NVME_CC_SHN_MASK))
		csts = (csts & ~NVME_CSTS_RDY) | NVME_CSTS_SHST_CMPLT;
	else if (!(cc & NVME_CC_SHN_MASK) && (old & NVME_CC_SHN_MASK))
		csts &= ~NVME_CSTS_SHST_MASK;
	ctrl_set_csts(ctrl, csts);
	pthread_mutex_unlock(&ctrl->lock);
	debugx("association %u: CC 0x%x -> CSTS 0x%x", ctrl->cntlid, cc, csts);
}

void fabrics_cmd(struct tgt_conn *c, const struct nvme_sqe *sqe,
		 const uint8_t *data, uint32_t dlen)
{
	const uint8_t *b = (const uint8_t *)sqe;
	uint8_t fctype = b[NVMF_SQE_FCTYPE];
	bool eight = b[NVMF_PROP_ATTRIB] & 1;
	uint32_t ofst = le32_get(b + NVMF_PROP_OFST);
	struct tgt_ctrl *ctrl = c->ctrl;
	uint64_t val = 0;

	switch (fctype) {
	case NVMF_FCTYPE_CONNECT:
		do_connect(c, sqe, data, dlen);
		return;
	case NVMF_FCTYPE_PROP_GET:
		if (c->qid) {
			conn_complete(c, le16toh(sqe->cid), ST_INVALID_OPCODE, 0);
			return;
		}
		if (eight && ofst == NVME_REG_CAP)
			val = ctrl_cap();
		else if (!eight && ofst == NVME_REG_VS)
			val = 0x10300; /* 1.3 */
		else if (!eight && ofst == NVME_REG_CC)
			val = __atomic_load_n(&ctrl->cc, __ATOMIC_RELAXED);
		else if (!eight && ofst == NVME_REG_CSTS)
			val = __atomic_load_n(&ctrl->csts, __ATOMIC_RELAXED);
		else {
			conn_complete(c, le16toh(sqe->cid), ST_INVALID_FIELD, 0);
			return;
		}
		conn_complete(c, le16toh(sqe->cid), 0, val);
		return;
	case NVMF_FCTYPE_PROP_SET:
		if (c->qid) {
			conn_complete(c, le16toh(sqe->cid), ST_INVALID_OPCODE, 0);
			return;
		}
		if (eight || ofst != NVME_REG_CC) {
			conn_complete(c, le16toh(sqe->cid), ST_INVALID_FIELD, 0);
			return;
		}
		update_cc(ctrl, le32_get(b + NVMF_PROP_VALUE));
		conn_complete(c, le16toh(sqe->cid), 0, 0);
		return;
	case NVMF_FCTYPE_AUTH_SEND:
		auth_send(c, sqe, data, dlen);
		return;
	case NVMF_FCTYPE_AUTH_RECV:
		auth_recv(c, sqe, dlen);
		return;
	case NVMF_FCTYPE_DISCONNECT:
		/* NVMe-oF 1.1 §3.x: delete this queue (the admin queue: the
		 * whole association) once the answer is sent. */
		if (le16_get(b + NVMF_CONNECT_RECFMT) != 0) {
			conn_complete(c, le16toh(sqe->cid),
				      SF_CMD(NVME_SC_CONNECT_FORMAT) | DNR, 0);
			return;
		}
		conn_complete(c, le16toh(sqe->cid), 0, 0);
		c->kill_after_flush = true;
		return;
	default:
		conn_complete(c, le16toh(sqe->cid), ST_INVALID_OPCODE, 0);
		return;
	}
}

