/* SPDX-License-Identifier: MIT */
/*
 * DH-HMAC-CHAP against a hostile controller, on the wire: a scripted
 * NVMe/TCP controller here (its own encoders; it shares nothing with lib/
 * but the DH helpers it needs to make a p - 1) answers ICReq and Connect
 * with AUTHREQ.ATR, then misbehaves in one way during the authentication.
 * libnvmeof must fail the connect with a clear message, send Failure2 with
 * the right explanation where the protocol asks for one, never crash,
 * never hang.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "nvmeof.h"

#define SUBNQN "nqn.2026-11.org.example:hostile-auth"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-0000000000d1"
#define KEY "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"

enum mode {
	M_OK,           /* a good challenge and Success1: the connect goes on */
	M_HL,           /* challenge: hash length 48 for SHA-256 */
	M_HASH,         /* challenge: hash 9 */
	M_GROUP,        /* challenge: DH group 9 */
	M_DH0,          /* challenge: ffdhe2048 value 0 */
	M_DH1,          /* ... 1 */
	M_DHPM1,        /* ... p - 1 */
	M_DHLEN,        /* DHVLEN 65535: beyond what was sent */
	M_FAILURE1,     /* Failure1 in place of the challenge */
	M_ORDER,        /* Success1 in place of the challenge */
	M_TID,          /* challenge with another T_ID */
	M_WRONG_R2,     /* bidirectional: Success1 with a wrong R2 */
	M_SILENT,       /* the Auth Receive for the challenge is never answered */
	M_CLOSE,        /* the connection closes instead of the challenge */
	M_SEND_ERR,     /* Auth Send (Negotiate) fails with an NVMe status */
};

struct ctl {
	enum mode mode;
	int lfd;
	uint16_t port;
	pthread_t t;
	/* what the host sent */
	uint8_t failure2[8];
	bool got_failure2, got_reply, got_success2;
};

