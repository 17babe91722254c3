/* SPDX-License-Identifier: MIT */
/*
 * A scripted NVMe/TCP controller: see hostile_peer.h.  One thread accepts,
 * one thread per connection answers with blocking I/O (every wait is a
 * poll() of at most 100 ms that also looks at the stop flag, so hp_stop()
 * never waits long).  Commands are handled one at a time per connection,
 * as the tests issue them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

uint32_t hp_crc32c(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint32_t crc = 0xffffffffu;

	while (len--) {
		crc ^= *b++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

uint8_t hp_pattern(uint64_t off)
{
	return (uint8_t)((off * 7) ^ (off >> 12) ^ 0x5a);
}

static void msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Fire the scripted misbehaviour once: true the first time only. */
static bool trigger(struct hp *p, bool applies)
{
	bool fire = false;

	if (!applies)
		return false;
	pthread_mutex_lock(&p->lock);
	if (!p->fired)
		fire = p->fired = true;
	pthread_mutex_unlock(&p->lock);
	return fire;
}

static void mark(struct hp *p)
{
	pthread_mutex_lock(&p->lock);
	p->fired = true;
	pthread_mutex_unlock(&p->lock);
}

/* ---- bytes ---------------------------------------------------------------- */

static int wait_fd(struct hconn *c, short ev)
{
	struct pollfd pfd = { .fd = c->fd, .events = ev };

	while (!c->p->stop) {
		int n = poll(&pfd, 1, 100);

		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
	return -1;
}

static int rd(struct hconn *c, void *buf, size_t len)
{
	uint8_t *b = buf;

	while (len) {
		ssize_t n;

		if (wait_fd(c, POLLIN) < 0)
			return -1;
		n = recv(c->fd, b, len, MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static int wr(struct hconn *c, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	while (len) {
		ssize_t n;

		if (wait_fd(c, POLLOUT) < 0)
			return -1;
		n = send(c->fd, b, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One byte at a time, gap_ms apart (slowloris). */
static int wr_slow(struct hconn *c, const void *buf, size_t len, unsigned gap_ms)
{
	const uint8_t *b = buf;

	for (size_t i = 0; i < len; i++) {
		if (c->p->stop || wr(c, b + i, 1) < 0)
			return -1;
		msleep(gap_ms);
	}
	return 0;
}

/* ---- PDUs ------------------------------------------------------------- */

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

static int send_pdu(struct hconn *c, const struct tx *t)
{
	uint8_t *b;
	uint32_t hd = c->hdgst ? 4 : 0, dd = c->ddgst && t->dlen ? 4 : 0;
	uint32_t hdr_len = t->hlen + hd, pdo = 0, plen, len;
	uint8_t flags = t->flags;
	int rc;

	if (t->dlen) {
		pdo = (hdr_len + 7) / 8 * 8;
		if (t->pdo_override > 0)
			pdo = (uint32_t)t->pdo_override;
	}
	plen = t->dlen ? pdo + t->dlen + dd : hdr_len;
	len = plen;
	if (t->plen_override) {
		plen = t->plen_override;
		len = hdr_len;
	}
	if (c->hdgst)
		flags |= NVME_TCP_F_HDGST;
	if (dd)
		flags |= NVME_TCP_F_DDGST;
	b = calloc(1, len > hdr_len ? len : hdr_len);
	if (!b)
		return -1;
	b[0] = t->type;
	b[1] = flags;
	b[2] = t->hlen;
	b[3] = (uint8_t)pdo;
	le32_put(b + 4, plen);
	if (t->hlen > 8 && t->spec)
		memcpy(b + 8, t->spec, t->hlen - 8u);
	if (hd)
		le32_put(b + t->hlen, hp_crc32c(b, t->hlen) ^ t->hdgst_xor);
	if (t->dlen && !t->plen_override) {
		memcpy(b + pdo, t->data, t->dlen);
		if (dd)
			le32_put(b + pdo + t->dlen,
				 hp_crc32c(t->data, t->dlen) ^ t->ddgst_xor);
		if (t->data_flip && t->data_flip <= t->dlen)
			b[pdo + t->data_flip - 1] ^= 0x01;
	}
	if (t->collect) {
		memcpy(t->collect + *t->collect_len, b, len);
		*t->collect_len += len;
		rc = 0;
	} else if (t->slow_ms) {
		rc = wr_slow(c, b, len, t->slow_ms);
	} else {
		rc = wr(c, b, len);
	}
	free(b);
	return rc;
}

#define TX(...) (&(struct tx){ __VA_ARGS__ })

static void data_spec(uint8_t s[16], uint16_t cid, uint16_t ttag, uint32_t off,
		      uint32_t len)
{
	memset(s, 0, 16);
	le16_put(s, cid);
	le16_put(s + 2, ttag);
	le32_put(s + 4, off);
	le32_put(s + 8, len);
}

static int send_c2h(struct hconn *c, uint16_t cid, uint32_t off,
		    const uint8_t *data, uint32_t len, uint8_t flags)
{
	uint8_t s[16];

	data_spec(s, cid, 0, off, len);
	return send_pdu(c, TX(.type = NVME_TCP_C2H_DATA, .flags = flags,
			      .hlen = 24, .spec = s, .data = data, .dlen = len));
}

static void rsp_spec(struct hconn *c, uint8_t s[16], uint16_t cid,
		     uint16_t sf, uint32_t dw0, uint32_t dw1)
{
	memset(s, 0, 16);
	le32_put(s, dw0);
	le32_put(s + 4, dw1);
	c->sqhd++;
	le16_put(s + 8, c->sqhd);
	le16_put(s + 10, c->qid);
	le16_put(s + 12, cid);
	le16_put(s + 14, (uint16_t)(sf << 1));
}

static int send_rsp(struct hconn *c, uint16_t cid, uint16_t sf, uint32_t dw0,
		    uint32_t dw1)
{
	uint8_t s[16];

	rsp_spec(c, s, cid, sf, dw0, dw1);
	return send_pdu(c, TX(.type = NVME_TCP_RSP, .hlen = 24, .spec = s));
}

static int send_r2t(struct hconn *c, uint16_t cid, uint16_t ttag, uint32_t off,
		    uint32_t len)
{
	uint8_t s[16];

	data_spec(s, cid, ttag, off, len);
	return send_pdu(c, TX(.type = NVME_TCP_R2T, .hlen = 24, .spec = s));
}

/* Data to the host, then a successful completion. */
static int answer_data(struct hconn *c, uint16_t cid, const uint8_t *data,
		       uint32_t len)
{
	if (len && send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_LAST) < 0)
		return -1;
	return send_rsp(c, cid, 0, 0, 0);
}

/* A received PDU. */
struct rx {
	uint8_t *buf;
	uint8_t type, flags, hlen, pdo;
	uint32_t plen;
	const uint8_t *data;
	uint32_t dlen;
};

static int recv_pdu(struct hconn *c, struct rx *r)
{
	uint8_t h[8];
	uint32_t hd = c->hdgst ? 4 : 0, dd;

	memset(r, 0, sizeof *r);
	if (rd(c, h, 8) < 0)
		return -1;
	r->type = h[0];
	r->flags = h[1];
	r->hlen = h[2];
	r->pdo = h[3];
	r->plen = le32_get(h + 4);
	if (r->plen < 8 || r->plen > MAX_PLEN || r->hlen < 8)
		return -1;
	r->buf = malloc(r->plen);
	if (!r->buf)
		return -1;
	memcpy(r->buf, h, 8);
	if (rd(c, r->buf + 8, r->plen - 8) < 0) {
		free(r->buf);
		r->buf = NULL;
		return -1;
	}
	if (r->type == NVME_TCP_H2C_TERM)
		return 0;
	dd = c->ddgst && (r->flags & NVME_TCP_F_DDGST) ? 4 : 0;
	if (r->pdo && r->plen > r->pdo + dd) {
		r->data = r->buf + r->pdo;
		r->dlen = r->plen - r->pdo - dd;
		if (dd && hp_crc32c(r->data, r->dlen) != le32_get(r->data + r->dlen))
			fprintf(stderr, "hostile peer: the host sent a bad data digest\n");
	}
	if (hd && r->plen >= r->hlen + 4u &&
	    hp_crc32c(r->buf, r->hlen) != le32_get(r->buf + r->hlen))
		fprintf(stderr, "hostile peer: the host sent a bad header digest\n");
	return 0;
}

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
		mark(p);
	}
	if (p->mode == HP_ID_NN0) {
		le32_put(id + 516, 0);
		mark(p);
	}
	if (p->mode == HP_ID_MDTS) {
		id[77] = 255;
		mark(p);
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
	if (trigger(p, p->mode == HP_NS_FLBAS))
		id[26] = 5;
	if (trigger(p, p->mode == HP_NS_LBADS))
		id[128 + 2] = 40;
	if (trigger(p, p->mode == HP_NS_NSZE))
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
		mark(p);
	}
	if (p->mode == HP_DISC_SHORT) {
		numrec = 3; /* but only 2 entries follow */
		mark(p);
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
	}
	*lenp = len;
	return log;
}

/* ---- commands ------------------------------------------------------------ */

static int fabrics_cmd(struct hconn *c, const uint8_t *sqe, uint16_t cid,
		       const uint8_t *data, uint32_t dlen)
{
	struct hp *p = c->p;
	uint8_t fctype = sqe[4];

	if (fctype == NVMF_FCTYPE_CONNECT) {
		uint16_t cntlid;

		if (dlen < 1024)
			return send_rsp(c, cid, NVME_SC_INVALID_FIELD | 0x4000, 0, 0);
		c->qid = le16_get(sqe + 42);
		c->discovery = !strncmp((const char *)data + 256,
					NVMF_DISCOVERY_NQN, 256);
		if (trigger(p, p->mode == HP_CONNECT_SILENT))
			return 0;
		pthread_mutex_lock(&p->lock);
		cntlid = c->qid ? le16_get(data + 16) : ++p->next_cntlid;
		pthread_mutex_unlock(&p->lock);
		c->sqhd = 0;
		return send_rsp(c, cid, 0, cntlid, 0);
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
				mark(p);
			}
			if (p->cc & (3u << 14))
				v |= NVME_CSTS_SHST_CMPLT;
			break;
		}
		return send_rsp(c, cid, 0, (uint32_t)v, (uint32_t)(v >> 32));
	}
	if (fctype == NVMF_FCTYPE_PROP_SET) {
		if (le32_get(sqe + 44) == NVME_REG_CC)
			p->cc = le32_get(sqe + 48);
		return send_rsp(c, cid, 0, 0, 0);
	}
	return send_rsp(c, cid, 0, 0, 0);
}

static int admin_cmd(struct hconn *c, const uint8_t *sqe, uint16_t cid)
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
			if (trigger(p, p->mode == HP_ID_SHORT))
				return send_c2h(c, cid, 0, buf, 2048,
						NVME_TCP_F_DATA_LAST) ||
				       send_rsp(c, cid, 0, 0, 0);
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
			return send_rsp(c, cid, NVME_SC_INVALID_FIELD | 0x4000, 0, 0);
		}
		return answer_data(c, cid, buf, 4096);
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
			rc = send_c2h(c, cid, 0, out, send_len,
				      NVME_TCP_F_DATA_LAST) ||
			     send_rsp(c, cid, 0, 0, 0);
		else
			rc = send_rsp(c, cid, 0, 0, 0);
		free(out);
		return rc;
	}
	case NVME_ADMIN_SET_FEATURES:
		if ((cdw10 & 0xff) == NVME_FEAT_NUM_QUEUES)
			return send_rsp(c, cid, 0, cdw11, 0);
		return send_rsp(c, cid, 0, 0, 0);
	case NVME_ADMIN_GET_FEATURES:
		return send_rsp(c, cid, 0, 0, 0);
	case NVME_ADMIN_ASYNC_EVENT:
		return 0; /* held: no event ever */
	case NVME_ADMIN_KEEP_ALIVE:
		if (p->mode == HP_KA_SILENT) {
			mark(p);
			return 0;
		}
		return send_rsp(c, cid, 0, 0, 0);
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
		if (held && send_rsp(held, held_cid, NVME_SC_ABORT_REQ, 0, 0) < 0)
			return -1;
		return send_rsp(c, cid, 0, held ? 0 : 1, 0); /* dw0 bit 0: not aborted */
	}
	}
	return send_rsp(c, cid, NVME_SC_INVALID_OPCODE | 0x4000, 0, 0);
}

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
			return answer_data(c, cid, data, len);
	} else if (p->mode == HP_IO_SILENT_ALWAYS) {
		mark(p);
		return 0;
	} else if (!trigger(p, is_read_mode(p->mode))) {
		return answer_data(c, cid, data, len);
	}

	switch (p->mode) {
	case HP_RSP_BAD_HLEN:
		rsp_spec(c, s, cid, 0, 0, 0);
		if (send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_LAST) < 0)
			return -1;
		{
			uint8_t spec[20] = { 0 };

			memcpy(spec, s, 16);
			return send_pdu(c, TX(.type = NVME_TCP_RSP, .hlen = 28,
					      .spec = spec));
		}
	case HP_RSP_BAD_PLEN:
		if (send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_LAST) < 0)
			return -1;
		rsp_spec(c, s, cid, 0, 0, 0);
		return send_pdu(c, TX(.type = NVME_TCP_RSP, .hlen = 24, .spec = s,
				      .plen_override = 24 + (c->hdgst ? 4 : 0) + 4));
	case HP_C2H_BAD_PDO:
		data_spec(s, cid, 0, 0, len);
		return send_pdu(c, TX(.type = NVME_TCP_C2H_DATA,
				      .flags = NVME_TCP_F_DATA_LAST, .hlen = 24,
				      .spec = s, .data = data, .dlen = len,
				      .pdo_override = 20));
	case HP_C2H_HUGE_PLEN:
		data_spec(s, cid, 0, 0, len);
		return send_pdu(c, TX(.type = NVME_TCP_C2H_DATA,
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
		return wr(c, t, 152);
	}
	case HP_UNKNOWN_TYPE:
		memset(s, 0, sizeof s);
		return send_pdu(c, TX(.type = 0x0f, .hlen = 24, .spec = s));
	case HP_ICRESP_AGAIN: {
		uint8_t ic[128] = { NVME_TCP_ICRESP, 0, 128, 0, 128 };

		le32_put(ic + 12, PEER_MAXH2C);
		return wr(c, ic, sizeof ic);
	}
	case HP_H2C_FROM_CTRL:
		data_spec(s, cid, 1, 0, len);
		return send_pdu(c, TX(.type = NVME_TCP_H2C_DATA,
				      .flags = NVME_TCP_F_DATA_LAST, .hlen = 24,
				      .spec = s, .data = data, .dlen = len));
	case HP_C2H_UNKNOWN_CID:
		return answer_data(c, cid ^ 0x8000, data, len);
	case HP_C2H_BEYOND:
		big = calloc(1, len + 512);
		if (!big)
			return -1;
		memcpy(big, data, len);
		rc = send_c2h(c, cid, 0, big, len + 512, NVME_TCP_F_DATA_LAST);
		free(big);
		return rc < 0 ? rc : send_rsp(c, cid, 0, 0, 0);
	case HP_C2H_OVERLAP:
		if (send_c2h(c, cid, 0, data, len / 2, 0) < 0)
			return -1;
		return send_c2h(c, cid, len / 4, data + len / 4, len - len / 4,
				NVME_TCP_F_DATA_LAST) ||
		       send_rsp(c, cid, 0, 0, 0);
	case HP_C2H_GAP:
		if (send_c2h(c, cid, 0, data, len / 4, 0) < 0)
			return -1;
		return send_c2h(c, cid, len / 2, data + len / 2, len / 2,
				NVME_TCP_F_DATA_LAST) ||
		       send_rsp(c, cid, 0, 0, 0);
	case HP_C2H_SHORT_RSP:
		return send_c2h(c, cid, 0, data, len / 2, NVME_TCP_F_DATA_LAST) ||
		       send_rsp(c, cid, 0, 0, 0);
	case HP_C2H_SUCCESS_NOT_LAST:
		return send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_SUCCESS);
	case HP_C2H_SUCCESS_SHORT:
		return send_c2h(c, cid, 0, data, len / 2,
				NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	case HP_R2T_FOR_READ:
		return send_r2t(c, cid, 1, 0, len);
	case HP_RSP_UNKNOWN_CID:
		if (send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_LAST) < 0)
			return -1;
		return send_rsp(c, cid ^ 0x0400, 0, 0, 0);
	case HP_RSP_TWICE:
		if (answer_data(c, cid, data, len) < 0)
			return -1;
		return send_rsp(c, cid, 0, 0, 0);
	case HP_BAD_HDGST:
		if (send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_LAST) < 0)
			return -1;
		rsp_spec(c, s, cid, 0, 0, 0);
		return send_pdu(c, TX(.type = NVME_TCP_RSP, .hlen = 24, .spec = s,
				      .hdgst_xor = 0x10));
	case HP_BAD_DDGST:
	case HP_BAD_DDGST_4X:
		data_spec(s, cid, 0, 0, len);
		if (send_pdu(c, TX(.type = NVME_TCP_C2H_DATA,
				   .flags = NVME_TCP_F_DATA_LAST, .hlen = 24,
				   .spec = s, .data = data, .dlen = len,
				   .data_flip = len / 3 + 1)) < 0)
			return -1;
		return send_rsp(c, cid, 0, 0, 0);
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
		data_spec(s, cid, 0, 0, len);
		send_pdu(c, TX(.type = NVME_TCP_C2H_DATA,
			       .flags = NVME_TCP_F_DATA_LAST, .hlen = 24,
			       .spec = s, .data = data, .dlen = len,
			       .collect = all, .collect_len = &n));
		rc = wr_slow(c, all, n, 100);
		free(all);
		return rc < 0 ? rc : send_rsp(c, cid, 0, 0, 0);
	}
	default:
		return answer_data(c, cid, data, len);
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

		if (recv_pdu(c, &r) < 0)
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
		if (trigger(p, p->mode == HP_R2T_INCAPSULE))
			return send_r2t(c, cid, 1, 0, len);
		memcpy(dst, incap, incap_len < len ? incap_len : len);
		return send_rsp(c, cid, 0, 0, 0);
	}
	if (!trigger(p, is_r2t_write_mode(p->mode))) {
		/* Two R2Ts when the write is larger than MAXH2CDATA... no: one
		 * R2T for everything; the host splits by MAXH2CDATA. */
		if (send_r2t(c, cid, 7, 0, len) < 0 ||
		    recv_h2c(c, cid, dst, 0, len) < 0)
			return -1;
		return send_rsp(c, cid, 0, 0, 0);
	}
	switch (p->mode) {
	case HP_C2H_ON_WRITE:
		return send_c2h(c, cid, 0, dst, len,
				NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	case HP_R2T_BEYOND:
		return send_r2t(c, cid, 7, 0, len + 4096);
	case HP_R2T_TWO: {
		/* Both in one segment: the host sees the second while it is
		 * still serving the first. */
		uint8_t both[2 * 28];
		size_t n = 0;

		data_spec(s, cid, 7, 0, len / 2);
		send_pdu(c, TX(.type = NVME_TCP_R2T, .hlen = 24, .spec = s,
			       .collect = both, .collect_len = &n));
		data_spec(s, cid, 8, len / 2, len - len / 2);
		send_pdu(c, TX(.type = NVME_TCP_R2T, .hlen = 24, .spec = s,
			       .collect = both, .collect_len = &n));
		return wr(c, both, n);
	}
	case HP_R2T_OFFSET:
		return send_r2t(c, cid, 7, 4096, len - 4096);
	case HP_R2T_ZERO:
		return send_r2t(c, cid, 7, 0, 0);
	case HP_WRITE_PARTIAL:
		if (send_r2t(c, cid, 7, 0, len / 2) < 0 ||
		    recv_h2c(c, cid, dst, 0, len / 2) < 0)
			return -1;
		return send_rsp(c, cid, 0, 0, 0);
	default:
		return -1;
	}
}

