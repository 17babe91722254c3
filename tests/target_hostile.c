/* SPDX-License-Identifier: MIT */
/* Shared by the hostile-host suite: see tests/target_hostile.h. */
#include "target_hostile.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint8_t guard_block(uint64_t lba, size_t i)
{
	return (uint8_t)(0xa5 ^ (lba * 131) ^ (i * 7) ^ (i >> 8));
}

static void guard_range(struct rc *io, uint64_t first, uint32_t n, bool check,
			uint64_t skip_lo, uint64_t skip_n)
{
	static uint8_t buf[32 * BS];

	for (uint64_t lba = first; lba < first + n; lba += 32) {
		uint32_t nlb = (uint32_t)MIN(32, first + n - lba);

		if (!check) {
			for (uint32_t b = 0; b < nlb; b++)
				for (size_t i = 0; i < BS; i++)
					buf[b * BS + i] = guard_block(lba + b, i);
			cr_assert_eq(rw(io, NVME_NVM_WRITE, 1, lba, nlb, buf,
					X_R2T), 0, "guard write");
			continue;
		}
		cr_assert_eq(rw(io, NVME_NVM_READ, 1, lba, nlb, buf, X_IN), 0,
			     "guard read");
		for (uint32_t b = 0; b < nlb; b++) {
			if (lba + b >= skip_lo && lba + b - skip_lo < skip_n)
				continue;
			for (size_t i = 0; i < BS; i++)
				cr_assert_eq(buf[b * BS + i],
					     guard_block(lba + b, i),
					     "LBA %llu byte %zu was overwritten",
					     (unsigned long long)(lba + b), i);
		}
	}
}

void assoc_up(struct rc *a, struct rc *io)
{
	admin_up(a, NQN, false, false, 0);
	io_up(io, a, 1);
}

void hostile_start(const char *const *extra)
{
	struct rc a, io;

	memset(&T, 0, sizeof T);
	start_target_args(extra);
	assoc_up(&a, &io);
	guard_range(&io, 0, GUARD_LO, false, 0, 0);
	guard_range(&io, GUARD_HI, NS1_BLOCKS - GUARD_HI, false, 0, 0);
	close(io.fd);
	close(a.fd);
}

void guard_check(uint64_t slba, uint64_t nlb)
{
	struct rc a, io;

	assoc_up(&a, &io);
	guard_range(&io, 0, GUARD_LO, true, slba, nlb);
	guard_range(&io, GUARD_HI, NS1_BLOCKS - GUARD_HI, true, slba, nlb);
	close(io.fd);
	close(a.fd);
}

void served(void)
{
	static uint8_t w[2 * BS], r[2 * BS];
	struct rc a, io;
	static unsigned seed;

	assoc_up(&a, &io);
	fill(w, sizeof w, ++seed);
	/* between the guard regions; in the capsule and by R2T */
	cr_assert_eq(rw(&io, NVME_NVM_WRITE, 1, 200, 1, w, X_INCAPSULE), 0);
	cr_assert_eq(rw(&io, NVME_NVM_WRITE, 1, 201, 1, w + BS, X_R2T), 0);
	cr_assert_eq(rw(&io, NVME_NVM_READ, 1, 200, 2, r, X_IN), 0);
	cr_assert_arr_eq(r, w, sizeof w, "a well-behaved host's data");
	close(io.fd);
	close(a.fd);
}

void hostile_done(uint64_t slba, uint64_t nlb)
{
	served();
	guard_check(slba, nlb);
	finish();
}

void expect_closed(struct rc *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	uint8_t b[512];
	ssize_t n;

	cr_assert_eq(poll(&pfd, 1, 30000), 1, "the connection stays open");
	n = recv(c->fd, b, sizeof b, 0);
	cr_assert(n == 0 || (n < 0 && errno == ECONNRESET),
		  "expected the connection to close, got %zd bytes", n);
	close(c->fd);
	c->fd = -1;
}

uint16_t expect_term(struct rc *c)
{
	uint8_t b[512];
	uint32_t plen = raw_pdu(c, b, sizeof b);

	cr_assert_eq(b[0], NVME_TCP_C2H_TERM, "expected C2HTermReq, got %s",
		     pdu_type_name(b[0]));
	cr_assert_geq(plen, 24);
	expect_closed(c);
	return le16_get(b + 8);
}

uint16_t expect_rsp(struct rc *c, uint16_t cid)
{
	uint8_t b[512];
	struct nvme_cqe cqe;

	raw_pdu(c, b, sizeof b);
	cr_assert_eq(b[0], NVME_TCP_RSP, "expected CapsuleResp, got %s",
		     pdu_type_name(b[0]));
	memcpy(&cqe, b + 8, sizeof cqe);
	cr_assert_eq(le16toh(cqe.cid), cid);
	return le16toh(cqe.status) >> 1;
}

size_t capsule(struct rc *c, uint8_t *hdr, struct nvme_sqe *sqe, uint32_t len)
{
	sqe->flags = NVME_CMD_FLAGS_SGL;
	if (len) {
		sqe->dptr.type = NVME_SGL_INCAPSULE;
		sqe->dptr.length = htole32(len);
	}
	return pdu_build_cmd(hdr, sqe, len, c->hdgst, c->ddgst, 4);
}

void send_sqe(struct rc *c, struct nvme_sqe *sqe, const void *data,
	      uint32_t len)
{
	uint8_t hdr[PDU_MAX_TX_HDR];
	size_t hl;

	if (data) {
		hl = capsule(c, hdr, sqe, len);
		rc_send(c, hdr, hl);
		rc_send(c, data, len);
		return;
	}
	sqe->flags = NVME_CMD_FLAGS_SGL;
	if (len) {
		sqe->dptr.type = NVME_SGL_TRANSPORT;
		sqe->dptr.length = htole32(len);
	}
	hl = pdu_build_cmd(hdr, sqe, 0, c->hdgst, c->ddgst, 4);
	rc_send(c, hdr, hl);
}

uint16_t collect(struct rc *c, uint16_t cid, uint32_t max, uint32_t *got)
{
	static uint8_t b[(1u << 20) + 512];

	*got = 0;
	for (;;) {
		uint32_t plen = raw_pdu(c, b, sizeof b);

		if (b[0] == NVME_TCP_C2H_DATA) {
			uint32_t o = le32_get(b + 12), l = le32_get(b + 16);

			cr_assert_eq(le16_get(b + 8), cid);
			cr_assert_leq((uint64_t)o + l, max,
				      "C2HData %u+%u beyond the %u bytes asked for",
				      o, l, max);
			cr_assert_eq(o, *got, "C2HData out of order");
			cr_assert_eq(plen, 24 + l);
			*got += l;
			continue;
		}
		cr_assert_eq(b[0], NVME_TCP_RSP, "got %s", pdu_type_name(b[0]));
		cr_assert_eq(le16_get(b + 8 + 12), cid);
		return le16_get(b + 8 + 14) >> 1;
	}
}
