/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target admin commands: Identify, Get Log Page, Set/Get
 * Features, Asynchronous Event Request, Keep Alive.
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

static void send_data_done(struct tgt_conn *c, const struct nvme_sqe *sqe,
			   const void *buf, uint32_t len)
{
	struct iovec iov = { (void *)buf, len };

	if (len)
		conn_send_data(c, le16toh(sqe->cid), 0, &iov, 1, len, true);
	cmd_done(c, sqe, 0, 0);
	conn_flush(c); /* the admin buffer is reused by the next command */
}

/* ---- Identify ----------------------------------------------------------- */

static void pad_copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, MIN(l, n));
}

static void id_ctrl(struct tgt_conn *c, struct nvme_id_ctrl *id)
{
	struct tgt_subsys *s = c->ctrl->subsys;

	pad_copy(id->sn, sizeof id->sn, s->serial);
	pad_copy(id->mn, sizeof id->mn, s->model);
	pad_copy(id->fr, sizeof id->fr, s->firmware);
	id->mdts = (uint8_t)opts.mdts;
	id->cntlid = htole16(c->ctrl->cntlid);
	id->ver = htole32(0x10300);
	id->maxcmd = htole16((uint16_t)opts.queue_size);
	id->aerl = TGT_AERL;
	id->lpa = 1u << 2; /* extended data for Get Log Page */
	id->elpe = TGT_ERRLOG_ENTRIES - 1;
	id->kas = htole16(10); /* 100 ms units: KATO granularity 1 s */
	id->sgls = htole32(0x100001); /* SGLs, offsets in data blocks */
	id->msdbd = 1;
	snprintf(id->subnqn, sizeof id->subnqn, "%s", s->nqn);
	if (s->discovery) {
		id->cntrltype = 2;
		id->oaes = htole32(NVME_OAES_DISC_CHANGE);
		return;
	}
	id->cntrltype = 1;
	id->rab = 6;
	/* several controllers share namespaces; ANA reporting */
	id->cmic = 1u << 1 | NVME_CMIC_ANA;
	id->oaes = htole32(NVME_OAES_NS_ATTR | NVME_OAES_ANA);
	/* ANACAP: every state reported (bits 4:0); a namespace's ANAGRPID
	 * does not change while it is attached (bit 6).  Bit 7 (non-zero
	 * ANAGRPID in Namespace Management) stays clear: no such command. */
	id->anacap = 0x1f | 1u << 6;
	id->anatt = TGT_ANATT;
	id->anagrpmax = htole32(TGT_ANA_GROUPS);
	id->nanagrpid = htole32(TGT_ANA_GROUPS);
	id->mnan = htole32(TGT_MAX_NSID);
	id->ctratt = htole32(1u << 0 | 1u << 6); /* 128-bit host ID, TBKAS */
	id->acl = 3;
	id->frmw = 0x3; /* one slot, read-only */
	id->lpa |= NVME_LPA_CMD_EFFECTS;
	id->sqes = 0x66;
	id->cqes = 0x44;
	id->nn = htole32(TGT_MAX_NSID);
	id->oncs = htole16(NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES);
	id->vwc = 0x7; /* volatile write cache; Flush to FFFFFFFFh supported */
	id->ioccsz = htole32((64 + opts.io_incapsule) / 16);
	id->iorcsz = htole32(1);
	id->ofcs = htole16(1); /* Disconnect */
}

static void id_ns(struct tgt_ns *ns, struct nvme_id_ns *id)
{
	uint64_t nb = ns_blocks(ns);
	uint64_t bytes = nb << ns->lba_shift;

	id->nsze = id->ncap = id->nuse = htole64(nb);
	id->nlbaf = 0;
	id->flbas = 0;
	id->nmic = 1;
	id->dlfeat = 1; /* deallocated blocks read as zeros */
	id->nsattr = ns->ro ? 1 : 0;
	le64_put(id->nvmcap, bytes);
	memcpy(id->nguid, ns->nguid, 16);
	id->anagrpid = htole32(ns->anagrpid);
	id->lbaf[0].lbads = (uint8_t)ns->lba_shift;
}

