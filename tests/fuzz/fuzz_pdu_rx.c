/* SPDX-License-Identifier: MIT */
/*
 * The host's PDU receive path fed a byte stream as if from a controller:
 * the NVMe/TCP receive path and the queue (lib/tcp_pdu.c, lib/queue.c) on one end of
 * a socketpair, the fuzz input written into the other end in chunks, with a
 * table of commands in flight (reads, writes by R2T, an in-capsule write, a
 * command without data) against which every CapsuleResp, C2HData and R2T
 * is checked.  What the host sends (capsules, H2CData) is read and dropped.
 *
 * Input: a 16-byte header, then the controller's byte stream.
 *   [0]     bit 0 header digests, bit 1 data digests, bit 2 fix digests up
 *           (recompute every digest the stream's framing allows, so that
 *           inputs get past the digest checks to the handlers), bit 3
 *           rebuild the framing: the stream is read as records (HLEN bytes
 *           of header; for C2HData, DATAL bytes of data follow) and each
 *           PDU is written with PLEN, padding to PDO and both digests made
 *           right, so that mutations of the fields that matter (CIDs,
 *           offsets, lengths, flags, PDO) are not all stopped by framing;
 *           a plain capture (no digests, no padding) reads the same
 *   [1]     CPDA (0..31) the "controller" asked for (host's tx padding)
 *   [2]     MAXH2CDATA = 4096 * (1 + ([2] & 31))
 *   [3]     in-capsule limit: 8192, 0, 4096, 16384 by [3] & 3
 *   [4..11] chunk sizes, used in turn: 0 means "up to the end of the next
 *           PDU" (so a recorded session replays PDU by PDU), n means n bytes
 *   [12..15] unused (0)
 * Commands (CIDs as a fresh queue gives them, 1024 + slot):
 *   1024 read 4096, 1025 read 65536, 1026 write 65536 (R2T),
 *   1027 write 4096 (in capsule unless the limit is 0), 1028 flush,
 *   1029 read 8192, 1030 write 20480 (R2T)
 *
 * Oracles, besides ASan/UBSan (each data buffer is its own exact-size
 * allocation): every command completes exactly once by the end; a read
 * reported successful received every byte of its buffer, in order and
 * exactly once; a write reported successful was asked for all its data.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "host.h"

#define HDR 16

static const struct cmd {
	uint8_t opcode;
	enum req_dir dir;
	uint32_t len;
} table[] = {
	{ NVME_NVM_READ, REQ_TO_HOST, 4096 },
	{ NVME_NVM_READ, REQ_TO_HOST, 65536 },
	{ NVME_NVM_WRITE, REQ_TO_CTRL, 65536 },
	{ NVME_NVM_WRITE, REQ_TO_CTRL, 4096 },
	{ NVME_NVM_FLUSH, REQ_NONE, 0 },
	{ NVME_NVM_READ, REQ_TO_HOST, 8192 },
	{ NVME_NVM_WRITE, REQ_TO_CTRL, 20480 },
};
#define NCMD (sizeof table / sizeof table[0])

struct done {
	unsigned calls;
	int err;
	uint16_t status;
	uint32_t xfer, len;
	bool incapsule;
	enum req_dir dir;
};

static void on_done(struct req *r, int err, uint16_t status)
{
	struct done *d = r->arg;

	d->calls++;
	d->err = err;
	d->status = status;
	d->xfer = r->xfer;
	d->len = r->len;
	d->incapsule = r->incapsule;
	d->dir = r->dir;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

/* Recompute header and data digests where the framing says they are. */
static void fix_digests(uint8_t *s, size_t n, bool hd, bool dd)
{
	size_t off = 0;

	while (off + 8 <= n) {
		uint8_t type = s[off], flags = s[off + 1], hlen = s[off + 2];
		uint8_t pdo = s[off + 3];
		uint32_t plen = le32_get(s + off + 4);

		if (plen < 8 || plen > n - off)
			break;
		if (type == NVME_TCP_C2H_TERM || type == NVME_TCP_ICRESP) {
			off += plen;
			continue;
		}
		if (hd && hlen >= 8 && (uint32_t)hlen + 4 <= plen)
			le32_put(s + off + hlen, crc32c(0, s + off, hlen));
		if (dd && (flags & NVME_TCP_F_DDGST) && pdo && (uint32_t)pdo + 4 < plen)
			le32_put(s + off + plen - 4,
				 crc32c(0, s + off + pdo, plen - 4 - pdo));
		off += plen;
	}
}