static int rd(int fd, void *b, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)b + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void wr(int fd, const void *b, size_t n)
{
	if (write(fd, b, n) != (ssize_t)n)
		return;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

static void resp(int fd, uint16_t cid, uint32_t dw0, uint16_t status)
{
	uint8_t b[24] = { 0x05, 0, 24, 0 };

	put32(b + 4, 24);
	put32(b + 8, dw0);
	put16(b + 20, cid);
	put16(b + 22, (uint16_t)(status << 1));
	wr(fd, b, sizeof b);
}

static void c2h(int fd, uint16_t cid, const uint8_t *data, uint32_t len)
{
	uint8_t h[24] = { 0x07, 0x04 /* LAST_PDU */, 24, 24 };

	put32(h + 4, 24 + len);
	put16(h + 8, cid);
	put32(h + 12, 0);
	put32(h + 16, len);
	wr(fd, h, sizeof h);
	wr(fd, data, len);
}

/* The ffdhe2048 prime, for p - 1. */
static void ffdhe2048_p_minus_1(uint8_t *out)
{
	uint8_t pub[256];
	void *priv;
	BIGNUM *p = NULL;

	cr_assert_eq(dhchap_dh_keygen(DHCHAP_FFDHE2048, &priv, pub, sizeof pub), 256);
	cr_assert(EVP_PKEY_get_bn_param(priv, OSSL_PKEY_PARAM_FFC_P, &p) > 0);
	BN_sub_word(p, 1);
	BN_bn2binpad(p, out, 256);
	BN_free(p);
	dhchap_dh_free(priv);
}

/* The message the controller sends for its step-th Auth Receive (0: the
 * challenge, 1: Success1); returns its length. */
static size_t script(struct ctl *c, int step, uint16_t tid, uint8_t *m)
{
	static uint8_t dhv[256], cval[64];
	struct dhchap_challenge ch = { .tid = tid, .hl = 32, .hash_id = 1, .dh_id = 0,
				       .seqnum = 77, .c = cval };

	memset(cval, 0x33, sizeof cval);
	if (step == 1) {
		uint8_t r2[32];
		memset(r2, 0x44, sizeof r2);
		struct dhchap_success1 s = { .tid = tid, .hl = 32, .rvalid = c->mode == M_WRONG_R2,
					     .r2 = r2 };
		return (size_t)dhchap_success1_encode(m, 4096, &s);
	}
	switch (c->mode) {
	case M_HL: ch.hl = 48; break;
	case M_HASH: ch.hash_id = 9; break;
	case M_GROUP: ch.dh_id = 9; break;
	case M_DH0: case M_DH1: case M_DHPM1:
		ch.dh_id = DHCHAP_FFDHE2048;
		ch.dhvlen = 256;
		memset(dhv, 0, sizeof dhv);
		if (c->mode == M_DH1)
			dhv[255] = 1;
		if (c->mode == M_DHPM1)
			ffdhe2048_p_minus_1(dhv);
		ch.dhv = dhv;
		break;
	case M_DHLEN: {
		size_t n = (size_t)dhchap_challenge_encode(m, 4096, &ch);
		put16(m + 10, 0xffff);
		m[9] = DHCHAP_FFDHE2048;
		return n;
	}
	case M_FAILURE1:
		return (size_t)dhchap_failure_encode(m, 4096, DHCHAP_MSG_FAILURE1, tid,
						     DHCHAP_FAIL_HASH);
	case M_ORDER: {
		struct dhchap_success1 s = { .tid = tid, .hl = 32 };
		return (size_t)dhchap_success1_encode(m, 4096, &s);
	}
	case M_TID: ch.tid = (uint16_t)(tid + 1); break;
	default: break;
	}
	return (size_t)dhchap_challenge_encode(m, 4096, &ch);
}

static void *serve(void *arg)
{
	struct ctl *c = arg;
	static uint8_t b[16384], m[4096];
	int fd, recv_step = 0;
	uint16_t tid = 0;

	fd = accept(c->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	/* ICReq -> ICResp */
	if (rd(fd, b, 128) < 0 || b[0] != 0x00)
		goto out;
	memset(m, 0, 128);
	m[0] = 0x01;
	m[2] = 128;
	put32(m + 4, 128);
	put32(m + 12, 131072); /* MAXH2CDATA */
	wr(fd, m, 128);
	for (;;) {
		uint32_t plen, hlen;
		uint8_t *sqe = b + 8;

		if (rd(fd, b, 8) < 0)
			break;
		hlen = b[2];
		plen = get32(b + 4);
		if (b[0] != 0x04 || plen > sizeof b || plen < 8 || hlen != 72)
			break;
		if (rd(fd, b + 8, plen - 8) < 0)
			break;
		uint16_t cid = get16(sqe + 2);
		uint8_t fctype = sqe[4];
		const uint8_t *data = b + 72;
		uint32_t dlen = plen - 72;

		if (sqe[0] != 0x7f) { /* not Fabrics: past authentication */
			break;
		}
		if (fctype == 0x01) { /* Connect */
			resp(fd, cid, 1 | DHCHAP_CONNECT_ATR, 0);
		} else if (fctype == 0x05) { /* Auth Send */
			if (dlen >= 6)
				tid = get16(data + 4);
			if (dlen >= 2 && data[1] == DHCHAP_MSG_FAILURE2 && dlen >= 8) {
				memcpy(c->failure2, data, 8);
				c->got_failure2 = true;
			} else if (dlen >= 2 && data[1] == DHCHAP_MSG_REPLY) {
				c->got_reply = true;
			} else if (dlen >= 2 && data[1] == DHCHAP_MSG_SUCCESS2) {
				c->got_success2 = true;
			}
			if (c->mode == M_SEND_ERR)
				resp(fd, cid, 0, 0x0002 /* Invalid Field */);
			else
				resp(fd, cid, 0, 0);
		} else if (fctype == 0x06) { /* Auth Receive */
			uint32_t al = get32(sqe + 44);
			size_t n;

			if (recv_step == 0 && c->mode == M_SILENT) {
				struct pollfd p = { .fd = fd, .events = POLLIN };
				while (poll(&p, 1, -1) > 0 && read(fd, b, sizeof b) > 0)
					;
				break;
			}
			if (recv_step == 0 && c->mode == M_CLOSE)
				break;
			memset(m, 0, sizeof m);
			n = script(c, recv_step++, tid, m);
			/* Auth Receive fills the allocation length, as nvmet. */
			(void)n;
			c2h(fd, cid, m, al < sizeof m ? al : (uint32_t)sizeof m);
			resp(fd, cid, 0, 0);
		} else {
			break;
		}
	}
out:
	close(fd);
	return NULL;
}

static struct ctl *start(enum mode mode)
{
	struct ctl *c = calloc(1, sizeof *c);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;

	cr_assert_not_null(c);
	c->mode = mode;
	c->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(c->lfd, 0);
	cr_assert_eq(bind(c->lfd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(c->lfd, 4), 0);
	cr_assert_eq(getsockname(c->lfd, (struct sockaddr *)&a, &al), 0);
	c->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&c->t, NULL, serve, c), 0);
	return c;
}

static void stop(struct ctl *c)
{
	shutdown(c->lfd, SHUT_RDWR);
	pthread_join(c->t, NULL);
	close(c->lfd);
}

/* Connect (one attempt) and return its result; the message stays in
 * nvmeof_get_error(). */
static int try_connect(struct ctl *c, bool bidi)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *ctrl = NULL;
	char port[8];
	int rc;

	snprintf(port, sizeof port, "%u", c->port);
	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = port;
	o.subnqn = SUBNQN;
	o.hostnqn = HOSTNQN;
	o.nr_io_queues = 0;
	o.connect_timeout_ms = 2000;
	o.dhchap_secret = KEY;
	if (bidi)
		o.dhchap_ctrl_secret = KEY;
	rc = nvmeof_connect(&o, &ctrl);
	if (rc == 0)
		nvmeof_disconnect(ctrl);
	return rc;
}

