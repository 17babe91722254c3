/* SPDX-License-Identifier: MIT */
/*
 * A raw NVMe/TCP host for the tests of nvmeof-target (tests/raw_host.h).
 */
#include "raw_host.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the target process ------------------------------------------------- */

struct raw_target T;

void start_target(const char *extra1, const char *extra2)
{
	const char *extra[] = { extra1, extra2, NULL };

	start_target_args(extra1 ? extra : NULL);
}

void start_target_args(const char *const *extra)
{
	char file[200], msg[256];
	const char *args[48] = {
		"-n", NQN, "--serial", SERIAL, "--model", MODEL,
		"--firmware", FIRMWARE,
		"--ns", "ram:16M",      /* 1 */
		"--ns", file,           /* 2 */
		"--ns", "null:1G",      /* 3 */
		"--ns", "ram:1M,ro",    /* 4 */
		"-v",
	};
	int fd, n = 17;

	for (; extra && *extra && n < 47; extra++)
		args[n++] = *extra;
	args[n] = NULL;

	if (!T.dir[0]) {
		snprintf(T.dir, sizeof T.dir, "%s/tgtraw.XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		cr_assert_not_null(mkdtemp(T.dir), "mkdtemp: %s", strerror(errno));
	}
	snprintf(file, sizeof file, "%s/ns2.img", T.dir);
	fd = open(file, O_CREAT | O_RDWR, 0600);
	cr_assert(fd >= 0 && ftruncate(fd, 8 << 20) == 0);
	close(fd);
	cr_assert_eq(tproc_start(&T.t, T.dir, args, msg, sizeof msg), 0, "%s",
		     msg);
	T.port = T.t.port;
}

/* SIGTERM; returns the exit status (0: clean) */
int stop_target(void)
{
	return tproc_stop(&T.t);
}

void cleanup_dir(void)
{
	char p[256];

	if (!T.dir[0])
		return;
	const char *names[] = { "port", "ctl", "ns2.img", "stderr", "cfg",
				"cfg.img" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof p, "%s/%s", T.dir, names[i]);
		unlink(p);
	}
	rmdir(T.dir);
	T.dir[0] = '\0';
}

void teardown(void)
{
	if (T.t.pid > 0)
		stop_target();
	cleanup_dir();
}

void setup(void)
{
	memset(&T, 0, sizeof T);
	start_target(NULL, NULL);
}

void finish(void)
{
	cr_assert_eq(stop_target(), 0, "the target did not exit cleanly");
}

/* The n-th line (0-based) of the port file. */
int port_line(int n)
{
	char p[200];
	FILE *f;
	int port = -1;

	snprintf(p, sizeof p, "%s/port", T.dir);
	f = fopen(p, "r");
	cr_assert_not_null(f);
	for (int i = 0; i <= n; i++)
		if (fscanf(f, "%d", &port) != 1)
			port = -1;
	fclose(f);
	return port;
}

/* One control-socket command; returns its whole answer. */
char *control(const char *cmd)
{
	static char buf[128 * 1024];

	cr_assert_geq(tproc_control(&T.t, cmd, buf, sizeof buf), 0,
		      "control: no answer to '%s' (got '...%s')", cmd,
		      buf + (strlen(buf) > 300 ? strlen(buf) - 300 : 0));
	return buf;
}

/* ---- a raw NVMe/TCP host ------------------------------------------------ */


void rc_send(struct rc *c, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t n = send(c->fd, b, len, MSG_NOSIGNAL);

		cr_assert(n > 0, "send: %s", strerror(errno));
		b += n;
		len -= (size_t)n;
	}
}