static void identify(struct tgt_conn *c, const struct nvme_sqe *sqe,
		     uint32_t dlen)
{
	uint8_t cns = le32toh(sqe->cdw10) & 0xff;
	uint32_t nsid = le32toh(sqe->nsid);
	struct tgt_subsys *s = c->ctrl->subsys;
	struct tgt_ns *ns;
	uint8_t *buf;

	if (dlen != 4096) {
		cmd_done(c, sqe, ST_SGL_LENGTH, 0);
		return;
	}
	buf = conn_abuf(c, 4096);
	if (!buf) {
		cmd_done(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0);
		return;
	}
	if (s->discovery && cns != NVME_CNS_CTRL) {
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	switch (cns) {
	case NVME_CNS_CTRL:
		id_ctrl(c, (struct nvme_id_ctrl *)buf);
		break;
	case NVME_CNS_NS:
		if (nsid == 0 || nsid > TGT_MAX_NSID) {
			cmd_done(c, sqe, SF_GEN(NVME_SC_INVALID_NS) | DNR, 0);
			return;
		}
		/* An inactive NSID: a zero-filled structure (§5.17.2.1). */
		ns = subsys_ns_get(s, nsid);
		if (ns) {
			id_ns(ns, (struct nvme_id_ns *)buf);
			ns_put(ns);
		}
		break;
	case NVME_CNS_NS_ACTIVE_LIST: {
		uint32_t n = 0;

		if (nsid >= 0xfffffffe) {
			cmd_done(c, sqe, SF_GEN(NVME_SC_INVALID_NS) | DNR, 0);
			return;
		}
		pthread_mutex_lock(&s->lock);
		for (uint32_t i = nsid + 1; i <= TGT_MAX_NSID && n < 1024; i++)
			if (s->ns[i])
				le32_put(buf + 4 * n++, i);
		pthread_mutex_unlock(&s->lock);
		break;
	}
	case NVME_CNS_NS_DESC_LIST:
		ns = nsid ? subsys_ns_get(s, nsid) : NULL;
		if (!ns) {
			cmd_done(c, sqe, SF_GEN(NVME_SC_INVALID_NS) | DNR, 0);
			return;
		}
		buf[0] = NVME_NIDT_NGUID;
		buf[1] = 16;
		memcpy(buf + 4, ns->nguid, 16);
		buf[20] = NVME_NIDT_UUID;
		buf[21] = 16;
		memcpy(buf + 24, ns->uuid, 16);
		ns_put(ns);
		break;
	default:
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	send_data_done(c, sqe, buf, 4096);
}

/* ---- log pages ---------------------------------------------------------- */

#define TGT_LOG_MAX \
	MAX(4096u, sizeof(struct nvme_ana_log_hdr) + \
			   TGT_ANA_GROUPS * sizeof(struct nvme_ana_group_desc) + \
			   4u * TGT_MAX_NSID)

static void put_u128(uint8_t *p, uint64_t v)
{
	memset(p, 0, 16);
	le64_put(p, v);
}

static size_t log_smart(struct tgt_conn *c, uint8_t *buf)
{
	struct nvme_smart_log *l = (void *)buf;
	struct tgt_subsys *s = c->ctrl->subsys;
	struct tgt_stats st, one;
	struct tgt_ctrl *ctrl;
	uint64_t errs;

	/* The subsystem's I/O since the start, of every association (a host
	 * that connects to read this log has done none of it itself). */
	pthread_mutex_lock(&g.lock);
	st = s->ended;
	for (ctrl = g.ctrls; ctrl; ctrl = ctrl->next)
		if (ctrl->subsys == s) {
			ctrl_stats(ctrl, &one, NULL, false);
			stats_add(&st, &one);
		}
	pthread_mutex_unlock(&g.lock);
	pthread_mutex_lock(&c->ctrl->lock);
	errs = c->ctrl->err_count;
	pthread_mutex_unlock(&c->ctrl->lock);
	le16_put((uint8_t *)l + 1, 295); /* Kelvin */
	l->avail_spare = 100;
	l->spare_thresh = 10;
	/* data units: thousands of 512-byte units, rounded up */
	put_u128(l->data_units_read, (st.rbytes / 512 + 999) / 1000);
	put_u128(l->data_units_written, (st.wbytes / 512 + 999) / 1000);
	put_u128(l->host_reads, st.reads);
	put_u128(l->host_writes, st.writes);
	put_u128(l->power_cycles, 1);
	put_u128(l->power_on_hours, (tgt_now_ms() - g.start_ms) / 3600000u);
	put_u128(l->num_err_log_entries, errs);
	return sizeof *l;
}

static size_t log_error(struct tgt_conn *c, uint8_t *buf)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	size_t n = 0;

	pthread_mutex_lock(&ctrl->lock);
	for (uint64_t i = ctrl->err_count;
	     i > 0 && n < TGT_ERRLOG_ENTRIES; i--, n++) /* newest first */
		memcpy(buf + n * 64,
		       &ctrl->errlog[(i - 1) % TGT_ERRLOG_ENTRIES], 64);
	pthread_mutex_unlock(&ctrl->lock);
	return TGT_ERRLOG_ENTRIES * 64;
}

static size_t log_fw(struct tgt_conn *c, uint8_t *buf)
{
	struct nvme_fw_slot_log *l = (void *)buf;

	l->afi = 1;
	pad_copy(l->frs[0], sizeof l->frs[0], c->ctrl->subsys->firmware);
	return sizeof *l;
}

static size_t log_changed_ns(struct tgt_conn *c, uint8_t *buf, bool rae)
{
	struct tgt_ctrl *ctrl = c->ctrl;

	pthread_mutex_lock(&ctrl->lock);
	if (ctrl->nr_changed_ns == UINT32_MAX)
		le32_put(buf, 0xffffffff);
	else
		for (uint32_t i = 0; i < ctrl->nr_changed_ns; i++)
			le32_put(buf + 4 * i, ctrl->changed_ns[i]);
	if (!rae) {
		/* Read: cleared, and the next change may send an AEN. */
		ctrl->nr_changed_ns = 0;
		ctrl->aen_masked &= ~AEN_BIT_NS;
	}
	pthread_mutex_unlock(&ctrl->lock);
	return 4096;
}

static size_t log_cmd_effects(uint8_t *buf)
{
	static const uint8_t admin_ops[] = {
		NVME_ADMIN_GET_LOG_PAGE, NVME_ADMIN_IDENTIFY, NVME_ADMIN_ABORT,
		NVME_ADMIN_SET_FEATURES, NVME_ADMIN_GET_FEATURES,
		NVME_ADMIN_ASYNC_EVENT, NVME_ADMIN_KEEP_ALIVE,
	};
	struct nvme_cmd_effects_log *l = (void *)buf;
	const uint32_t csupp = 1, lbcc = 2;

	for (size_t i = 0; i < ARRAY_SIZE(admin_ops); i++)
		l->acs[admin_ops[i]] = htole32(csupp);
	l->iocs[NVME_NVM_FLUSH] = htole32(csupp);
	l->iocs[NVME_NVM_READ] = htole32(csupp);
	l->iocs[NVME_NVM_WRITE] = htole32(csupp | lbcc);
	l->iocs[NVME_NVM_WRITE_ZEROES] = htole32(csupp | lbcc);
	l->iocs[NVME_NVM_DSM] = htole32(csupp | lbcc);
	return sizeof *l;
}

/* Discovery log entry: TREQ bits 1:0 and the TCP TSAS SECTYPE (NVMe/TCP
 * transport specification; Linux's NVMF_TREQ_*, NVMF_TCP_SECTYPE_*) */
#ifndef NVMF_TREQ_REQUIRED
#define NVMF_TREQ_REQUIRED 0x1
#define NVMF_TREQ_NOT_REQUIRED 0x2
#endif
#ifndef NVMF_TCP_SECTYPE_TLS13
#define NVMF_TCP_SECTYPE_TLS13 2
#endif

static void disc_entry(struct nvmf_disc_log_entry *e,
		       const struct tgt_listener *l, const char *nqn,
		       const struct tgt_conn *c)
{
	char addr[INET6_ADDRSTRLEN] = "";

	e->trtype = NVMF_TRTYPE_TCP;
	e->adrfam = l->family == AF_INET6 ? NVMF_ADRFAM_IPV6 : NVMF_ADRFAM_IPV4;
	e->subtype = NVMF_SUBTYPE_NVME;
	/* TREQ bits 1:0 the secure channel (0 not specified, 1 required,
	 * 2 not required); TSAS byte 0 for TCP: SECTYPE (0 none, 2 TLS 1.3) */
	e->treq = NVMF_TREQ_DISABLE_SQFLOW;
	if (l->tls != TGT_TLS_OFF) {
		e->treq |= l->tls == TGT_TLS_REQUIRED ? NVMF_TREQ_REQUIRED :
							NVMF_TREQ_NOT_REQUIRED;
		e->tsas[0] = NVMF_TCP_SECTYPE_TLS13;
	}
	e->portid = htole16((uint16_t)l->portid);
	e->cntlid = htole16(NVMF_CNTLID_DYNAMIC);
	e->asqsz = htole16(TGT_ADMIN_SQSIZE);
	snprintf(e->trsvcid, sizeof e->trsvcid, "%u", l->port);
	snprintf(e->subnqn, sizeof e->subnqn, "%s", nqn);
	if (l->wildcard) {
		/* Bound to any address: tell the host the one it used. */
		const struct sockaddr_storage *ss = &c->local;

		if (ss->ss_family == AF_INET)
			inet_ntop(AF_INET,
				  &((const struct sockaddr_in *)ss)->sin_addr,
				  addr, sizeof addr);
		else if (ss->ss_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)ss)->sin6_addr,
				  addr, sizeof addr);
		e->adrfam = ss->ss_family == AF_INET6 ? NVMF_ADRFAM_IPV6 :
							NVMF_ADRFAM_IPV4;
	}
	snprintf(e->traddr, sizeof e->traddr, "%s", addr[0] ? addr : l->addr);
}

