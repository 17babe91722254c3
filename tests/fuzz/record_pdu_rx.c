/* SPDX-License-Identifier: MIT */
/*
 * Record what a real controller sends for the command table of the pdu_rx
 * fuzz harness, as a seed for it:
 *
 *   record_pdu_rx HOST PORT SUBNQN OUTFILE [hdgst] [ddgst]
 *
 * A raw NVMe/TCP host (lib/pdu.c and nothing else): admin queue, enable,
 * one I/O queue; then the harness's seven commands, with the harness's
 * command IDs (1024..1030), all sent at once; H2CData for each R2T; every
 * byte the controller sends on the I/O queue from then on is recorded,
 * until the seven completions.  OUTFILE gets the harness's 16-byte header
 * (the digests and CPDA the ICResp gave, chunks "one PDU at a time") and
 * the bytes.  tests/fuzz/record-seeds.sh runs it against nvmeof-target and
 * against Linux nvmet (tests/interop/nvmet-vm).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "internal.h"
#include "nvme_spec.h"
#include "pdu.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:5eed5eed-0000-4000-8000-000000000001"

struct conn {
	int fd;
	bool hd, dd;
	uint32_t align, maxh2c;
	uint8_t cpda;
	uint8_t *rec;   /* recording, when not NULL */
	size_t rec_len, rec_cap;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "record_pdu_rx: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void xsend(struct conn *c, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t n = send(c->fd, b, len, MSG_NOSIGNAL);

		if (n <= 0)
			die("send: %s", strerror(errno));
		b += n;
		len -= (size_t)n;
	}
}

static void xrecv(struct conn *c, void *p, size_t len)
{
	uint8_t *b = p;
	size_t want = len;

	while (len) {
		ssize_t n = recv(c->fd, b, len, 0);

		if (n <= 0)
			die("recv: %s", n ? strerror(errno) : "connection closed");
		b += n;
		len -= (size_t)n;
	}
	if (c->rec) {
		if (c->rec_len + want > c->rec_cap) {
			c->rec_cap = (c->rec_len + want) * 2;
			c->rec = realloc(c->rec, c->rec_cap);
			if (!c->rec)
				die("out of memory");
		}
		memcpy(c->rec + c->rec_len, p, want);
		c->rec_len += want;
	}
}

static void open_conn(struct conn *c, const char *host, const char *port,
		      bool hd, bool dd)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct timeval tv = { 20, 0 };
	uint8_t ic[128];
	int one = 1;

	memset(c, 0, sizeof *c);
	if (getaddrinfo(host, port, &hints, &ai))
		die("cannot resolve %s", host);
	c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect %s:%s: %s", host, port, strerror(errno));
	freeaddrinfo(ai);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	pdu_build_icreq(ic, 0, hd, dd, 0);
	xsend(c, ic, sizeof ic);
	xrecv(c, ic, sizeof ic);
	if (ic[0] != NVME_TCP_ICRESP)
		die("no ICResp (PDU type %u)", ic[0]);
	c->hd = ic[11] & NVME_TCP_HDGST_ENABLE;
	c->dd = ic[11] & NVME_TCP_DDGST_ENABLE;
	c->cpda = ic[10];
	c->align = ((uint32_t)ic[10] + 1) * 4;
	c->maxh2c = le32_get(ic + 12);
}

/* Send a capsule (data in it if incap_len). */
static void send_cmd(struct conn *c, struct nvme_sqe *sqe, const void *incap,
		     uint32_t incap_len, uint32_t xfer_len)
{
	uint8_t hdr[PDU_MAX_TX_HDR], dg[4];
	size_t n;

	sqe->flags = NVME_CMD_FLAGS_SGL;
	memset(&sqe->dptr, 0, sizeof sqe->dptr);
	sqe->dptr.type = incap_len ? NVME_SGL_INCAPSULE : NVME_SGL_TRANSPORT;
	sqe->dptr.length = htole32(incap_len ? incap_len : xfer_len);
	n = pdu_build_cmd(hdr, sqe, incap_len, c->hd, c->dd, c->align);
	xsend(c, hdr, n);
	if (incap_len) {
		xsend(c, incap, incap_len);
		if (c->dd) {
			pdu_put_digest(dg, crc32c(0, incap, incap_len));
			xsend(c, dg, 4);
		}
	}
}