/* 0, or -1 if the connection closed (or timed out) first */
int rc_recv(struct rc *c, void *p, size_t len)
{
	uint8_t *b = p;

	while (len) {
		ssize_t n = recv(c->fd, b, len, 0);

		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

void rc_open(struct rc *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)T.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 5, 0 };
	int one = 1;

	memset(c, 0, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(c->fd >= 0);
	cr_assert_eq(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0,
		     "connect to 127.0.0.1:%d: %s", T.port, strerror(errno));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ICReq/ICResp; returns the ICResp for the caller to look at. */
void rc_init(struct rc *c, bool hd, bool dd, uint8_t *icresp)
{
	uint8_t buf[128];
	struct pdu_info info;
	struct pdu_error perr;

	rc_open(c);
	pdu_build_icreq(buf, 0, hd, dd, 0);
	rc_send(c, buf, sizeof buf);
	cr_assert_eq(rc_recv(c, buf, 128), 0, "no ICResp");
	cr_assert_eq(pdu_validate_hdr(buf, PDU_FROM_CTRL, NULL, &info, &perr), 0,
		     "ICResp: %s", perr.msg);
	cr_assert_eq(info.type, NVME_TCP_ICRESP);
	cr_assert_eq(pdu_check_icresp(buf, &perr), 0, "ICResp: %s", perr.msg);
	c->hdgst = buf[11] & NVME_TCP_HDGST_ENABLE;
	c->ddgst = buf[11] & NVME_TCP_DDGST_ENABLE;
	c->maxh2c = le32_get(buf + 12);
	c->rxp.hdgst = c->hdgst;
	c->rxp.ddgst = c->ddgst;
	c->rxp.rx_align = 4;
	c->rxp.max_data = 64u << 20;
	if (icresp)
		memcpy(icresp, buf, 128);
}

/* Receive one PDU; data (if any) into data[0..max).  Returns its type, or
 * -1 if the connection closed. */
int rc_pdu(struct rc *c, uint8_t *hdr, uint8_t *data, size_t max,
		  struct pdu_info *info)
{
	struct pdu_error perr;
	uint8_t pad[256], dg[4];

	if (rc_recv(c, hdr, 8) < 0)
		return -1;
	cr_assert_eq(pdu_validate_hdr(hdr, PDU_FROM_CTRL, &c->rxp, info, &perr),
		     0, "bad PDU from the target: %s", perr.msg);
	if (info->type == NVME_TCP_C2H_TERM) {
		cr_assert_eq(rc_recv(c, hdr + 8, info->plen - 8), 0);
		return info->type;
	}
	cr_assert_eq(rc_recv(c, hdr + 8, info->hdr_len - 8), 0);
	cr_assert(pdu_hdgst_ok(hdr, info), "header digest of %s",
		  pdu_type_name(info->type));
	if (info->pad_len)
		cr_assert_eq(rc_recv(c, pad, info->pad_len), 0);
	if (info->data_len) {
		cr_assert_leq(info->data_len, max, "%u bytes of data, room for %zu",
			      info->data_len, max);
		cr_assert_eq(rc_recv(c, data, info->data_len), 0);
	}
	if (info->ddgst_len) {
		cr_assert_eq(rc_recv(c, dg, 4), 0);
		cr_assert_eq(crc32c(0, data, info->data_len), le32_get(dg),
			     "data digest");
	}
	return info->type;
}


/* One command: data out in the capsule or by R2T, or data in.  Returns the
 * status field (CQE status >> 1); *res gets dwords 0 and 1. */
uint16_t rc_cmd(struct rc *c, struct nvme_sqe *sqe, enum xfer x,
		       void *data, uint32_t len, uint64_t *res)
{
	uint8_t hdr[PDU_MAX_TX_HDR + 160], dg[4];
	uint8_t *buf = data;
	uint32_t got = 0;
	size_t hl;
	struct pdu_info info;
	uint16_t cid = ++c->cid;

	sqe->cid = htole16(cid);
	sqe->flags = NVME_CMD_FLAGS_SGL;
	if (x != X_NONE) {
		sqe->dptr.type = x == X_INCAPSULE ? NVME_SGL_INCAPSULE :
						    NVME_SGL_TRANSPORT;
		sqe->dptr.length = htole32(len);
		sqe->dptr.addr = 0;
	}
	hl = pdu_build_cmd(hdr, sqe, x == X_INCAPSULE ? len : 0, c->hdgst,
			   c->ddgst, 4);
	rc_send(c, hdr, hl);
	if (x == X_INCAPSULE && len) {
		rc_send(c, data, len);
		if (c->ddgst) {
			le32_put(dg, crc32c(0, data, len));
			rc_send(c, dg, 4);
		}
	}
	for (;;) {
		static uint8_t in[1 << 20];
		int t = rc_pdu(c, hdr, in, sizeof in, &info);

		cr_assert_neq(t, -1, "connection closed waiting for command %u", cid);
		cr_assert_neq(t, NVME_TCP_C2H_TERM, "C2HTermReq (FES %u)",
			      le16_get(hdr + 8));
		if (t == NVME_TCP_R2T) {
			uint32_t o = le32_get(hdr + 12), l = le32_get(hdr + 16);

			cr_assert_eq(x, X_R2T, "R2T for a command without R2T data");
			cr_assert_eq(le16_get(hdr + 8), cid);
			cr_assert_leq((uint64_t)o + l, len);
			while (l) {
				uint32_t n = MIN(l, c->maxh2c);

				hl = pdu_build_h2c_data(hdr, cid, le16_get(hdr + 10),
							o, n, n == l, c->hdgst,
							c->ddgst, 4);
				rc_send(c, hdr, hl);
				rc_send(c, buf + o, n);
				if (c->ddgst) {
					le32_put(dg, crc32c(0, buf + o, n));
					rc_send(c, dg, 4);
				}
				o += n;
				l -= n;
			}
		} else if (t == NVME_TCP_C2H_DATA) {
			uint32_t o = le32_get(hdr + 12), l = le32_get(hdr + 16);

			cr_assert_eq(x, X_IN, "C2HData for a command without data in");
			cr_assert_eq(le16_get(hdr + 8), cid);
			cr_assert_leq((uint64_t)o + l, len, "C2HData beyond the buffer");
			cr_assert_eq(o, got, "C2HData out of order");
			memcpy(buf + o, in, l);
			got += l;
		} else if (t == NVME_TCP_RSP) {
			struct nvme_cqe cqe;

			memcpy(&cqe, hdr + 8, sizeof cqe);
			cr_assert_eq(le16toh(cqe.cid), cid);
			if (res)
				*res = le32toh(cqe.dw0) |
				       (uint64_t)le32toh(cqe.dw1) << 32;
			if (x == X_IN && !(le16toh(cqe.status) >> 1))
				cr_assert_eq(got, len, "%u of %u bytes came", got,
					     len);
			return le16toh(cqe.status) >> 1;
		} else {
			cr_assert_fail("unexpected %s", pdu_type_name(t));
		}
	}
}

uint16_t rc_connect_q(struct rc *c, const char *subnqn, uint16_t qid,
			     uint16_t cntlid, uint32_t kato, uint64_t *res)
{
	return rc_connect_host(c, subnqn, HOSTNQN, qid, cntlid, kato, res);
}

uint16_t rc_connect_host(struct rc *c, const char *subnqn,
			 const char *hostnqn, uint16_t qid, uint16_t cntlid,
			 uint32_t kato, uint64_t *res)
{
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS_COMMAND };
	struct nvmf_connect_data d;
	uint8_t *b = (uint8_t *)&sqe;

	b[NVMF_SQE_FCTYPE] = NVMF_FCTYPE_CONNECT;
	le16_put(b + NVMF_CONNECT_QID, qid);
	le16_put(b + NVMF_CONNECT_SQSIZE, 31);
	le32_put(b + NVMF_CONNECT_KATO, kato);
	memset(&d, 0, sizeof d);
	memset(d.hostid, 0x5a, 16);
	d.cntlid = htole16(cntlid);
	snprintf(d.subnqn, sizeof d.subnqn, "%s", subnqn);
	snprintf(d.hostnqn, sizeof d.hostnqn, "%s", hostnqn);
	return rc_cmd(c, &sqe, X_INCAPSULE, &d, sizeof d, res);
}

uint16_t prop(struct rc *c, bool set, uint32_t ofst, bool eight,
		     uint64_t *val)
{
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS_COMMAND };
	uint8_t *b = (uint8_t *)&sqe;

	b[NVMF_SQE_FCTYPE] = set ? NVMF_FCTYPE_PROP_SET : NVMF_FCTYPE_PROP_GET;
	b[NVMF_PROP_ATTRIB] = eight ? NVMF_PROP_SIZE_8 : NVMF_PROP_SIZE_4;
	le32_put(b + NVMF_PROP_OFST, ofst);
	if (set)
		le64_put(b + NVMF_PROP_VALUE, *val);
	return rc_cmd(c, &sqe, X_NONE, NULL, 0, set ? NULL : val);
}