static void expect_fail(enum mode mode, bool bidi, const char *why, int failure2_exp)
{
	struct ctl *c = start(mode);
	int rc = try_connect(c, bidi);
	char msg[1024];

	snprintf(msg, sizeof msg, "%s", nvmeof_get_error());
	stop(c);
	cr_assert_lt(rc, 0, "connected (mode %d)", mode);
	cr_log_info("mode %d: %s", mode, msg);
	cr_expect(strstr(msg, why), "mode %d: '%s' lacks '%s'", mode, msg, why);
	if (failure2_exp >= 0) {
		cr_expect(c->got_failure2, "mode %d: no Failure2", mode);
		cr_expect_eq(c->failure2[0], 0x00);
		cr_expect_eq(c->failure2[6], 0x01);
		cr_expect_eq(c->failure2[7], failure2_exp, "mode %d: explanation %u", mode,
			     c->failure2[7]);
	} else {
		cr_expect_not(c->got_failure2, "mode %d: a Failure2 was sent", mode);
	}
	free(c);
}

Test(hostile_auth, scripted_controller_is_sane)
{
	struct ctl *c = start(M_OK);
	int rc = try_connect(c, false);
	char msg[1024];

	snprintf(msg, sizeof msg, "%s", nvmeof_get_error());
	stop(c);
	/* Authentication passed; the controller then leaves at Property Get. */
	cr_assert_lt(rc, 0);
	cr_expect(c->got_reply);
	cr_expect_not(c->got_failure2, "%s", msg);
	cr_expect(strstr(msg, "Property Get CAP"), "%s", msg);
	free(c);
}

Test(hostile_auth, bad_challenges)
{
	expect_fail(M_HL, false, "hash length 48, sha256's is 32", DHCHAP_FAIL_HASH);
	expect_fail(M_HASH, false, "unknown hash function 9", DHCHAP_FAIL_HASH);
	expect_fail(M_GROUP, false, "unknown DH group 9", DHCHAP_FAIL_DHGROUP);
	expect_fail(M_DHLEN, false, "DH value of 65535 bytes", DHCHAP_FAIL_PAYLOAD);
	expect_fail(M_TID, false, "transaction ID", DHCHAP_FAIL_MESSAGE);
	expect_fail(M_ORDER, false, "expected DH-HMAC-CHAP_Challenge, got DH-HMAC-CHAP_Success1",
		    DHCHAP_FAIL_MESSAGE);
}

Test(hostile_auth, forced_dh_values)
{
	expect_fail(M_DH0, false, "ffdhe2048 public value is 0: refused", DHCHAP_FAIL_PAYLOAD);
	expect_fail(M_DH1, false, "ffdhe2048 public value is 1: refused", DHCHAP_FAIL_PAYLOAD);
	expect_fail(M_DHPM1, false, "ffdhe2048 public value is p - 1: refused",
		    DHCHAP_FAIL_PAYLOAD);
}

Test(hostile_auth, refusals)
{
	expect_fail(M_FAILURE1, false, "rejected the host's AUTH_Negotiate (reason 01h/04h: "
		    "hash function not usable)", -1);
	expect_fail(M_WRONG_R2, true, "the controller failed our check (bidirectional): "
		    "wrong controller secret?", DHCHAP_FAIL_FAILED);
	expect_fail(M_SEND_ERR, false, "AUTH_Negotiate failed", -1);
}

Test(hostile_auth, silence_and_close, .timeout = 60)
{
	expect_fail(M_SILENT, false, "DH-HMAC-CHAP_Challenge failed", -1);
	expect_fail(M_CLOSE, false, "DH-HMAC-CHAP_Challenge failed", -1);
}