/* Bit 3: records (header, then C2HData's DATAL bytes) into well-framed
 * PDUs.  Returns the new stream (malloc'ed), its length in *outlen. */
static uint8_t *rebuild(const uint8_t *s, size_t n, bool hd, bool dd,
			size_t *outlen)
{
	size_t ip = 0, op = 0, cap = 2 * n + 4096;
	uint8_t *o = calloc(1, cap);

	FUZZ_CHECK(o != NULL, "oom");
	while (ip + 8 <= n) {
		uint8_t type = s[ip], hlen = s[ip + 2], pdo = s[ip + 3];
		uint32_t hdr_len = hlen + (hd ? 4u : 0), datal = 0, plen;

		if (hlen < 8 || hlen > n - ip || hdr_len > 255 ||
		    op + 256 + (n - ip) + 8 > cap)
			break; /* no PDO can follow such a header */
		if (type == NVME_TCP_C2H_DATA && hlen >= 24) {
			datal = le32_get(s + ip + 16);
			if (datal > n - ip - hlen)
				datal = (uint32_t)(n - ip - hlen);
		}
		if (datal && pdo < hdr_len)
			pdo = (uint8_t)hdr_len;
		if (!datal)
			pdo = 0;
		plen = datal ? pdo + datal + (dd ? 4u : 0) : hdr_len;
		memcpy(o + op, s + ip, hlen);
		o[op + 1] = (uint8_t)((s[ip + 1] & ~3) | (hd ? NVME_TCP_F_HDGST : 0) |
				      (dd && datal ? NVME_TCP_F_DDGST : 0));
		o[op + 3] = pdo;
		le32_put(o + op + 4, plen);
		if (hd)
			le32_put(o + op + hlen, crc32c(0, o + op, hlen));
		if (datal) {
			memset(o + op + hdr_len, 0, pdo - hdr_len);
			memcpy(o + op + pdo, s + ip + hlen, datal);
			if (dd)
				le32_put(o + op + pdo + datal,
					 crc32c(0, s + ip + hlen, datal));
		}
		op += plen;
		ip += hlen + datal;
	}
	/* whatever does not parse as a record goes as it is */
	if (ip < n && op + (n - ip) <= cap) {
		memcpy(o + op, s + ip, n - ip);
		op += n - ip;
	}
	*outlen = op;
	return o;
}

/* Length of the next chunk to write at pos. */
static size_t next_chunk(const uint8_t *sizes, unsigned i, const uint8_t *s,
			 size_t pos, size_t n)
{
	size_t want = sizes[i % 8];

	if (!want) {
		/* up to the end of the next PDU, when its PLEN is sane */
		want = n - pos;
		if (n - pos >= 8) {
			uint32_t plen = le32_get(s + pos + 4);

			if (plen >= 8 && plen <= n - pos)
				want = plen;
		}
	}
	return want < n - pos ? want : n - pos;
}

static void drain(int fd)
{
	uint8_t sink[65536];

	while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0)
		;
}