void enable(struct rc *c)
{
	uint64_t v = NVME_CC_EN | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4);

	cr_assert_eq(prop(c, true, NVME_REG_CC, false, &v), 0);
	cr_assert_eq(prop(c, false, NVME_REG_CSTS, false, &v), 0);
	cr_assert_eq(v & NVME_CSTS_RDY, NVME_CSTS_RDY, "CSTS 0x%lx",
		     (unsigned long)v);
}

/* Admin queue up and the controller enabled; returns the CNTLID. */
uint16_t admin_up(struct rc *c, const char *subnqn, bool hd, bool dd,
			 uint32_t kato)
{
	uint64_t res = 0;

	rc_init(c, hd, dd, NULL);
	cr_assert_eq(rc_connect_q(c, subnqn, 0, NVMF_CNTLID_DYNAMIC, kato, &res),
		     0, "admin Connect failed");
	c->cntlid = (uint16_t)res;
	enable(c);
	return c->cntlid;
}

void io_up(struct rc *io, struct rc *admin, uint16_t qid)
{
	uint64_t res = 0;

	rc_init(io, admin->hdgst, admin->ddgst, NULL);
	cr_assert_eq(rc_connect_q(io, NQN, qid, admin->cntlid, 0, &res), 0,
		     "I/O Connect failed");
	cr_assert_eq((uint16_t)res, admin->cntlid);
}

