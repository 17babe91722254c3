/* SPDX-License-Identifier: MIT */
/*
 * Fuzz nvmeof-target's receive path: the bytes a host sends on one
 * connection (ICReq, CapsuleCmds, H2CData, H2CTermReq, in any order and
 * with any lengths) into a connection of a target with a RAM namespace,
 * run in-process on one end of a socketpair by its own thread
 * (conn_thread(), as for an accepted connection); the harness writes the
 * input into the other end and reads whatever comes back.
 *
 * Input: 4 bytes of settings, then the stream.
 *   byte 0 bits 1:0  --in-capsule 0, 96, 4096, 8192
 *   byte 1 bits 1:0  --max-h2c-data 4096, 8192, 65536, 131072
 *   byte 2           --mdts (byte % 7)
 *   byte 3 bits 1:0  --queue-size 32, 64, 128, 32
 *   byte 3 bit 7     I/O queue: the harness first makes an association
 *                    (CNTLID 1, enabled) on another connection; the stream
 *                    then goes to a new connection (its Connect names QID
 *                    1..8, CNTLID 1 and the harness's host NQN and ID)
 *   byte 3 bit 6     the stream is written in chunks whose sizes come from
 *                    byte 2's upper bits (to move PDU boundaries around
 *                    reads)
 * Subsystem nqn.2026-11.org.example:fuzz: NSID 1 ram:1M, NSID 2 null:1G,
 * NSID 3 ram:64K with 512-byte blocks, read-only.
 *
 * Oracles besides ASan/UBSan: the connection thread ends once the host
 * side is closed (no hang); afterwards no association is left.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "tgt_fixture.h"

#define SUBNQN "nqn.2026-11.org.example:fuzz"
#define HOSTID "f0220000-0000-4000-8000-000000000001"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:" HOSTID

static struct tgt_subsys *sub;
static const uint8_t hostid[16] = { 0xf0, 0x22, 0, 0, 0, 0, 0x40, 0, 0x80, 0,
				    0, 0, 0, 0, 0, 1 }; /* HOSTID */

static void setup(void)
{
	static const char *specs[] = { "ram:1M", "null:1G", "ram:64K,lba=512,ro" };
	char e[600];

	fuzz_tgt_init();
	if (sub)
		return;
	sub = subsys_new(SUBNQN, ORIGIN_CLI, e, sizeof e);
	FUZZ_CHECK(sub, "%s", e);
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		struct ns_spec spec;

		FUZZ_CHECK(ns_spec_parse(specs[i], true, &spec, e, sizeof e) == 0,
			   "%s", e);
		FUZZ_CHECK(subsys_ns_add(sub, &spec, NULL, e, sizeof e) == 0,
			   "%s", e);
	}
}

struct side {
	struct tgt_conn *c;
	int peer;            /* the host's end */
};

static void conn_start(struct side *s)
{
	int sv[2];

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0,
		   "socketpair: %s", strerror(errno));
	s->c = calloc(1, sizeof *s->c);
	FUZZ_CHECK(s->c, "calloc");
	s->c->fd = sv[0];
	s->c->evfd = -1;
	s->c->lsn = &g.lsn[0];
	s->c->accepted_ms = tgt_now_ms();
	snprintf(s->c->peer, sizeof s->c->peer, "fuzz");
	s->peer = sv[1];
	FUZZ_CHECK(pthread_create(&s->c->thread, NULL, conn_thread, s->c) == 0,
		   "pthread_create");
}

/* Read and drop what the target sent; false at EOF. */
static bool drain(int fd)
{
	uint8_t buf[65536];
	ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

	return n != 0 && !(n < 0 && errno != EAGAIN && errno != EINTR);
}

/* Write len bytes (in chunks of at most chunk) while reading; false once
 * the target has closed its side. */