static int io_cmd(struct hconn *c, const uint8_t *sqe, uint16_t cid,
		  const uint8_t *data, uint32_t dlen)
{
	struct hp *p = c->p;
	uint64_t slba = le32_get(sqe + 40) | (uint64_t)le32_get(sqe + 44) << 32;
	uint32_t nlb = (le32_get(sqe + 48) & 0xffff) + 1;
	uint32_t nsid = le32_get(sqe + 4);
	uint8_t op = sqe[0];

	if (op != NVME_NVM_READ && op != NVME_NVM_WRITE)
		return send_rsp(c, cid, 0, 0, 0);
	pthread_mutex_lock(&p->lock);
	p->io_cmds++;
	pthread_mutex_unlock(&p->lock);
	if (nsid != 1)
		return send_rsp(c, cid, NVME_SC_INVALID_NS | 0x4000, 0, 0);
	if (slba + nlb > HP_NLBA)
		return send_rsp(c, cid, NVME_SC_LBA_RANGE | 0x4000, 0, 0);
	if (op == NVME_NVM_READ)
		return read_cmd(c, cid, p->ram + slba * HP_LBA, nlb * HP_LBA);
	return write_cmd(c, cid, p->ram + slba * HP_LBA, nlb * HP_LBA, data,
			 dlen);
}

