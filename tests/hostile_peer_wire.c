/* SPDX-License-Identifier: MIT */
/* The hostile peer's wire: bytes in and out with the stop flag in view,
 * and PDUs built by its own encoder (with the damage a mode asks for) and
 * read by its own decoder. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile_peer_int.h"

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

int hp_rd(struct hconn *c, void *buf, size_t len)
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

int hp_wr(struct hconn *c, const void *buf, size_t len)
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
int hp_wr_slow(struct hconn *c, const void *buf, size_t len, unsigned gap_ms)
{
	const uint8_t *b = buf;

	for (size_t i = 0; i < len; i++) {
		if (c->p->stop || hp_wr(c, b + i, 1) < 0)
			return -1;
		hp_msleep(gap_ms);
	}
	return 0;
}

/* ---- PDUs ------------------------------------------------------------- */

int hp_send_pdu(struct hconn *c, const struct tx *t)
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
		rc = hp_wr_slow(c, b, len, t->slow_ms);
	} else {
		rc = hp_wr(c, b, len);
	}
	free(b);
	return rc;
}

void hp_data_spec(uint8_t s[16], uint16_t cid, uint16_t ttag, uint32_t off,
		  uint32_t len)
{
	memset(s, 0, 16);
	le16_put(s, cid);
	le16_put(s + 2, ttag);
	le32_put(s + 4, off);
	le32_put(s + 8, len);
}

int hp_send_c2h(struct hconn *c, uint16_t cid, uint32_t off,
		const uint8_t *data, uint32_t len, uint8_t flags)
{
	uint8_t s[16];

	hp_data_spec(s, cid, 0, off, len);
	return hp_send_pdu(c, TX(.type = NVME_TCP_C2H_DATA, .flags = flags,
			      .hlen = 24, .spec = s, .data = data, .dlen = len));
}

void hp_rsp_spec(struct hconn *c, uint8_t s[16], uint16_t cid,
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

int hp_send_rsp(struct hconn *c, uint16_t cid, uint16_t sf, uint32_t dw0,
		uint32_t dw1)
{
	uint8_t s[16];

	hp_rsp_spec(c, s, cid, sf, dw0, dw1);
	return hp_send_pdu(c, TX(.type = NVME_TCP_RSP, .hlen = 24, .spec = s));
}

int hp_send_r2t(struct hconn *c, uint16_t cid, uint16_t ttag, uint32_t off,
		uint32_t len)
{
	uint8_t s[16];

	hp_data_spec(s, cid, ttag, off, len);
	return hp_send_pdu(c, TX(.type = NVME_TCP_R2T, .hlen = 24, .spec = s));
}

/* Data to the host, then a successful completion. */
int hp_answer_data(struct hconn *c, uint16_t cid, const uint8_t *data,
		   uint32_t len)
{
	if (len && hp_send_c2h(c, cid, 0, data, len, NVME_TCP_F_DATA_LAST) < 0)
		return -1;
	return hp_send_rsp(c, cid, 0, 0, 0);
}

int hp_recv_pdu(struct hconn *c, struct rx *r)
{
	uint8_t h[8];
	uint32_t hd = c->hdgst ? 4 : 0, dd;

	memset(r, 0, sizeof *r);
	if (hp_rd(c, h, 8) < 0)
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
	if (hp_rd(c, r->buf + 8, r->plen - 8) < 0) {
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