/* Log 70h: one entry per NVM subsystem per listener (the discovery-only
 * port is not listed); allocated since its size is not bounded. */
static uint8_t *log_discovery(struct tgt_conn *c, size_t min, size_t *size)
{
	const char *hostnqn = c->ctrl->hostnqn;
	struct nvmf_disc_log_hdr *h;
	struct tgt_subsys *s;
	uint64_t n = 0, i = 0;
	uint8_t *buf;
	size_t len;

	/* A host sees the subsystems it may connect to (as nvmet does). */
	pthread_mutex_lock(&g.lock);
	for (int l = 0; l < g.nr_lsn; l++)
		if (!g.lsn[l].discovery_only && !g.lsn[l].removed)
			for (s = g.subsystems; s; s = s->next)
				n += host_allowed(s, hostnqn);
	len = (size_t)(n + 1) * 1024;
	*size = len;
	buf = conn_abuf(c, MAX(len, min));
	if (buf) {
		h = (void *)buf;
		h->genctr = htole64(atomic_load(&g.genctr));
		h->numrec = htole64(n);
		h->recfmt = 0;
		for (int l = 0; l < g.nr_lsn; l++) {
			if (g.lsn[l].discovery_only || g.lsn[l].removed)
				continue;
			for (s = g.subsystems; s; s = s->next)
				/* i < n: the list may have changed since it
				 * was counted (hosts are under s->lock) */
				if (i < n && host_allowed(s, hostnqn))
					disc_entry((void *)(buf + 1024 * ++i),
						   &g.lsn[l], s->nqn, c);
		}
		h->numrec = htole64(i);
	}
	pthread_mutex_unlock(&g.lock);
	return buf;
}