static void pump(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	(void)queue_wait(q, never, NULL, 0);
	pthread_mutex_unlock(&q->lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t incap[4] = { 8192, 0, 4096, 16384 };
	struct done done[NCMD];
	uint8_t *bufs[NCMD];
	uint8_t *stream;
	size_t n, pos = 0;
	struct tcp_conn *c;
	struct queue *q;
	struct queue_opts qo = { .qid = 1, .size = 16 };
	int sv[2], big = 1 << 20;
	unsigned i, chunk = 0, spins = 0;

	if (size < HDR)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		return 0;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);

	/* The connection as ic_exchange() leaves it after an ICResp. */
	{
		struct transport *t;

		FUZZ_CHECK(transport_tcp_from_fd(sv[0], "fuzz", &t) == 0, "oom");
		FUZZ_CHECK(tcp_conn_new(t, &c) == 0, "oom");
	}
	c->hdgst = data[0] & 1;
	c->ddgst = data[0] & 2;
	c->tx_align = ((uint32_t)(data[1] & 31) + 1) * 4;
	c->maxh2cdata = 4096u * (1u + (data[2] & 31));
	c->rxp.hdgst = c->hdgst;
	c->rxp.ddgst = c->ddgst;
	c->rxp.rx_align = 4;
	c->rxp.max_data = UINT32_MAX;
	qo.max_incapsule = incap[data[3] & 3];
	FUZZ_CHECK(queue_create(c, &qo, &q) == 0, "queue_create");

	memset(done, 0, sizeof done);
	pthread_mutex_lock(&q->lock);
	for (i = 0; i < NCMD; i++) {
		struct req *r = queue_get_req(q);

		FUZZ_CHECK(r && r->cid == 1024 + i, "cid %u", r ? r->cid : 0);
		memset(&r->sqe, 0, sizeof r->sqe);
		r->sqe.opcode = table[i].opcode;
		r->sqe.nsid = htole32(1);
		bufs[i] = table[i].len ? malloc(table[i].len) : NULL;
		if (bufs[i])
			memset(bufs[i], 0x40 + (int)i, table[i].len);
		r->buf = bufs[i];
		r->len = table[i].len;
		r->dir = table[i].dir;
		r->done = on_done;
		r->arg = &done[i];
		queue_submit(q, r);
	}
	pthread_mutex_unlock(&q->lock);
	drain(sv[1]);

	n = size - HDR;
	stream = malloc(n ? n : 1);
	FUZZ_CHECK(stream != NULL, "oom");
	memcpy(stream, data + HDR, n);
	if (data[0] & 8) {
		uint8_t *r = rebuild(stream, n, c->hdgst, c->ddgst, &n);

		free(stream);
		stream = r;
	} else if (data[0] & 4) {
		fix_digests(stream, n, c->hdgst, c->ddgst);
	}

	while (pos < n && !q->dead && spins < 100000) {
		size_t want = next_chunk(data + 4, chunk++, stream, pos, n);
		ssize_t w = send(sv[1], stream + pos, want,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w > 0)
			pos += (size_t)w;
		else
			spins++;
		pump(q);
		drain(sv[1]);
	}
	/* The controller closes: whatever is still in flight fails. */
	shutdown(sv[1], SHUT_WR);
	for (i = 0; i < 8 && !q->dead; i++) {
		pump(q);
		drain(sv[1]);
	}
	if (getenv("FUZZ_DEBUG") && q->dead)
		fprintf(stderr, "queue failed: %s\n", q->dead_msg);
	pthread_mutex_lock(&q->lock);
	queue_fail(q, ECONNRESET, "end of input");
	(void)queue_wait(q, never, NULL, 0);
	pthread_mutex_unlock(&q->lock);

	for (i = 0; i < NCMD; i++) {
		struct done *d = &done[i];

		if (getenv("FUZZ_DEBUG"))
			fprintf(stderr, "command %u: err %d status 0x%x, %u of %u bytes\n",
				i, d->err, d->status, d->xfer, d->len);
		FUZZ_CHECK(d->calls == 1, "command %u completed %u times", i,
			   d->calls);
		if (d->err || d->status)
			continue;
		/* Reported good: then it is. */
		if (d->dir == REQ_TO_HOST)
			FUZZ_CHECK(d->xfer == d->len,
				   "read %u reported good with %u of %u bytes",
				   i, d->xfer, d->len);
		if (d->dir == REQ_TO_CTRL && !d->incapsule)
			FUZZ_CHECK(d->xfer == d->len,
				   "write %u reported good, %u of %u bytes asked for",
				   i, d->xfer, d->len);
	}
	FUZZ_CHECK(q->inflight == 0, "%u still in flight", q->inflight);

	queue_destroy(q); /* closes sv[0] */
	close(sv[1]);
	for (i = 0; i < NCMD; i++)
		free(bufs[i]);
	free(stream);
	return 0;
}