/* ---- a connection ------------------------------------------------------ */

static int ic(struct hconn *c)
{
	struct hp *p = c->p;
	uint8_t req[128], resp[128] = { NVME_TCP_ICRESP, 0, 128, 0, 128 };
	uint8_t dgst;

	if (rd(c, req, sizeof req) < 0 || req[0] != NVME_TCP_ICREQ)
		return -1;
	dgst = req[11] & 3;
	resp[10] = PEER_CPDA;
	le32_put(resp + 12, PEER_MAXH2C);
	switch (trigger(p, p->mode >= HP_IC_PFV && p->mode <= HP_IC_TERM) ?
		p->mode : HP_NONE) {
	case HP_IC_PFV:
		le16_put(resp + 8, 1);
		break;
	case HP_IC_MAXH2C:
		le32_put(resp + 12, 2048);
		break;
	case HP_IC_CPDA:
		resp[10] = 32;
		break;
	case HP_IC_DGST:
		dgst = 3;
		break;
	case HP_IC_SILENT:
		while (!p->stop)
			msleep(20);
		return -1;
	case HP_IC_SLOW:
		resp[11] = dgst;
		wr_slow(c, resp, sizeof resp, 300);
		return -1;
	case HP_IC_TERM: {
		uint8_t t[24] = { NVME_TCP_C2H_TERM, 0, 24, 0, 24 };

		le16_put(t + 8, NVME_TCP_FES_UNSUPPORTED);
		wr(c, t, sizeof t);
		return -1;
	}
	default:
		break;
	}
	resp[11] = dgst;
	c->hdgst = dgst & 1;
	c->ddgst = dgst & 2;
	return wr(c, resp, sizeof resp);
}