/* One PDU: header in hdr (at least 24 bytes), data into data (if room). */
static void recv_pdu(struct conn *c, uint8_t *hdr, uint8_t **data,
		     uint32_t *dlen)
{
	uint32_t plen, pdo;
	uint8_t *rest;

	xrecv(c, hdr, 8);
	plen = le32_get(hdr + 4);
	if (plen < 8 || plen > (64u << 20))
		die("PLEN %u", plen);
	rest = malloc(plen);
	if (!rest)
		die("out of memory");
	memcpy(rest, hdr, 8);
	xrecv(c, rest + 8, plen - 8);
	memcpy(hdr, rest, plen < 160 ? plen : 160);
	pdo = hdr[3];
	*dlen = 0;
	if (data)
		*data = NULL;
	if (pdo && plen > pdo) {
		*dlen = plen - pdo - ((hdr[1] & NVME_TCP_F_DDGST) ? 4 : 0);
		if (data) {
			*data = malloc(*dlen ? *dlen : 1);
			memcpy(*data, rest + pdo, *dlen);
		}
	}
	free(rest);
}

/* A synchronous admin/fabrics command; returns CQE dw0, data into buf. */
static uint32_t sync_cmd(struct conn *c, struct nvme_sqe *sqe, const void *incap,
			 uint32_t incap_len, void *buf, uint32_t len)
{
	uint8_t hdr[160];

	send_cmd(c, sqe, incap, incap_len, len);
	for (;;) {
		uint8_t *d;
		uint32_t dl;

		recv_pdu(c, hdr, &d, &dl);
		if (hdr[0] == NVME_TCP_C2H_DATA && buf) {
			uint32_t off = le32_get(hdr + 12);

			if (off + dl <= len)
				memcpy((uint8_t *)buf + off, d, dl);
		}
		free(d);
		if (hdr[0] == NVME_TCP_RSP) {
			uint16_t st = le16_get(hdr + 8 + 14) >> 1;

			if (st)
				die("opcode 0x%02x failed: status 0x%x", sqe->opcode, st);
			return le32_get(hdr + 8);
		}
		if (hdr[0] != NVME_TCP_C2H_DATA)
			die("unexpected PDU type %u", hdr[0]);
	}
}

static uint16_t connect_queue(struct conn *c, const char *subnqn, uint16_t qid,
			      uint16_t cntlid)
{
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS_COMMAND };
	struct nvmf_connect_data d;
	uint8_t *b = (uint8_t *)&sqe;

	b[NVMF_SQE_FCTYPE] = NVMF_FCTYPE_CONNECT;
	sqe.cid = htole16(1);
	le16_put(b + NVMF_CONNECT_QID, qid);
	le16_put(b + NVMF_CONNECT_SQSIZE, 31);
	le32_put(b + NVMF_CONNECT_KATO, qid ? 0 : 30000);
	memset(&d, 0, sizeof d);
	memcpy(d.hostid, "\x5e\xed\x5e\xed\x00\x00\x40\x00\x80\x00\x00\x00\x00\x00\x00\x01", 16);
	d.cntlid = htole16(cntlid);
	strncpy(d.subnqn, subnqn, sizeof d.subnqn - 1);
	strncpy(d.hostnqn, HOSTNQN, sizeof d.hostnqn - 1);
	return (uint16_t)sync_cmd(c, &sqe, &d, sizeof d, NULL, 0);
}

static uint64_t prop(struct conn *c, uint32_t ofst, bool set, uint64_t v)
{
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS_COMMAND };
	uint8_t *b = (uint8_t *)&sqe;

	b[NVMF_SQE_FCTYPE] = set ? NVMF_FCTYPE_PROP_SET : NVMF_FCTYPE_PROP_GET;
	sqe.cid = htole16(2);
	le32_put(b + NVMF_PROP_OFST, ofst);
	le64_put(b + NVMF_PROP_VALUE, v);
	return sync_cmd(c, &sqe, NULL, 0, NULL, 0);
}

/* The harness's table (tests/fuzz/fuzz_pdu_rx.c). */
static const struct {
	uint8_t opcode;
	uint32_t len;
	bool write;
	uint64_t lba_byte; /* where, in bytes */
} table[] = {
	{ NVME_NVM_READ, 4096, false, 0 },
	{ NVME_NVM_READ, 65536, false, 1 << 20 },
	{ NVME_NVM_WRITE, 65536, true, 4 << 20 },
	{ NVME_NVM_WRITE, 4096, true, 5 << 20 },
	{ NVME_NVM_FLUSH, 0, false, 0 },
	{ NVME_NVM_READ, 8192, false, 4 << 20 },
	{ NVME_NVM_WRITE, 20480, true, 6 << 20 },
};
#define NCMD (sizeof table / sizeof table[0])