static void get_log_page(struct tgt_conn *c, const struct nvme_sqe *sqe,
			 uint32_t dlen)
{
	uint32_t cdw10 = le32toh(sqe->cdw10), cdw11 = le32toh(sqe->cdw11);
	uint8_t lid = cdw10 & 0xff;
	bool rae = cdw10 & (1u << 15);
	bool rgo = cdw10 & NVME_ANA_LSP_RGO;
	uint64_t numd = ((uint64_t)(cdw11 & 0xffff) << 16 | cdw10 >> 16) + 1;
	uint64_t len = numd * 4;
	uint64_t lpo = le32toh(sqe->cdw12) | (uint64_t)le32toh(sqe->cdw13) << 32;
	bool disc = c->ctrl->subsys->discovery;
	uint64_t max = tgt_mdts_bytes() ? tgt_mdts_bytes() : 16u << 20;
	size_t size = 0;
	uint8_t *buf;

	if (len != dlen) {
		cmd_done(c, sqe, ST_SGL_LENGTH, 0);
		return;
	}
	if (len > max || (lpo & 3)) {
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	if (disc && lid != NVME_LOG_DISCOVERY) {
		cmd_done(c, sqe, SF_CMD(NVME_SC_INVALID_LOG_PAGE) | DNR, 0);
		return;
	}
	if (lid == NVME_LOG_DISCOVERY) {
		if (!disc) {
			cmd_done(c, sqe, SF_CMD(NVME_SC_INVALID_LOG_PAGE) | DNR, 0);
			return;
		}
		/* room for the window past the end too (zero-filled) */
		buf = log_discovery(c, lpo < max ? lpo + len : len, &size);
		if (!rae) {
			pthread_mutex_lock(&c->ctrl->lock);
			c->ctrl->aen_masked &= ~AEN_BIT_DISC;
			pthread_mutex_unlock(&c->ctrl->lock);
		}
	} else {
		/* the longest page: log 0Ch with every group and NSID */
		buf = conn_abuf(c, TGT_LOG_MAX + len);
		if (buf) {
			switch (lid) {
			case NVME_LOG_ERROR:
				size = log_error(c, buf);
				break;
			case NVME_LOG_SMART:
				size = log_smart(c, buf);
				break;
			case NVME_LOG_FIRMWARE:
				size = log_fw(c, buf);
				break;
			case NVME_LOG_CHANGED_NS:
				size = log_changed_ns(c, buf, rae);
				break;
			case NVME_LOG_CMD_EFFECTS:
				size = log_cmd_effects(buf);
				break;
			case NVME_LOG_ANA:
				size = ana_log(c, buf, TGT_LOG_MAX, rgo, rae);
				break;
			default:
				cmd_done(c, sqe,
					 SF_CMD(NVME_SC_INVALID_LOG_PAGE) | DNR, 0);
				return;
			}
			if (lpo <= size) {
				/* shift the window to the start of the buffer */
				memmove(buf, buf + lpo, size - lpo);
				memset(buf + size - lpo, 0,
				       TGT_LOG_MAX + len - (size - lpo));
				lpo = 0;
			}
		}
	}
	if (!buf) {
		cmd_done(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0);
		return;
	}
	if (lpo > size) {
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	send_data_done(c, sqe, buf + lpo, (uint32_t)len);
}

/* ---- features ----------------------------------------------------------- */

static uint32_t numq_dw0(uint32_t n)
{
	return (n - 1) << 16 | (n - 1);
}

static void set_features(struct tgt_conn *c, const struct nvme_sqe *sqe)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	uint32_t cdw10 = le32toh(sqe->cdw10), cdw11 = le32toh(sqe->cdw11);
	uint8_t fid = cdw10 & 0xff;
	bool disc = ctrl->subsys->discovery;
	uint64_t res = 0;
	uint16_t st = 0;

	if (cdw10 & (1u << 31)) {
		cmd_done(c, sqe, SF_CMD(NVME_SC_FEATURE_NOT_SAVEABLE) | DNR, 0);
		return;
	}
	pthread_mutex_lock(&ctrl->lock);
	switch (fid) {
	case NVME_FEAT_NUM_QUEUES: {
		uint32_t nsqr = cdw11 & 0xffff, ncqr = cdw11 >> 16;

		if (disc || nsqr == 0xffff || ncqr == 0xffff) {
			st = ST_INVALID_FIELD;
			break;
		}
		/* Granted: min(asked, --max-io-queues), each 0's based. */
		nsqr = MIN(nsqr + 1, opts.max_io_queues);
		ncqr = MIN(ncqr + 1, opts.max_io_queues);
		ctrl->nr_ioq = MIN(nsqr, ncqr);
		res = (ncqr - 1) << 16 | (nsqr - 1);
		break;
	}
	case NVME_FEAT_ASYNC_EVENT:
		ctrl->aec = cdw11;
		break;
	case NVME_FEAT_KATO:
		ctrl->kato_ms = cdw11;
		break;
	case NVME_FEAT_VOLATILE_WC:
		if (disc)
			st = ST_INVALID_FIELD;
		/* Writes always reach the page cache; Flush always syncs. */
		break;
	case NVME_FEAT_HOST_ID:
		/* NVMe-oF: the host ID comes with Connect. */
		st = SF_GEN(NVME_SC_CMD_SEQ_ERROR) | DNR;
		break;
	default:
		st = ST_INVALID_FIELD;
		break;
	}
	pthread_mutex_unlock(&ctrl->lock);
	cmd_done(c, sqe, st, res);
}

static void get_features(struct tgt_conn *c, const struct nvme_sqe *sqe,
			 uint32_t dlen)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	uint32_t cdw10 = le32toh(sqe->cdw10), cdw11 = le32toh(sqe->cdw11);
	uint8_t fid = cdw10 & 0xff, sel = (cdw10 >> 8) & 7;
	bool disc = ctrl->subsys->discovery;
	bool known, changeable = false;
	uint64_t res = 0;

	switch (fid) {
	case NVME_FEAT_ASYNC_EVENT:
	case NVME_FEAT_KATO:
		known = changeable = true;
		break;
	case NVME_FEAT_NUM_QUEUES:
		known = changeable = !disc;
		break;
	case NVME_FEAT_ARBITRATION:
	case NVME_FEAT_POWER_MGMT:
	case NVME_FEAT_TEMP_THRESH:
	case NVME_FEAT_ERR_RECOVERY:
	case NVME_FEAT_VOLATILE_WC:
	case NVME_FEAT_IRQ_COALESCE:
	case NVME_FEAT_WRITE_ATOMIC:
	case NVME_FEAT_HOST_ID:
		known = !disc;
		break;
	default:
		known = false;
	}
	if (!known || sel > 3) {
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	if (sel == 3) { /* supported capabilities: bit 2 changeable */
		cmd_done(c, sqe, 0, changeable ? 0x4 : 0);
		return;
	}
	pthread_mutex_lock(&ctrl->lock);
	switch (fid) {
	case NVME_FEAT_ASYNC_EVENT:
		res = sel == 1 ? 0 : ctrl->aec;
		break;
	case NVME_FEAT_KATO:
		res = sel == 1 ? 0 : ctrl->kato_ms;
		break;
	case NVME_FEAT_NUM_QUEUES:
		res = numq_dw0(sel == 1 || !ctrl->nr_ioq ? opts.max_io_queues :
							   ctrl->nr_ioq);
		break;
	case NVME_FEAT_VOLATILE_WC:
		res = 1;
		break;
	case NVME_FEAT_TEMP_THRESH:
		res = 0x157; /* 70 °C in Kelvin, as nvmet */
		break;
	default:
		res = 0;
	}
	pthread_mutex_unlock(&ctrl->lock);
	if (fid == NVME_FEAT_HOST_ID) {
		/* EXHID (cdw11 bit 0): the 128-bit host identifier */
		uint8_t *buf;

		if (!(cdw11 & 1) || dlen != 16) {
			cmd_done(c, sqe, ST_INVALID_FIELD, 0);
			return;
		}
		buf = conn_abuf(c, 16);
		if (!buf) {
			cmd_done(c, sqe, SF_GEN(NVME_SC_INTERNAL), 0);
			return;
		}
		memcpy(buf, ctrl->hostid, 16);
		send_data_done(c, sqe, buf, 16);
		return;
	}
	cmd_done(c, sqe, 0, res);
}

/* ---- admin dispatch ----------------------------------------------------- */

static void async_event(struct tgt_conn *c, const struct nvme_sqe *sqe)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	bool full;

	pthread_mutex_lock(&ctrl->lock);
	full = ctrl->nr_aer >= TGT_AERL + 1;
	if (!full)
		ctrl->aer_cid[ctrl->nr_aer++] = le16toh(sqe->cid);
	pthread_mutex_unlock(&ctrl->lock);
	if (full) {
		cmd_done(c, sqe, SF_CMD(NVME_SC_AER_LIMIT) | DNR, 0);
		return;
	}
	admin_events(c);
}