static bool feed(int fd, const uint8_t *p, size_t len, size_t chunk)
{
	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
		ssize_t n;

		if (poll(&pfd, 1, 10000) <= 0)
			FUZZ_CHECK(0, "the target neither reads nor writes for 10 s");
		if ((pfd.revents & POLLIN) && !drain(fd))
			return false;
		if (pfd.revents & (POLLERR | POLLHUP))
			return false;
		if (!(pfd.revents & POLLOUT))
			continue;
		n = send(fd, p, MIN(len, chunk), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Close the host's side, keep reading until the thread ends; join it. */
static void conn_end(struct side *s)
{
	shutdown(s->peer, SHUT_WR);
	for (int i = 0; !atomic_load(&s->c->finished); i++) {
		struct pollfd pfd = { .fd = s->peer, .events = POLLIN };

		FUZZ_CHECK(i < 1000, "the connection thread did not end");
		if (poll(&pfd, 1, 10) > 0 && !drain(s->peer))
			usleep(1000);
	}
	pthread_join(s->c->thread, NULL);
	close(s->peer);
	close(s->c->fd);
	if (s->c->evfd >= 0)
		close(s->c->evfd);
	free(s->c);
}

static void recv_all(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR) /* a signal (libFuzzer's timers) */
			continue;
		FUZZ_CHECK(n > 0, "association setup: %s",
			   n ? strerror(errno) : "closed");
		p += n;
		len -= (size_t)n;
	}
}

/* ICReq, Connect (admin queue, CNTLID FFFFh), Property Set CC.EN. */
static void associate(struct side *a)
{
	uint8_t b[2048];
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS_COMMAND,
				.flags = NVME_CMD_FLAGS_SGL };
	struct nvmf_connect_data d = { .cntlid = htole16(0xffff) };
	uint8_t *q = (uint8_t *)&sqe;
	size_t n;

	conn_start(a);
	n = pdu_build_icreq(b, 0, false, false, 0);
	FUZZ_CHECK(feed(a->peer, b, n, n), "ICReq");
	recv_all(a->peer, b, 128);
	q[NVMF_SQE_FCTYPE] = NVMF_FCTYPE_CONNECT;
	le16_put(q + NVMF_CONNECT_SQSIZE, 31);
	sqe.cid = htole16(1);
	sqe.dptr.type = NVME_SGL_INCAPSULE;
	sqe.dptr.length = htole32(sizeof d);
	snprintf(d.subnqn, sizeof d.subnqn, "%s", SUBNQN);
	snprintf(d.hostnqn, sizeof d.hostnqn, "%s", HOSTNQN);
	memcpy(d.hostid, hostid, sizeof hostid);
	n = pdu_build_cmd(b, &sqe, sizeof d, false, false, 4);
	memcpy(b + n, &d, sizeof d);
	FUZZ_CHECK(feed(a->peer, b, n + sizeof d, n + sizeof d), "Connect");
	recv_all(a->peer, b, 24);
	FUZZ_CHECK(le16_get(b + 8 + 14) >> 1 == 0, "Connect failed");
	memset(&sqe, 0, sizeof sqe);
	sqe.opcode = NVME_FABRICS_COMMAND;
	sqe.cid = htole16(2);
	q[NVMF_SQE_FCTYPE] = NVMF_FCTYPE_PROP_SET;
	le32_put(q + NVMF_PROP_OFST, NVME_REG_CC);
	le64_put(q + NVMF_PROP_VALUE,
		 NVME_CC_EN | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4));
	n = pdu_build_cmd(b, &sqe, 0, false, false, 4);
	FUZZ_CHECK(feed(a->peer, b, n, n), "Property Set");
	recv_all(a->peer, b, 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t incap[] = { 0, 96, 4096, 8192 };
	static const uint32_t h2c[] = { 4096, 8192, 65536, 131072 };
	static const uint32_t qs[] = { 32, 64, 128, 32 };
	struct side admin = { 0 }, s;
	bool ioq;
	size_t chunk;

	if (size < 4)
		return 0;
	setup();
	opts.io_incapsule = incap[data[0] & 3];
	opts.maxh2cdata = h2c[data[1] & 3];
	opts.mdts = data[2] % 7;
	opts.queue_size = qs[data[3] & 3];
	ioq = data[3] & 0x80;
	chunk = data[3] & 0x40 ? 1 + (size_t)(data[2] >> 3) * 13 : SIZE_MAX;
	g.next_cntlid = 1;
	if (ioq)
		associate(&admin);
	conn_start(&s);
	feed(s.peer, data + 4, size - 4, chunk);
	conn_end(&s);
	if (ioq)
		conn_end(&admin);
	pthread_mutex_lock(&g.lock);
	FUZZ_CHECK(!g.ctrls, "association %u left after its connections ended",
		   g.ctrls->cntlid);
	pthread_mutex_unlock(&g.lock);
	return 0;
}