int main(int argc, char **argv)
{
	struct conn a, io;
	struct nvme_sqe sqe;
	uint8_t id[4096], hdr[160], out_hdr[16] = { 0 };
	uint8_t *wbuf;
	uint32_t lbads, done = 0;
	uint16_t cntlid;
	bool hd, dd;
	FILE *f;

	if (argc < 5)
		die("usage: record_pdu_rx HOST PORT SUBNQN OUTFILE [hdgst] [ddgst]");
	hd = argc > 5 && !strcmp(argv[5], "hdgst");
	dd = (argc > 5 && !strcmp(argv[argc - 1], "ddgst"));

	open_conn(&a, argv[1], argv[2], hd, dd);
	cntlid = connect_queue(&a, argv[3], 0, 0xffff);
	prop(&a, NVME_REG_CC, true, NVME_CC_EN | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4));
	for (int i = 0; !(prop(&a, NVME_REG_CSTS, false, 0) & NVME_CSTS_RDY); i++) {
		if (i > 500)
			die("CSTS.RDY never set");
		usleep(10000);
	}
	memset(&sqe, 0, sizeof sqe);
	sqe.opcode = NVME_ADMIN_SET_FEATURES;
	sqe.cid = htole16(3);
	sqe.cdw10 = htole32(NVME_FEAT_NUM_QUEUES);
	sync_cmd(&a, &sqe, NULL, 0, NULL, 0);
	memset(&sqe, 0, sizeof sqe);
	sqe.opcode = NVME_ADMIN_IDENTIFY;
	sqe.cid = htole16(4);
	sqe.nsid = htole32(1);
	sqe.cdw10 = htole32(NVME_CNS_NS);
	sync_cmd(&a, &sqe, NULL, 0, id, sizeof id);
	lbads = id[128 + 4 * nvme_id_ns_flbas_index(id[26], id[25]) + 2];
	if (lbads < 9 || lbads > 12)
		die("LBA size 2^%u", lbads);

	open_conn(&io, argv[1], argv[2], hd, dd);
	connect_queue(&io, argv[3], 1, cntlid);

	wbuf = malloc(65536);
	for (uint32_t i = 0; i < 65536; i++)
		wbuf[i] = (uint8_t)(i * 31 + 7);
	io.rec_cap = 1 << 20;
	io.rec = malloc(io.rec_cap);
	for (unsigned i = 0; i < NCMD; i++) {
		uint32_t nlb = table[i].len >> lbads;

		memset(&sqe, 0, sizeof sqe);
		sqe.opcode = table[i].opcode;
		sqe.cid = htole16((uint16_t)(1024 + i));
		sqe.nsid = htole32(1);
		if (table[i].len) {
			uint64_t slba = table[i].lba_byte >> lbads;

			sqe.cdw10 = htole32((uint32_t)slba);
			sqe.cdw11 = htole32((uint32_t)(slba >> 32));
			sqe.cdw12 = htole32(nlb - 1);
		}
		if (table[i].write && table[i].len <= 8192)
			send_cmd(&io, &sqe, wbuf, table[i].len, table[i].len);
		else
			send_cmd(&io, &sqe, NULL, 0, table[i].len);
	}
	while (done < NCMD) {
		uint32_t dl;

		recv_pdu(&io, hdr, NULL, &dl);
		if (hdr[0] == NVME_TCP_RSP) {
			done++;
		} else if (hdr[0] == NVME_TCP_C2H_DATA) {
			if (hdr[1] & NVME_TCP_F_DATA_SUCCESS)
				done++;
		} else if (hdr[0] == NVME_TCP_R2T) {
			uint16_t cid = le16_get(hdr + 8), ttag = le16_get(hdr + 10);
			uint32_t off = le32_get(hdr + 12), len = le32_get(hdr + 16);
			uint32_t end = off + len;

			while (off < end) {
				uint8_t h[PDU_MAX_TX_HDR], dg[4];
				uint32_t n = end - off < io.maxh2c ? end - off : io.maxh2c;
				size_t hl = pdu_build_h2c_data(h, cid, ttag, off, n,
							       off + n == end, io.hd,
							       io.dd, io.align);

				xsend(&io, h, hl);
				xsend(&io, wbuf + off, n);
				if (io.dd) {
					pdu_put_digest(dg, crc32c(0, wbuf + off, n));
					xsend(&io, dg, 4);
				}
				off += n;
			}
		} else {
			die("unexpected PDU type %u", hdr[0]);
		}
	}
	out_hdr[0] = (uint8_t)((io.hd ? 1 : 0) | (io.dd ? 2 : 0));
	out_hdr[1] = io.cpda;
	out_hdr[2] = io.maxh2c >= 131072 ? 31 : (uint8_t)(io.maxh2c / 4096 - 1);
	f = fopen(argv[4], "wb");
	if (!f || fwrite(out_hdr, 1, 16, f) != 16 ||
	    fwrite(io.rec, 1, io.rec_len, f) != io.rec_len || fclose(f))
		die("%s: %s", argv[4], strerror(errno));
	printf("%s: %zu bytes from %s:%s (hdgst %d ddgst %d CPDA %u MAXH2CDATA %u)\n",
	       argv[4], io.rec_len + 16, argv[1], argv[2], io.hd, io.dd, io.cpda,
	       io.maxh2c);
	close(io.fd);
	close(a.fd);
	free(io.rec);
	free(wbuf);
	return 0;
}