void admin_cmd(struct tgt_conn *c, const struct nvme_sqe *sqe,
	       const uint8_t *data, uint32_t dlen)
{
	bool disc = c->ctrl->subsys->discovery;
	uint64_t mdts = tgt_mdts_bytes();

	(void)data;
	if (mdts && dlen > mdts) {
		cmd_done(c, sqe, ST_INVALID_FIELD, 0);
		return;
	}
	switch (sqe->opcode) {
	case NVME_ADMIN_IDENTIFY:
		identify(c, sqe, dlen);
		return;
	case NVME_ADMIN_GET_LOG_PAGE:
		get_log_page(c, sqe, dlen);
		return;
	case NVME_ADMIN_SET_FEATURES:
		set_features(c, sqe);
		return;
	case NVME_ADMIN_GET_FEATURES:
		get_features(c, sqe, dlen);
		return;
	case NVME_ADMIN_ASYNC_EVENT:
		async_event(c, sqe);
		return;
	case NVME_ADMIN_KEEP_ALIVE:
		cmd_done(c, sqe, 0, 0);
		return;
	case NVME_ADMIN_ABORT:
		if (disc)
			break;
		cmd_done(c, sqe, 0, 1); /* dw0 bit 0: command not aborted */
		return;
	}
	cmd_done(c, sqe, ST_INVALID_OPCODE, 0);
}