static void *conn_thread(void *arg)
{
	struct hconn *c = arg;
	struct hp *p = c->p;

	if (ic(c) < 0)
		goto out;
	while (!p->stop) {
		struct rx r;
		const uint8_t *sqe;
		uint16_t cid;
		int rc;

		if (recv_pdu(c, &r) < 0)
			break;
		if (r.type != NVME_TCP_CMD || r.plen < 72) {
			/* H2CTermReq (the host gave up on us) or out of
			 * step: this connection is over. */
			free(r.buf);
			break;
		}
		sqe = r.buf + 8;
		cid = le16_get(sqe + 2);
		if (sqe[0] == NVME_FABRICS_COMMAND)
			rc = fabrics_cmd(c, sqe, cid, r.data, r.dlen);
		else if (c->qid == 0)
			rc = admin_cmd(c, sqe, cid);
		else
			rc = io_cmd(c, sqe, cid, r.data, r.dlen);
		free(r.buf);
		if (rc < 0)
			break;
	}
out:
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

static void *listen_thread(void *arg)
{
	struct hp *p = arg;
	struct pollfd pfd = { .fd = p->lfd, .events = POLLIN };

	while (!p->stop) {
		struct hconn *c;
		int fd, one = 1;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		fd = accept(p->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c = calloc(1, sizeof *c);
		pthread_mutex_lock(&p->lock);
		if (!c || p->nconns == MAX_CONNS) {
			pthread_mutex_unlock(&p->lock);
			free(c);
			close(fd);
			continue;
		}
		c->p = p;
		c->fd = fd;
		if (pthread_create(&c->thread, NULL, conn_thread, c)) {
			pthread_mutex_unlock(&p->lock);
			free(c);
			close(fd);
			continue;
		}
		p->conns[p->nconns++] = c;
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

struct hp *hp_start(enum hp_mode mode)
{
	struct hp *p = calloc(1, sizeof *p);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;

	if (!p)
		return NULL;
	p->mode = mode;
	p->genctr = 1;
	pthread_mutex_init(&p->lock, NULL);
	p->ram = malloc((size_t)HP_NLBA * HP_LBA);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!p->ram || p->lfd < 0 ||
	    bind(p->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(p->lfd, 16) < 0 ||
	    getsockname(p->lfd, (struct sockaddr *)&sa, &sl) < 0)
		goto fail;
	for (uint64_t i = 0; i < (uint64_t)HP_NLBA * HP_LBA; i++)
		p->ram[i] = hp_pattern(i);
	snprintf(p->port, sizeof p->port, "%u", ntohs(sa.sin_port));
	if (pthread_create(&p->thread, NULL, listen_thread, p))
		goto fail;
	return p;
fail:
	if (p->lfd >= 0)
		close(p->lfd);
	free(p->ram);
	free(p);
	return NULL;
}

void hp_stop(struct hp *p)
{
	if (!p)
		return;
	p->stop = true;
	pthread_join(p->thread, NULL);
	for (int i = 0; i < p->nconns; i++) {
		shutdown(p->conns[i]->fd, SHUT_RDWR);
		pthread_join(p->conns[i]->thread, NULL);
		close(p->conns[i]->fd);
		free(p->conns[i]);
	}
	close(p->lfd);
	pthread_mutex_destroy(&p->lock);
	free(p->ram);
	free(p);
}

const char *hp_port(struct hp *p)
{
	return p->port;
}

bool hp_fired(struct hp *p)
{
	bool f;

	pthread_mutex_lock(&p->lock);
	f = p->fired;
	pthread_mutex_unlock(&p->lock);
	return f;
}

unsigned hp_io_cmds(struct hp *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->io_cmds;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void hp_ns_read(struct hp *p, uint64_t off, void *buf, uint32_t len)
{
	pthread_mutex_lock(&p->lock);
	memcpy(buf, p->ram + off, len);
	pthread_mutex_unlock(&p->lock);
}