uint16_t rw(struct rc *c, uint8_t op, uint32_t nsid, uint64_t slba,
		   uint32_t nlb, void *buf, enum xfer x)
{
	struct nvme_sqe sqe = { .opcode = op, .nsid = htole32(nsid) };

	sqe.cdw10 = htole32((uint32_t)slba);
	sqe.cdw11 = htole32((uint32_t)(slba >> 32));
	sqe.cdw12 = htole32(nlb - 1);
	return rc_cmd(c, &sqe, x, buf, nlb * BS, NULL);
}

uint16_t identify(struct rc *c, uint8_t cns, uint32_t nsid, void *buf)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_IDENTIFY,
				.nsid = htole32(nsid),
				.cdw10 = htole32(cns) };

	return rc_cmd(c, &sqe, X_IN, buf, 4096, NULL);
}

uint16_t get_log(struct rc *c, uint8_t lid, bool rae, uint64_t off,
			void *buf, uint32_t len)
{
	uint32_t numd = len / 4 - 1;
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_GET_LOG_PAGE,
		.nsid = htole32(0xffffffff),
		.cdw10 = htole32(lid | (rae ? 1u << 15 : 0) | (numd & 0xffff) << 16),
		.cdw11 = htole32(numd >> 16),
		.cdw12 = htole32((uint32_t)off),
		.cdw13 = htole32((uint32_t)(off >> 32)),
	};

	return rc_cmd(c, &sqe, X_IN, buf, len, NULL);
}

void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + seed + (i >> 12));
}

bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* A command sent by hand (no checks on what comes back). */
void raw_cmd(struct rc *c, uint8_t op, uint32_t nsid, uint16_t cid,
		    uint32_t len)
{
	struct nvme_sqe sqe = { .opcode = op, .flags = NVME_CMD_FLAGS_SGL,
				.cid = htole16(cid), .nsid = htole32(nsid) };
	uint8_t hdr[PDU_MAX_TX_HDR];
	size_t hl;

	if (len) {
		sqe.dptr.type = NVME_SGL_TRANSPORT;
		sqe.dptr.length = htole32(len);
		sqe.cdw12 = htole32(len / BS - 1);
	}
	hl = pdu_build_cmd(hdr, &sqe, 0, c->hdgst, c->ddgst, 4);
	rc_send(c, hdr, hl);
}

/* A whole PDU as it comes, unchecked; returns PLEN. */
uint32_t raw_pdu(struct rc *c, uint8_t *buf, size_t max)
{
	uint32_t plen;

	cr_assert_eq(rc_recv(c, buf, 8), 0, "connection closed");
	plen = le32_get(buf + 4);
	cr_assert(plen >= 8 && plen <= max, "PLEN %u", plen);
	cr_assert_eq(rc_recv(c, buf + 8, plen - 8), 0);
	return plen;
}

void arm(const char *fault)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "fault %s", fault);
	cr_assert_str_eq(control(cmd), "ok\n", "%s", cmd);
}

void write_cfg(const char *text)
{
	char p[200], tmp[210];
	FILE *f;

	snprintf(p, sizeof p, "%s/cfg", T.dir);
	snprintf(tmp, sizeof tmp, "%s.new", p);
	f = fopen(tmp, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(rename(tmp, p), 0);
}

