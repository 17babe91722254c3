/* SPDX-License-Identifier: MIT */
/*
 * The hostile-host suite: DH-HMAC-CHAP against nvmeof-target.  A host
 * with a secret that does not authenticate gets Authentication Required
 * for everything else; messages out of order and of wrong lengths get a
 * Failure1 (then the connection closes) or an error status: never a crash,
 * a hang or an authenticated queue.
 */
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "target_hostile.h"

#define AHOST "nqn.2014-08.org.example:hostile-auth"
/* 32 bytes 00..1f, not transformed */
#define AKEY "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"

static void start(void)
{
	/* HOSTNQN (served(), the guard) without a secret, AHOST with one */
	static const char *const extra[] = { "--allow-host", HOSTNQN,
					     "--allow-host", AHOST,
					     "--dhchap-key", AKEY, NULL };
	hostile_start(extra);
}

static void auth_sqe(struct nvme_sqe *sqe, bool send, uint32_t len)
{
	uint8_t *b = (uint8_t *)sqe;

	memset(sqe, 0, sizeof *sqe);
	sqe->opcode = NVME_FABRICS_COMMAND;
	b[NVMF_SQE_FCTYPE] = send ? NVMF_FCTYPE_AUTH_SEND : NVMF_FCTYPE_AUTH_RECV;
	b[41] = DHCHAP_SPSP0;
	b[42] = DHCHAP_SPSP1;
	b[43] = DHCHAP_SECP;
	le32_put(b + 44, len);
}

static uint16_t auth_send(struct rc *c, const void *msg, uint32_t len)
{
	struct nvme_sqe sqe;

	auth_sqe(&sqe, true, len);
	return rc_cmd(c, &sqe, X_INCAPSULE, (void *)msg, len, NULL);
}

static uint16_t auth_recv(struct rc *c, uint8_t *buf, uint32_t len)
{
	struct nvme_sqe sqe;

	auth_sqe(&sqe, false, len);
	memset(buf, 0, len);
	return rc_cmd(c, &sqe, X_IN, buf, len, NULL);
}

/* The admin queue of AHOST connected: the response asks for authentication. */
static void connect_auth(struct rc *c)
{
	uint64_t res = 0;

	rc_init(c, false, false, NULL);
	cr_assert_eq(rc_connect_host(c, NQN, AHOST, 0, 0xffff, 0, &res), 0);
	cr_expect(res & DHCHAP_CONNECT_ATR, "Connect response DW0 %#llx: no ATR",
		  (unsigned long long)res);
}

#define AUTH_REQUIRED (ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_AUTH_REQUIRED) | DNR_)

Test(hostile_auth, commands_before_authentication_and_reply_first, .timeout = 60)
{
	static uint8_t buf[4096], reply[16 + 64];
	struct rc c;
	uint64_t cap;

	start();
	connect_auth(&c);
	/* nothing but the Auth commands until authenticated */
	cr_expect_eq(prop(&c, false, NVME_REG_CAP, true, &cap), AUTH_REQUIRED);
	cr_expect_eq(identify(&c, 1, 0, buf), AUTH_REQUIRED);
	/* nothing to receive yet */
	cr_expect_eq(auth_recv(&c, buf, sizeof buf),
		     ST(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR) | DNR_);
	/* a Reply before any Negotiate: Failure1 (incorrect protocol
	 * message), then the connection closes */
	reply[0] = DHCHAP_TYPE_DHCHAP;
	reply[1] = DHCHAP_MSG_REPLY;
	reply[6] = 32;
	cr_expect_eq(auth_send(&c, reply, sizeof reply), 0);
	cr_expect_eq(auth_recv(&c, buf, sizeof buf), 0);
	cr_expect_eq(buf[0], DHCHAP_TYPE_COMMON);
	cr_expect_eq(buf[1], DHCHAP_MSG_FAILURE1);
	cr_expect_eq(buf[6], DHCHAP_REASON_FAILED);
	cr_expect_eq(buf[7], DHCHAP_FAIL_MESSAGE);
	expect_closed(&c);
	hostile_done(0, 0);
}

Test(hostile_auth, bad_lengths_and_fields, .timeout = 60)
{
	static uint8_t buf[4096], neg[DHCHAP_NEGOTIATE_LEN];
	struct nvme_sqe sqe;
	struct rc c;

	start();
	connect_auth(&c);
	memset(neg, 0, sizeof neg);
	neg[0] = DHCHAP_TYPE_COMMON;
	neg[1] = DHCHAP_MSG_NEGOTIATE;
	neg[7] = 1;
	neg[8] = DHCHAP_AUTHID;
	neg[10] = 1;           /* one hash */
	neg[11] = 1;           /* one group */
	neg[12] = DHCHAP_SHA256;
	neg[42] = DHCHAP_DH_NULL;
	/* TL says more than the data carries */
	auth_sqe(&sqe, true, sizeof neg + 100);
	cr_expect_eq(rc_cmd(&c, &sqe, X_INCAPSULE, neg, sizeof neg, NULL),
		     ST(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | DNR_);
	/* another security protocol */
	auth_sqe(&sqe, true, sizeof neg);
	((uint8_t *)&sqe)[43] = 0xea;
	cr_expect_eq(rc_cmd(&c, &sqe, X_INCAPSULE, neg, sizeof neg, NULL),
		     ST(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | DNR_);
	/* a receive buffer that cannot hold the Challenge: refused, and the
	 * queue may still go on */
	cr_expect_eq(auth_send(&c, neg, sizeof neg), 0);
	cr_expect_eq(auth_recv(&c, buf, 20),
		     ST(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | DNR_);
	cr_expect_eq(auth_recv(&c, buf, sizeof buf), 0);
	cr_expect_eq(buf[1], DHCHAP_MSG_CHALLENGE);
	cr_expect_eq(buf[6], 32);
	/* a Reply whose hash length says more than its bytes hold */
	memset(buf, 0, 16 + 32);
	buf[0] = DHCHAP_TYPE_DHCHAP;
	buf[1] = DHCHAP_MSG_REPLY;
	buf[6] = 64;
	cr_expect_eq(auth_send(&c, buf, 16 + 32), 0);
	cr_expect_eq(auth_recv(&c, buf, sizeof buf), 0);
	cr_expect_eq(buf[1], DHCHAP_MSG_FAILURE1);
	cr_expect_eq(buf[7], DHCHAP_FAIL_PAYLOAD);
	expect_closed(&c);

	/* a Negotiate cut short: Failure1 with incorrect payload */
	connect_auth(&c);
	cr_expect_eq(auth_send(&c, neg, 7), 0);
	cr_expect_eq(auth_recv(&c, buf, sizeof buf), 0);
	cr_expect_eq(buf[1], DHCHAP_MSG_FAILURE1);
	cr_expect_eq(buf[7], DHCHAP_FAIL_PAYLOAD);
	expect_closed(&c);
	hostile_done(0, 0);
}

Test(hostile_auth, silent_after_connect_is_closed, .timeout = 60)
{
	static const char *const extra[] = { "--allow-host", HOSTNQN,
					     "--allow-host", AHOST,
					     "--dhchap-key", AKEY,
					     "--login-timeout", "1", NULL };
	struct rc c;

	hostile_start(extra);
	/* the admin queue connected, then nothing: closed at the login
	 * timeout (there is no keep-alive deadline while authenticating) */
	connect_auth(&c);
	expect_closed(&c);
	hostile_done(0, 0);
}
