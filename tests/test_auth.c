/* SPDX-License-Identifier: MIT */
/*
 * DH-HMAC-CHAP messages and computations (lib/auth.c): every field of every
 * message at its offset (Linux include/linux/nvme.h struct nvmf_auth_*),
 * every rejection, the responses against vectors computed independently
 * (tests/data/dhchap/vectors.txt), the RFC 7919 key agreement, and the
 * host's transaction against a controller simulated here from the same
 * primitives: unidirectional, bidirectional, every hash, DH groups, wrong
 * secrets, Failure1, bad transaction IDs and messages out of order.
 */
#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "internal.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-0000000000a1"
#define SUBNQN "nqn.2026-11.org.example:linux-nvmet-auth"

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2;

	cr_assert(n <= max && strlen(s) % 2 == 0, "bad hex '%.20s...'", s);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		cr_assert(sscanf(s + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }

static bool has(const char *s)
{
	return strstr(nvmeof_get_error(), s) != NULL;
}

/* ---- Negotiate ------------------------------------------------------------------ */

Test(negotiate, host_message_every_byte)
{
	struct dhchap_host h;
	struct dhchap_key k = { .hmac = 0, .len = 32 };
	uint8_t b[DHCHAP_MSG_MAX];

	memset(b, 0xaa, sizeof b);
	cr_assert_eq(dhchap_host_init(&h, HOSTNQN, SUBNQN, &k, NULL, 0x1234), 0);
	cr_assert_eq(dhchap_host_negotiate(&h, b, sizeof b), 72);
	cr_expect_eq(b[0], 0x00);            /* AUTH-Type: common */
	cr_expect_eq(b[1], 0x00);            /* AUTH-Id: negotiate */
	cr_expect_eq(le16(b + 2), 0);
	cr_expect_eq(le16(b + 4), 0x1234);   /* T_ID */
	cr_expect_eq(b[6], 0);               /* SC_C: no secure channel */
	cr_expect_eq(b[7], 1);               /* NAPD */
	cr_expect_eq(b[8], 0x01);            /* AUTHID: DH-HMAC-CHAP */
	cr_expect_eq(b[9], 0);
	cr_expect_eq(b[10], 3);              /* HALEN */
	cr_expect_eq(b[11], 6);              /* DHLEN */
	cr_expect_eq(b[12], 1);
	cr_expect_eq(b[13], 2);
	cr_expect_eq(b[14], 3);
	for (int i = 15; i < 12 + 30; i++)
		cr_expect_eq(b[i], 0, "idlist[%d]", i - 12);
	for (int i = 0; i < 6; i++)
		cr_expect_eq(b[12 + 30 + i], i, "DH idlist[%d]", 30 + i);
	for (int i = 12 + 36; i < 72; i++)
		cr_expect_eq(b[i], 0, "byte %d", i);
	cr_expect_eq(b[72], 0xaa, "wrote past 72 bytes");
	/* Out of order: a second Negotiate, a Success1 before the Reply. */
	cr_expect_eq(dhchap_host_negotiate(&h, b, sizeof b), -EINVAL);
	cr_expect_eq(dhchap_host_success1(&h, b, sizeof b, b, sizeof b), -EINVAL);
	cr_expect(has("out of order"));
	dhchap_host_wipe(&h);
}

Test(negotiate, decode_and_rejections)
{
	struct dhchap_negotiate n = { .tid = 7, .nhash = 2, .hashes = { 3, 1 },
				      .ndh = 1, .groups = { 5 } }, d;
	uint8_t b[200];

	cr_assert_eq(dhchap_negotiate_encode(b, 71, &n), -ENOSPC);
	cr_assert_eq(dhchap_negotiate_encode(b, sizeof b, &n), 72);
	cr_assert_eq(dhchap_negotiate_decode(b, 72, &d), 0);
	cr_expect_eq(d.tid, 7);
	cr_expect_eq(d.nhash, 2);
	cr_expect_eq(d.hashes[0], 3);
	cr_expect_eq(d.hashes[1], 1);
	cr_expect_eq(d.ndh, 1);
	cr_expect_eq(d.groups[0], 5);

	cr_expect_eq(dhchap_negotiate_decode(b, 7, &d), -EPROTO);
	cr_expect_eq(dhchap_negotiate_decode(b, 71, &d), -EPROTO);
	cr_expect(has("need 72 bytes"));
	b[1] = 1;
	cr_expect_eq(dhchap_negotiate_decode(b, 72, &d), -EPROTO);
	cr_expect(has("expected AUTH_Negotiate"));
	b[1] = 0;
	b[7] = 0;
	cr_expect_eq(dhchap_negotiate_decode(b, 72, &d), -EPROTO);
	cr_expect(has("without a protocol descriptor"));
	b[7] = 1;
	b[10] = 31;
	cr_expect_eq(dhchap_negotiate_decode(b, 72, &d), -EPROTO);
	cr_expect(has("over 30"));
	b[10] = 2;
	b[8] = 2;
	cr_expect_eq(dhchap_negotiate_decode(b, 72, &d), -EPROTO);
	cr_expect(has("no DH-HMAC-CHAP descriptor"));
	n.nhash = 31;
	cr_expect_eq(dhchap_negotiate_encode(b, sizeof b, &n), -EINVAL);
}

/* ---- Challenge ------------------------------------------------------------------ */

static int mk_challenge(uint8_t *b, size_t len, uint16_t tid, uint8_t hash, uint8_t hl,
			uint8_t dh, uint16_t dhvlen, uint32_t seq)
{
	static uint8_t c[64], dhv[1100];
	const struct dhchap_challenge ch = { .tid = tid, .hl = hl, .hash_id = hash,
					     .dh_id = dh, .dhvlen = dhvlen, .seqnum = seq,
					     .c = c, .dhv = dhv };
	for (size_t i = 0; i < sizeof c; i++)
		c[i] = (uint8_t)(0x40 + i);
	for (size_t i = 0; i < sizeof dhv; i++)
		dhv[i] = (uint8_t)(i * 7 + 3);
	return dhchap_challenge_encode(b, len, &ch);
}

Test(challenge, every_field)
{
	uint8_t b[2048];
	struct dhchap_challenge c;
	uint8_t reason = 0;

	memset(b, 0xee, sizeof b);
	cr_assert_eq(mk_challenge(b, sizeof b, 0xbeef, 2, 48, 1, 256, 0x01020304), 16 + 48 + 256);
	cr_expect_eq(b[0], 0x01);
	cr_expect_eq(b[1], 0x01);
	cr_expect_eq(le16(b + 2), 0);
	cr_expect_eq(le16(b + 4), 0xbeef);
	cr_expect_eq(b[6], 48);
	cr_expect_eq(b[7], 0);
	cr_expect_eq(b[8], 2);
	cr_expect_eq(b[9], 1);
	cr_expect_eq(le16(b + 10), 256);
	cr_expect_eq(le32(b + 12), 0x01020304);
	cr_expect_eq(b[16], 0x40);
	cr_expect_eq(b[16 + 47], 0x40 + 47);
	cr_expect_eq(b[16 + 48], 3);
	cr_expect_eq(b[16 + 48 + 256], 0xee);

	/* Longer buffers (Auth Receive's allocation length) are fine. */
	cr_assert_eq(dhchap_challenge_decode(b, sizeof b, &c, &reason), 0, "%s",
		     nvmeof_get_error());
	cr_expect_eq(c.tid, 0xbeef);
	cr_expect_eq(c.hl, 48);
	cr_expect_eq(c.hash_id, 2);
	cr_expect_eq(c.dh_id, 1);
	cr_expect_eq(c.dhvlen, 256);
	cr_expect_eq(c.seqnum, 0x01020304);
	cr_expect_eq(c.c, b + 16);
	cr_expect_eq(c.dhv, b + 16 + 48);
	cr_assert_eq(dhchap_challenge_decode(b, 16 + 48 + 256, &c, &reason), 0);

	cr_assert_eq(mk_challenge(b, sizeof b, 1, 1, 32, 0, 0, 9), 48);
	cr_assert_eq(dhchap_challenge_decode(b, 48, &c, &reason), 0);
	cr_expect_null(c.dhv);
	cr_expect_eq(mk_challenge(b, 47, 1, 1, 32, 0, 0, 9), -ENOSPC);
}

static void bad_challenge(uint8_t *b, size_t len, uint8_t want_reason, const char *why)
{
	struct dhchap_challenge c;
	uint8_t reason = 0;

	cr_expect_eq(dhchap_challenge_decode(b, len, &c, &reason), -EPROTO,
		     "accepted (%s)", why);
	cr_expect_eq(reason, want_reason, "%s: reason %u", why, reason);
	cr_expect(has(why), "'%s' lacks '%s'", nvmeof_get_error(), why);
}

Test(challenge, rejections)
{
	uint8_t b[2048];

	mk_challenge(b, sizeof b, 1, 1, 32, 0, 0, 9);
	bad_challenge(b, 15, DHCHAP_FAIL_PAYLOAD, "shorter than 16");
	bad_challenge(b, 47, DHCHAP_FAIL_PAYLOAD, "hold no 32-byte challenge");
	b[0] = 0;
	bad_challenge(b, 48, DHCHAP_FAIL_MESSAGE, "expected DH-HMAC-CHAP_Challenge");
	b[0] = 1;
	b[1] = 3;
	bad_challenge(b, 48, DHCHAP_FAIL_MESSAGE, "got DH-HMAC-CHAP_Success1");
	b[1] = 1;
	b[8] = 0;
	bad_challenge(b, 48, DHCHAP_FAIL_HASH, "unknown hash function 0");
	b[8] = 4;
	bad_challenge(b, 48, DHCHAP_FAIL_HASH, "unknown hash function 4");
	b[8] = 2;
	bad_challenge(b, 48, DHCHAP_FAIL_HASH, "hash length 32, sha384's is 48");
	b[8] = 1;
	b[9] = 6;
	bad_challenge(b, 48, DHCHAP_FAIL_DHGROUP, "unknown DH group 6");
	b[9] = 0;
	b[10] = 1;
	bad_challenge(b, 48 + 1, DHCHAP_FAIL_PAYLOAD, "null DH group");
	mk_challenge(b, sizeof b, 1, 1, 32, 1, 0, 9);
	bad_challenge(b, 48, DHCHAP_FAIL_PAYLOAD, "DH value of 0 bytes for ffdhe2048");
	mk_challenge(b, sizeof b, 1, 1, 32, 1, 257, 9);
	bad_challenge(b, sizeof b, DHCHAP_FAIL_PAYLOAD, "DH value of 257 bytes");
	mk_challenge(b, sizeof b, 1, 3, 64, 5, 1024, 9);
	bad_challenge(b, 16 + 64 + 1023, DHCHAP_FAIL_PAYLOAD, "1024-byte DH value");
}

/* ---- Reply, Success1/2, Failure ------------------------------------------------ */

Test(reply, every_field)
{
	uint8_t b[2048], r1[64], c2[64], dhv[512];
	struct dhchap_reply d;
	uint8_t reason;

	for (int i = 0; i < 64; i++) {
		r1[i] = (uint8_t)(0x10 + i);
		c2[i] = (uint8_t)(0x90 + i);
	}
	memset(dhv, 0x5a, sizeof dhv);
	struct dhchap_reply r = { .tid = 0x4321, .hl = 64, .cvalid = true, .dhvlen = 512,
				  .seqnum = 0xcafef00d, .r = r1, .c2 = c2, .dhv = dhv };
	memset(b, 0xee, sizeof b);
	cr_assert_eq(dhchap_reply_encode(b, sizeof b, &r), 16 + 128 + 512);
	cr_expect_eq(b[0], 0x01);
	cr_expect_eq(b[1], 0x02);
	cr_expect_eq(le16(b + 4), 0x4321);
	cr_expect_eq(b[6], 64);
	cr_expect_eq(b[7], 0);
	cr_expect_eq(b[8], 1);
	cr_expect_eq(b[9], 0);
	cr_expect_eq(le16(b + 10), 512);
	cr_expect_eq(le32(b + 12), 0xcafef00d);
	cr_expect_eq(memcmp(b + 16, r1, 64), 0);
	cr_expect_eq(memcmp(b + 80, c2, 64), 0);
	cr_expect_eq(b[144], 0x5a);
	cr_expect_eq(b[144 + 512], 0xee);
	cr_assert_eq(dhchap_reply_decode(b, sizeof b, &d, &reason), 0);
	cr_expect_eq(d.tid, 0x4321);
	cr_expect_eq(d.hl, 64);
	cr_expect(d.cvalid);
	cr_expect_eq(d.dhvlen, 512);
	cr_expect_eq(d.seqnum, 0xcafef00d);
	cr_expect_eq(d.r, b + 16);
	cr_expect_eq(d.c2, b + 80);
	cr_expect_eq(d.dhv, b + 144);

	/* Unidirectional: C2 is there but zero, CVALID 0, S2 0. */
	r.cvalid = false;
	r.seqnum = 0;
	r.hl = 32;
	r.dhvlen = 0;
	cr_assert_eq(dhchap_reply_encode(b, sizeof b, &r), 80);
	cr_expect_eq(b[8], 0);
	for (int i = 48; i < 80; i++)
		cr_expect_eq(b[i], 0);
	cr_assert_eq(dhchap_reply_decode(b, 80, &d, &reason), 0);
	cr_expect_not(d.cvalid);
	cr_expect_null(d.c2);
	cr_expect_null(d.dhv);
	cr_expect_eq(dhchap_reply_encode(b, 79, &r), -ENOSPC);
	cr_expect_eq(dhchap_reply_decode(b, 79, &d, &reason), -EPROTO);
	cr_expect_eq(dhchap_reply_decode(b, 15, &d, &reason), -EPROTO);
	b[6] = 33;
	cr_expect_eq(dhchap_reply_decode(b, 80, &d, &reason), -EPROTO);
	cr_expect_eq(reason, DHCHAP_FAIL_HASH);
	b[1] = 1;
	cr_expect_eq(dhchap_reply_decode(b, 80, &d, &reason), -EPROTO);
	cr_expect_eq(reason, DHCHAP_FAIL_MESSAGE);
}

Test(success, success1_success2_failure)
{
	uint8_t b[128], r2[48];
	struct dhchap_success1 s;
	uint8_t reason, id, rc, exp;
	uint16_t tid;

	memset(r2, 0x77, sizeof r2);
	memset(b, 0xee, sizeof b);
	struct dhchap_success1 e = { .tid = 99, .hl = 48, .rvalid = true, .r2 = r2 };
	cr_assert_eq(dhchap_success1_encode(b, sizeof b, &e), 64);
	cr_expect_eq(b[0], 1);
	cr_expect_eq(b[1], 3);
	cr_expect_eq(le16(b + 4), 99);
	cr_expect_eq(b[6], 48);
	cr_expect_eq(b[8], 1);
	for (int i = 9; i < 16; i++)
		cr_expect_eq(b[i], 0);
	cr_expect_eq(b[16], 0x77);
	cr_expect_eq(b[64], 0xee);
	cr_assert_eq(dhchap_success1_decode(b, 64, &s, &reason), 0);
	cr_expect_eq(s.tid, 99);
	cr_expect_eq(s.hl, 48);
	cr_expect(s.rvalid);
	cr_expect_eq(s.r2, b + 16);
	cr_expect_eq(dhchap_success1_decode(b, 63, &s, &reason), -EPROTO);
	cr_expect(has("no 48-byte response"));
	e.rvalid = false;
	cr_assert_eq(dhchap_success1_encode(b, sizeof b, &e), 16);
	cr_assert_eq(dhchap_success1_decode(b, 16, &s, &reason), 0);
	cr_expect_not(s.rvalid);
	cr_expect_null(s.r2);
	cr_expect_eq(dhchap_success1_decode(b, 15, &s, &reason), -EPROTO);
	b[1] = 4;
	cr_expect_eq(dhchap_success1_decode(b, 16, &s, &reason), -EPROTO);
	cr_expect_eq(reason, DHCHAP_FAIL_MESSAGE);

	memset(b, 0xee, sizeof b);
	cr_assert_eq(dhchap_success2_encode(b, sizeof b, 0x0102), 16);
	cr_expect_eq(b[0], 1);
	cr_expect_eq(b[1], 4);
	cr_expect_eq(le16(b + 4), 0x0102);
	for (int i = 6; i < 16; i++)
		cr_expect_eq(b[i], 0);
	cr_expect_eq(b[16], 0xee);
	cr_expect_eq(dhchap_success2_encode(b, 15, 1), -ENOSPC);

	memset(b, 0xee, sizeof b);
	cr_assert_eq(dhchap_failure_encode(b, sizeof b, DHCHAP_MSG_FAILURE2, 5,
					   DHCHAP_FAIL_DHGROUP), 8);
	cr_expect_eq(b[0], 0);
	cr_expect_eq(b[1], 0xf0);
	cr_expect_eq(le16(b + 4), 5);
	cr_expect_eq(b[6], 1);
	cr_expect_eq(b[7], 5);
	cr_expect_eq(b[8], 0xee);
	cr_assert_eq(dhchap_failure_decode(b, 8, &id, &tid, &rc, &exp), 0);
	cr_expect_eq(id, 0xf0);
	cr_expect_eq(tid, 5);
	cr_expect_eq(rc, 1);
	cr_expect_eq(exp, 5);
	cr_expect_eq(dhchap_failure_decode(b, 7, &id, &tid, &rc, &exp), -EPROTO);
	cr_expect_eq(dhchap_failure_encode(b, sizeof b, 0x03, 5, 1), -EINVAL);
	cr_expect_eq(dhchap_failure_encode(b, 7, 0xf1, 5, 1), -ENOSPC);
	b[1] = 0x03;
	cr_expect_eq(dhchap_failure_decode(b, 8, &id, &tid, &rc, &exp), -EPROTO);

	uint8_t ty, mid;
	cr_expect_eq(dhchap_msg_peek(b, 5, &ty, &mid, &tid), -EPROTO);
	cr_expect_eq(dhchap_msg_peek(b, 6, &ty, &mid, &tid), 0);
	cr_expect_eq(ty, 0);
	cr_expect_eq(mid, 3);
	cr_expect_eq(tid, 5);
	cr_expect_str_eq(dhchap_reason_str(DHCHAP_FAIL_HASH), "hash function not usable");
	cr_expect_str_eq(dhchap_reason_str(0x42), "unknown reason");
}

/* ---- computations against independent vectors ------------------------------------- */

Test(compute, responses_and_augmented_challenges)
{
	FILE *f = fopen(TEST_DATA_DIR "/dhchap/vectors.txt", "r");
	static char line[8192];
	int nresp = 0, naug = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof line, f)) {
		static char a[8][2100];
		uint8_t key[64], chal[64], want[64], out[64], z[1024];
		unsigned h, host, seq, tid;

		if (!strncmp(line, "resp ", 5)) {
			cr_assert_eq(sscanf(line, "resp %u %u %2099s %2099s %u %u %2099s %2099s %2099s",
					    &h, &host, a[0], a[1], &seq, &tid, a[2], a[3], a[4]), 9);
			size_t kl = unhex(a[0], key, sizeof key);
			unhex(a[1], chal, sizeof chal);
			size_t wl = unhex(a[4], want, sizeof want);
			cr_assert_eq(dhchap_response(h, key, kl, chal, seq, (uint16_t)tid, 0, host,
						     a[2], a[3], out), (int)wl);
			cr_expect_eq(memcmp(out, want, wl), 0, "response hash %u host %u", h, host);
			/* Every input counts. */
			cr_assert_eq(dhchap_response(h, key, kl, chal, seq + 1, (uint16_t)tid, 0,
						     host, a[2], a[3], out), (int)wl);
			cr_expect_neq(memcmp(out, want, wl), 0);
			cr_assert_eq(dhchap_response(h, key, kl, chal, seq, (uint16_t)tid, 0,
						     !host, a[2], a[3], out), (int)wl);
			cr_expect_neq(memcmp(out, want, wl), 0);
			nresp++;
		} else if (!strncmp(line, "aug ", 4)) {
			cr_assert_eq(sscanf(line, "aug %u %2099s %2099s %2099s", &h, a[0], a[1], a[2]), 4);
			size_t zl = unhex(a[0], z, sizeof z);
			unhex(a[1], chal, sizeof chal);
			size_t wl = unhex(a[2], want, sizeof want);
			cr_assert_eq(dhchap_augment(h, z, zl, chal, out), (int)wl);
			cr_expect_eq(memcmp(out, want, wl), 0, "augmented hash %u |z| %zu", h, zl);
			naug++;
		}
	}
	fclose(f);
	cr_expect_eq(nresp, 6);
	cr_expect_eq(naug, 6);
	uint8_t out[64];
	cr_expect_eq(dhchap_response(0, out, 32, out, 0, 0, 0, true, "a", "b", out), -EINVAL);
	cr_expect_eq(dhchap_augment(9, out, 32, out, out), -EINVAL);
}

/* ---- Diffie-Hellman ------------------------------------------------------------------ */

static void prime_of(void *priv, uint8_t *p, size_t plen, int add)
{
	BIGNUM *bp = NULL;

	cr_assert(EVP_PKEY_get_bn_param(priv, OSSL_PKEY_PARAM_FFC_P, &bp) > 0);
	if (add > 0)
		BN_add_word(bp, (BN_ULONG)add);
	else if (add < 0)
		BN_sub_word(bp, (BN_ULONG)-add);
	cr_assert_eq(BN_bn2binpad(bp, p, (int)plen), (int)plen);
	BN_free(bp);
}

Test(dh, agreement_padding_and_bad_values, .timeout = 120)
{
	for (unsigned g = DHCHAP_FFDHE2048; g <= DHCHAP_FFDHE8192; g += 4) {
		size_t plen = dhchap_dh_len(g);
		static uint8_t pa[1024], pb[1024], za[1024], zb[1024], bad[1024];
		void *a, *b;

		cr_assert_eq(dhchap_dh_keygen(g, &a, pa, plen - 1), -ENOSPC);
		cr_assert_eq(dhchap_dh_keygen(g, &a, pa, sizeof pa), (int)plen, "%s",
			     nvmeof_get_error());
		cr_assert_eq(dhchap_dh_keygen(g, &b, pb, sizeof pb), (int)plen);
		cr_assert_eq(dhchap_dh_derive(g, a, pb, plen, za, sizeof za), (int)plen,
			     "%s", nvmeof_get_error());
		cr_assert_eq(dhchap_dh_derive(g, b, pa, plen, zb, sizeof zb), (int)plen);
		cr_expect_eq(memcmp(za, zb, plen), 0, "%s: both sides agree", dhchap_dh_name(g));
		cr_expect_neq(memcmp(pa, pb, plen), 0);

		memset(bad, 0, plen);
		cr_expect_eq(dhchap_dh_derive(g, a, bad, plen, za, sizeof za), -EPROTO);
		cr_expect(has("is 0: refused"));
		bad[plen - 1] = 1;
		cr_expect_eq(dhchap_dh_derive(g, a, bad, plen, za, sizeof za), -EPROTO);
		cr_expect(has("is 1: refused"));
		cr_expect_eq(dhchap_dh_derive(g, a, bad + plen - 1, 1, za, sizeof za), -EPROTO);
		prime_of(a, bad, plen, -1);
		cr_expect_eq(dhchap_dh_derive(g, a, bad, plen, za, sizeof za), -EPROTO);
		cr_expect(has("is p - 1: refused"));
		prime_of(a, bad, plen, 0);
		cr_expect_eq(dhchap_dh_derive(g, a, bad, plen, za, sizeof za), -EPROTO);
		cr_expect(has("not below p"));
		/* p - 2 is in range but outside the prime-order subgroup. */
		prime_of(a, bad, plen, -2);
		cr_expect_eq(dhchap_dh_derive(g, a, bad, plen, za, sizeof za), -EPROTO);
		cr_expect(has("fails OpenSSL's check"));
		cr_expect_eq(dhchap_dh_derive(g, a, pb, plen + 1, za, sizeof za), -EPROTO);
		cr_expect_eq(dhchap_dh_derive(g, a, pb, 0, za, sizeof za), -EPROTO);
		cr_expect_eq(dhchap_dh_derive(g, a, pb, plen, za, plen - 1), -ENOSPC);
		/* A short (unpadded) peer value is the same number. */
		size_t lead = 0;
		while (pb[lead] == 0)
			lead++;
		cr_assert_eq(dhchap_dh_derive(g, a, pb + lead, plen - lead, zb, sizeof zb),
			     (int)plen);
		cr_expect_eq(memcmp(za, zb, plen), 0);
		dhchap_dh_free(a);
		dhchap_dh_free(b);
	}
	void *x;
	uint8_t p[8];
	cr_expect_eq(dhchap_dh_keygen(DHCHAP_DH_NULL, &x, p, sizeof p), -EINVAL);
	cr_expect_eq(dhchap_dh_derive(DHCHAP_FFDHE2048, NULL, p, 8, p, 8), -EINVAL);
}

/* ---- the host's transaction against a simulated controller ------------------------ */

struct ctrl_sim {
	unsigned hash, dh;
	struct dhchap_key hkey, ckey;    /* what the controller knows */
	bool bidi_ok;
	uint16_t tid;
	uint32_t s1;
	uint8_t c1[64];
	void *priv;
	uint8_t pub[1024];
	size_t publen;
};

static size_t sim_challenge(struct ctrl_sim *s, const uint8_t *neg, size_t nlen, uint8_t *out)
{
	struct dhchap_negotiate n;
	size_t hl = dhchap_hash_len(s->hash);

	cr_assert_eq(dhchap_negotiate_decode(neg, nlen, &n), 0);
	s->tid = n.tid;
	s->s1 = 0x11223344;
	for (size_t i = 0; i < hl; i++)
		s->c1[i] = (uint8_t)(i * 13 + s->hash);
	s->publen = 0;
	if (s->dh) {
		int r = dhchap_dh_keygen(s->dh, &s->priv, s->pub, sizeof s->pub);
		cr_assert_gt(r, 0);
		s->publen = (size_t)r;
	}
	struct dhchap_challenge c = { .tid = n.tid, .hl = (uint8_t)hl, .hash_id = (uint8_t)s->hash,
				      .dh_id = (uint8_t)s->dh, .dhvlen = (uint16_t)s->publen,
				      .seqnum = s->s1, .c = s->c1, .dhv = s->pub };
	return (size_t)dhchap_challenge_encode(out, DHCHAP_MSG_MAX, &c);
}

/* Check the Reply as a controller would; write Success1 (or Failure1). */
static size_t sim_success1(struct ctrl_sim *s, const uint8_t *in, size_t len, uint8_t *out)
{
	struct dhchap_reply r;
	uint8_t reason, tk[64], z[1024], c[64], want[64], r2[64];
	size_t hl = dhchap_hash_len(s->hash);
	int zl = 0, kl;

	cr_assert_eq(dhchap_reply_decode(in, len, &r, &reason), 0, "%s", nvmeof_get_error());
	cr_assert_eq(r.tid, s->tid);
	cr_assert_eq(r.hl, hl);
	cr_assert_eq(r.dhvlen, s->publen);
	memcpy(c, s->c1, hl);
	if (s->dh) {
		zl = dhchap_dh_derive(s->dh, s->priv, r.dhv, r.dhvlen, z, sizeof z);
		cr_assert_gt(zl, 0);
		cr_assert_eq(dhchap_augment(s->hash, z, (size_t)zl, s->c1, c), (int)hl);
	}
	kl = dhchap_key_transform(&s->hkey, HOSTNQN, tk);
	cr_assert_gt(kl, 0);
	cr_assert_eq(dhchap_response(s->hash, tk, (size_t)kl, c, s->s1, s->tid, 0, true,
				     HOSTNQN, SUBNQN, want), (int)hl);
	if (memcmp(want, r.r, hl)) {
		dhchap_dh_free(s->priv);
		s->priv = NULL;
		return (size_t)dhchap_failure_encode(out, 64, DHCHAP_MSG_FAILURE1, s->tid,
						     DHCHAP_FAIL_FAILED);
	}
	struct dhchap_success1 ok = { .tid = s->tid, .hl = (uint8_t)hl };
	if (r.cvalid) {
		cr_assert_neq(r.seqnum, 0);
		memcpy(c, r.c2, hl);
		if (s->dh)
			cr_assert_eq(dhchap_augment(s->hash, z, (size_t)zl, r.c2, c), (int)hl);
		kl = dhchap_key_transform(&s->ckey, SUBNQN, tk);
		cr_assert_eq(dhchap_response(s->hash, tk, (size_t)kl, c, r.seqnum, s->tid, 0,
					     false, SUBNQN, HOSTNQN, r2), (int)hl);
		ok.rvalid = true;
		ok.r2 = r2;
	}
	dhchap_dh_free(s->priv);
	s->priv = NULL;
	return (size_t)dhchap_success1_encode(out, DHCHAP_MSG_MAX, &ok);
}

static const char K32[] = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";

/* One transaction; returns the host's result of its last step. */
static int run(unsigned hash, unsigned dh, const struct dhchap_key *hk,
	       const struct dhchap_key *ck, const struct dhchap_key *ctrl_hk,
	       const struct dhchap_key *ctrl_ck, bool *sent_success2)
{
	static uint8_t a[DHCHAP_MSG_MAX], b[DHCHAP_MSG_MAX];
	struct ctrl_sim s = { .hash = hash, .dh = dh, .hkey = *ctrl_hk };
	struct dhchap_host h;
	int n, rc;

	if (ctrl_ck)
		s.ckey = *ctrl_ck;
	cr_assert_eq(dhchap_host_init(&h, HOSTNQN, SUBNQN, hk, ck, 42), 0);
	n = dhchap_host_negotiate(&h, a, sizeof a);
	cr_assert_eq(n, 72);
	n = (int)sim_challenge(&s, a, (size_t)n, b);
	rc = dhchap_host_challenge(&h, b, sizeof b /* whole allocation */, a, sizeof a);
	cr_assert_gt(rc, 0, "%s", nvmeof_get_error());
	cr_expect_eq(rc, 16 + 2 * (int)dhchap_hash_len(hash) + (int)dhchap_dh_len(dh));
	n = (int)sim_success1(&s, a, (size_t)rc, b);
	rc = dhchap_host_success1(&h, b, (size_t)n, a, sizeof a);
	*sent_success2 = rc == 16 && a[1] == DHCHAP_MSG_SUCCESS2 && le16(a + 4) == 42;
	if (rc < 0 && !h.failure1) {
		uint8_t f[16];
		cr_expect_eq(dhchap_host_failure2(&h, f, sizeof f), 8);
		cr_expect_eq(f[1], 0xf0);
		cr_expect_eq(f[7], DHCHAP_FAIL_FAILED);
	}
	dhchap_host_wipe(&h);
	return rc;
}

Test(host, unidirectional_each_hash_and_transformation)
{
	struct dhchap_key k;
	bool s2;

	cr_assert_eq(dhchap_key_parse(K32, &k), 0);
	for (unsigned hmac = 0; hmac <= 3; hmac++) {
		k.hmac = (uint8_t)hmac;
		for (unsigned hash = 1; hash <= 3; hash++) {
			cr_expect_eq(run(hash, 0, &k, NULL, &k, NULL, &s2), 0,
				     "hash %u key %02u: %s", hash, hmac, nvmeof_get_error());
			cr_expect_not(s2);
		}
	}
}

Test(host, bidirectional_with_dh, .timeout = 120)
{
	struct dhchap_key hk, ck;
	bool s2;

	cr_assert_eq(dhchap_key_generate(&hk, 1, 32), 0);
	cr_assert_eq(dhchap_key_generate(&ck, 2, 48), 0);
	cr_expect_eq(run(1, DHCHAP_FFDHE2048, &hk, &ck, &hk, &ck, &s2), 16, "%s",
		     nvmeof_get_error());
	cr_expect(s2);
	cr_expect_eq(run(3, DHCHAP_FFDHE3072, &hk, &ck, &hk, &ck, &s2), 16, "%s",
		     nvmeof_get_error());
	cr_expect(s2);
	/* unidirectional with DH */
	cr_expect_eq(run(2, DHCHAP_FFDHE2048, &hk, NULL, &hk, NULL, &s2), 0);
}

Test(host, wrong_secrets)
{
	struct dhchap_key hk, ck, other;
	bool s2;

	cr_assert_eq(dhchap_key_generate(&hk, 0, 32), 0);
	cr_assert_eq(dhchap_key_generate(&ck, 0, 32), 0);
	cr_assert_eq(dhchap_key_generate(&other, 0, 32), 0);
	/* The controller has another host secret: Failure1. */
	cr_expect_eq(run(1, 0, &hk, NULL, &other, NULL, &s2), -EACCES);
	cr_expect(has("rejected the host's response (reason 01h/01h: authentication "
		      "failed): wrong host secret?"), "%s", nvmeof_get_error());
	/* The controller proves another controller secret: our check fails. */
	cr_expect_eq(run(1, 0, &hk, &ck, &hk, &other, &s2), -EACCES);
	cr_expect(has("the controller failed our check (bidirectional): wrong "
		      "controller secret?"), "%s", nvmeof_get_error());
	cr_expect_not(s2);
	/* Same key, another transformation indicator: another key. */
	other = hk;
	other.hmac = 1;
	cr_expect_eq(run(1, 0, &hk, NULL, &other, NULL, &s2), -EACCES);
}

Test(host, hostile_controller)
{
	static uint8_t a[DHCHAP_MSG_MAX], b[DHCHAP_MSG_MAX];
	struct dhchap_key k;
	struct dhchap_host h;
	int n;

	cr_assert_eq(dhchap_key_parse(K32, &k), 0);
	cr_expect_eq(dhchap_host_init(&h, NULL, SUBNQN, &k, NULL, 1), -EINVAL);
	cr_expect_eq(dhchap_host_challenge(&h, b, 16, a, sizeof a), -EINVAL);

	/* Failure1 in place of the Challenge. */
	cr_assert_eq(dhchap_host_init(&h, HOSTNQN, SUBNQN, &k, NULL, 1), 0);
	cr_assert_gt(dhchap_host_negotiate(&h, a, sizeof a), 0);
	n = dhchap_failure_encode(b, sizeof b, DHCHAP_MSG_FAILURE1, 1, DHCHAP_FAIL_HASH);
	cr_expect_eq(dhchap_host_challenge(&h, b, (size_t)n, a, sizeof a), -EACCES);
	cr_expect(has("rejected the host's AUTH_Negotiate (reason 01h/04h: hash function "
		      "not usable)"), "%s", nvmeof_get_error());
	cr_expect(h.failure1);
	dhchap_host_wipe(&h);

	/* A Challenge with another transaction ID; with a bad hash; a Success1
	 * where the Challenge belongs. */
	const struct { uint16_t tid; uint8_t hash, hl, dh; uint16_t dhvlen; uint8_t reason;
		       const char *why; } bad[] = {
		{ 2, 1, 32, 0, 0, DHCHAP_FAIL_MESSAGE, "transaction ID 2, ours is 1" },
		{ 1, 7, 32, 0, 0, DHCHAP_FAIL_HASH, "unknown hash function 7" },
		{ 1, 1, 32, 9, 0, DHCHAP_FAIL_DHGROUP, "unknown DH group 9" },
		{ 1, 1, 32, 1, 1, DHCHAP_FAIL_PAYLOAD, "ffdhe2048 public value is 1: refused" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(dhchap_host_init(&h, HOSTNQN, SUBNQN, &k, NULL, 1), 0);
		cr_assert_gt(dhchap_host_negotiate(&h, a, sizeof a), 0);
		n = mk_challenge(b, sizeof b, bad[i].tid, bad[i].hash, bad[i].hl, bad[i].dh,
				 bad[i].dhvlen, 5);
		cr_assert_gt(n, 0);
		if (bad[i].dhvlen == 1)
			b[16 + 32] = 1; /* the controller's DH value: 1 */
		cr_expect_lt(dhchap_host_challenge(&h, b, (size_t)n, a, sizeof a), 0);
		cr_expect(has(bad[i].why), "'%s' lacks '%s'", nvmeof_get_error(), bad[i].why);
		cr_expect_eq(h.reason, bad[i].reason, "%s", bad[i].why);
		cr_expect_eq(h.state, DHCHAP_HOST_FAILED);
		cr_expect_eq(dhchap_host_failure2(&h, a, sizeof a), 8);
		cr_expect_eq(a[7], bad[i].reason);
		dhchap_host_wipe(&h);
	}
	cr_assert_eq(dhchap_host_init(&h, HOSTNQN, SUBNQN, &k, NULL, 1), 0);
	cr_assert_gt(dhchap_host_negotiate(&h, a, sizeof a), 0);
	struct dhchap_success1 s1 = { .tid = 1, .hl = 32 };
	n = dhchap_success1_encode(b, sizeof b, &s1);
	cr_expect_eq(dhchap_host_challenge(&h, b, (size_t)n, a, sizeof a), -EPROTO);
	cr_expect(has("expected DH-HMAC-CHAP_Challenge, got DH-HMAC-CHAP_Success1"));
	dhchap_host_wipe(&h);

	/* A good Challenge, then a Success1 with the wrong T_ID or hash length, or
	 * bidirectional without a response. */
	struct dhchap_key ck = k;
	const struct { uint16_t tid; uint8_t hl; bool bidi; const char *why; } bad1[] = {
		{ 9, 32, false, "transaction ID 9, ours is 1" },
		{ 1, 48, false, "hash length 48, the challenge's was 32" },
		{ 1, 32, true, "it sent no response" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad1); i++) {
		cr_assert_eq(dhchap_host_init(&h, HOSTNQN, SUBNQN, &k, bad1[i].bidi ? &ck : NULL,
					      1), 0);
		cr_assert_gt(dhchap_host_negotiate(&h, a, sizeof a), 0);
		n = mk_challenge(b, sizeof b, 1, 1, 32, 0, 0, 5);
		cr_assert_gt(dhchap_host_challenge(&h, b, (size_t)n, a, sizeof a), 0);
		struct dhchap_success1 s = { .tid = bad1[i].tid, .hl = bad1[i].hl };
		n = dhchap_success1_encode(b, sizeof b, &s);
		cr_expect_lt(dhchap_host_success1(&h, b, (size_t)n, a, sizeof a), 0);
		cr_expect(has(bad1[i].why), "'%s' lacks '%s'", nvmeof_get_error(), bad1[i].why);
		dhchap_host_wipe(&h);
	}
}

/* ---- transactions recorded with Linux 6.12's nvmet ------------------------------- */

/* tests/data/dhchap/linux-nvmet.txt (tests/interop/record-auth-fixtures.sh):
 * nvmet accepted our R1 for its challenge, and computed R2 for ours; both
 * must come out of our computations from the secrets and the transcript. */
Test(linux_nvmet, accepted_r1_and_computed_r2)
{
	FILE *f = fopen(TEST_DATA_DIR "/dhchap/linux-nvmet.txt", "r");
	static char line[4096], sub[256];
	int n = 0, bidi = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof line, f)) {
		static char hn[256], hks[160], cks[160], c1h[160], r1h[160], s2s[16],
			c2h[160], r2h[160];
		unsigned hash, dh, tid, s1;
		struct dhchap_key hk, ck;
		uint8_t c1[64], r1[64], c2[64], r2[64], tk[64], out[64];
		int kl;

		if (sscanf(line, "# Subsystem NQN: %255s", sub) == 1 || line[0] == '#')
			continue;
		cr_assert_eq(sscanf(line, "%255s %159s %159s %u %u %u %u %159s %159s %15s %159s %159s",
				    hn, hks, cks, &hash, &dh, &tid, &s1, c1h, r1h, s2s, c2h, r2h),
			     12, "bad line: %s", line);
		cr_assert(sub[0], "no subsystem NQN line");
		cr_assert_eq(dh, 0);
		size_t hl = dhchap_hash_len(hash);
		cr_assert_eq(unhex(c1h, c1, sizeof c1), hl);
		cr_assert_eq(unhex(r1h, r1, sizeof r1), hl);
		cr_assert_eq(dhchap_key_parse(hks, &hk), 0, "%s", nvmeof_get_error());
		kl = dhchap_key_transform(&hk, hn, tk);
		cr_assert_gt(kl, 0);
		cr_assert_eq(dhchap_response(hash, tk, (size_t)kl, c1, s1, (uint16_t)tid, 0, true,
					     hn, sub, out), (int)hl);
		cr_expect_eq(memcmp(out, r1, hl), 0, "%s: R1 differs from what nvmet accepted", hn);
		if (strcmp(cks, "-")) {
			cr_assert_eq(unhex(c2h, c2, sizeof c2), hl);
			cr_assert_eq(unhex(r2h, r2, sizeof r2), hl);
			cr_assert_eq(dhchap_key_parse(cks, &ck), 0);
			kl = dhchap_key_transform(&ck, sub, tk);
			cr_assert_gt(kl, 0);
			cr_assert_eq(dhchap_response(hash, tk, (size_t)kl, c2,
						     (uint32_t)strtoul(s2s, NULL, 10), (uint16_t)tid,
						     0, false, sub, hn, out), (int)hl);
			cr_expect_eq(memcmp(out, r2, hl), 0, "%s: nvmet's R2 differs from ours", hn);
			/* and a wrong controller key would not match it */
			ck.key[0] ^= 1;
			kl = dhchap_key_transform(&ck, sub, tk);
			dhchap_response(hash, tk, (size_t)kl, c2, (uint32_t)strtoul(s2s, NULL, 10),
					(uint16_t)tid, 0, false, sub, hn, out);
			cr_expect_neq(memcmp(out, r2, hl), 0);
			bidi++;
		}
		n++;
	}
	fclose(f);
	cr_expect_geq(n, 5);
	cr_expect_geq(bidi, 3);
}

/* ---- robustness: mutated and random messages ---------------------------------------- */

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)rnd_state;
}

/* Valid messages with a few bytes changed, or truncated, fed to every
 * decoder and to the host at each step: an error or a success, within the
 * buffer (ASan watches), never a crash. */
Test(robust, mutated_messages, .timeout = 120)
{
	static uint8_t base[4][2048], m[2048], out[DHCHAP_MSG_MAX];
	size_t blen[4];
	struct dhchap_key k;
	int ok = 0, refused = 0;

	cr_assert_eq(dhchap_key_parse(K32, &k), 0);
	blen[0] = (size_t)mk_challenge(base[0], sizeof base[0], 1, 1, 32, 0, 0, 5);
	blen[1] = (size_t)mk_challenge(base[1], sizeof base[1], 1, 2, 48, 1, 256, 5);
	struct dhchap_success1 s1 = { .tid = 1, .hl = 32, .rvalid = true, .r2 = base[3] };
	blen[2] = (size_t)dhchap_success1_encode(base[2], sizeof base[2], &s1);
	blen[3] = (size_t)dhchap_failure_encode(base[3], sizeof base[3], DHCHAP_MSG_FAILURE1, 1, 1);
	for (int it = 0; it < 3000; it++) {
		unsigned which = rnd() % 4;
		size_t len = blen[which];
		struct dhchap_host h;

		memcpy(m, base[which], len);
		for (unsigned j = rnd() % 4 + 1; j; j--)
			m[rnd() % MIN(len, 24u)] = (uint8_t)rnd();
		if (rnd() % 4 == 0)
			len = rnd() % (len + 1);
		/* Decoders see exactly len bytes: put them at the end of a heap
		 * block so that ASan catches any read past it. */
		uint8_t *p = malloc(len ? len : 1);
		memcpy(p, m, len);
		struct dhchap_challenge c;
		struct dhchap_reply r;
		struct dhchap_success1 s;
		struct dhchap_negotiate n;
		uint8_t reason, id, rc, exp, ty;
		uint16_t tid;
		dhchap_challenge_decode(p, len, &c, &reason);
		dhchap_reply_decode(p, len, &r, &reason);
		dhchap_success1_decode(p, len, &s, &reason);
		dhchap_negotiate_decode(p, len, &n);
		dhchap_failure_decode(p, len, &id, &tid, &rc, &exp);
		dhchap_msg_peek(p, len, &ty, &id, &tid);

		cr_assert_eq(dhchap_host_init(&h, HOSTNQN, SUBNQN, &k, rnd() % 2 ? &k : NULL, 1), 0);
		cr_assert_gt(dhchap_host_negotiate(&h, out, sizeof out), 0);
		int x = dhchap_host_challenge(&h, which < 2 ? p : base[0],
					      which < 2 ? len : blen[0], out, sizeof out);
		if (x > 0 && which >= 2)
			x = dhchap_host_success1(&h, p, len, out, sizeof out);
		if (x >= 0)
			ok++;
		else
			refused++;
		if (x < 0 && !h.failure1 && h.state == DHCHAP_HOST_FAILED)
			cr_assert_eq(dhchap_host_failure2(&h, out, sizeof out), 8);
		dhchap_host_wipe(&h);
		free(p);
	}
	cr_log_info("%d accepted, %d refused", ok, refused);
	cr_expect_gt(refused, 1000);
}

/* ---- the controller's side: our host against our controller ---------------- */

/* One transaction between dhchap_host and dhchap_ctrl; returns the
 * controller's result of the last step it ran, *hrc the host's. */
static int run_ctrl(const struct dhchap_key *hk, const struct dhchap_key *ck,
		    const struct dhchap_key *ctrl_hk, const struct dhchap_key *ctrl_ck,
		    uint8_t hashes, uint8_t groups, int *hrc, struct dhchap_ctrl *c)
{
	static uint8_t a[DHCHAP_MSG_MAX], in[4096];
	struct dhchap_host h;
	int n, rc;

	cr_assert_eq(dhchap_host_init(&h, HOSTNQN, SUBNQN, hk, ck, 7), 0);
	cr_assert_eq(dhchap_ctrl_init(c, HOSTNQN, SUBNQN, ctrl_hk, ctrl_ck, hashes,
				      groups), 0);
	n = dhchap_host_negotiate(&h, a, sizeof a);
	rc = dhchap_ctrl_send(c, a, (size_t)n);
	memset(in, 0, sizeof in);
	memcpy(in, c->out, c->outlen);
	*hrc = n = dhchap_host_challenge(&h, in, sizeof in, a, sizeof a);
	if (rc < 0 || n < 0)
		goto out;
	rc = dhchap_ctrl_send(c, a, (size_t)n);
	memset(in, 0, sizeof in);
	memcpy(in, c->out, c->outlen);
	*hrc = n = dhchap_host_success1(&h, in, sizeof in, a, sizeof a);
	if (n < 0 && !h.failure1 && rc == 0)
		n = dhchap_host_failure2(&h, a, sizeof a);
	if (n > 0 && rc == 0)
		rc = dhchap_ctrl_send(c, a, (size_t)n);
out:
	dhchap_host_wipe(&h);
	return rc;
}

Test(ctrl, each_hash_and_group_both_ways, .timeout = 120)
{
	struct dhchap_key hk, ck;
	struct dhchap_ctrl c;
	int hrc;

	cr_assert_eq(dhchap_key_generate(&hk, 1, 32), 0);
	cr_assert_eq(dhchap_key_generate(&ck, 3, 64), 0);
	for (unsigned hash = 1; hash <= 3; hash++) {
		cr_expect_eq(run_ctrl(&hk, NULL, &hk, NULL, (uint8_t)(1u << hash), 0,
				      &hrc, &c), 0, "%s", nvmeof_get_error());
		cr_expect_eq(hrc, 0);
		cr_expect_eq(c.state, DHCHAP_CTRL_DONE);
		cr_expect_eq(c.hash_id, hash);
		cr_expect_eq(c.dh_id, DHCHAP_DH_NULL); /* the host's first */
		dhchap_ctrl_wipe(&c);
	}
	cr_expect_eq(run_ctrl(&hk, &ck, &hk, &ck, 0, 1u << DHCHAP_FFDHE2048, &hrc, &c),
		     0, "%s", nvmeof_get_error());
	cr_expect_eq(hrc, 16); /* Success2 */
	cr_expect_eq(c.state, DHCHAP_CTRL_DONE);
	cr_expect(c.bidi);
	cr_expect_eq(c.dh_id, DHCHAP_FFDHE2048);
	dhchap_ctrl_wipe(&c);
	/* A controller secret set, the host not asking: unidirectional. */
	cr_expect_eq(run_ctrl(&hk, NULL, &hk, &ck, 0, 0, &hrc, &c), 0);
	cr_expect_eq(c.state, DHCHAP_CTRL_DONE);
	cr_expect_not(c.bidi);
	dhchap_ctrl_wipe(&c);
}

Test(ctrl, wrong_secrets_and_refusals)
{
	struct dhchap_key hk, ck, other;
	struct dhchap_ctrl c;
	int hrc;

	cr_assert_eq(dhchap_key_generate(&hk, 0, 32), 0);
	cr_assert_eq(dhchap_key_generate(&ck, 0, 32), 0);
	cr_assert_eq(dhchap_key_generate(&other, 0, 32), 0);
	/* wrong host secret: the controller's Failure1 reaches the host */
	cr_expect_eq(run_ctrl(&other, NULL, &hk, NULL, 0, 0, &hrc, &c), -EACCES);
	cr_expect(has("wrong host secret?"), "%s", nvmeof_get_error());
	cr_expect_eq(c.state, DHCHAP_CTRL_FAILED);
	cr_expect_eq(c.out[1], DHCHAP_MSG_FAILURE1);
	cr_expect_eq(hrc, -EACCES);
	dhchap_ctrl_wipe(&c);
	/* wrong controller secret: the host's check fails, its Failure2 */
	cr_expect_eq(run_ctrl(&hk, &other, &hk, &ck, 0, 0, &hrc, &c), -EACCES);
	cr_expect(has("wrong controller secret?"), "%s", nvmeof_get_error());
	cr_expect_eq(c.state, DHCHAP_CTRL_FAILED);
	dhchap_ctrl_wipe(&c);
	/* bidirectional asked, no controller secret here */
	cr_expect_eq(run_ctrl(&hk, &ck, &hk, NULL, 0, 0, &hrc, &c), -EACCES);
	cr_expect_eq(c.state, DHCHAP_CTRL_FAILED);
	cr_expect_eq(c.out[1], DHCHAP_MSG_FAILURE1);
	cr_expect_eq(hrc, -EACCES);
	dhchap_ctrl_wipe(&c);
	/* no hash allowed in common (bit 0 is no hash) */
	cr_expect_eq(run_ctrl(&hk, NULL, &hk, NULL, 1, 0, &hrc, &c), -EACCES);
	/* the host reports the Failure1 it got */
	cr_expect(has("(reason 01h/04h: hash function not usable)"), "%s",
		  nvmeof_get_error());
	cr_expect_eq(c.out[7], DHCHAP_FAIL_HASH);
	cr_expect_eq(hrc, -EACCES);
	dhchap_ctrl_wipe(&c);
}

Test(ctrl, out_of_order_and_bad_lengths)
{
	static uint8_t a[DHCHAP_MSG_MAX];
	struct dhchap_key hk;
	struct dhchap_ctrl c;
	struct dhchap_host h;
	int n;

	cr_assert_eq(dhchap_key_generate(&hk, 0, 32), 0);
	/* a Reply before any Negotiate */
	cr_assert_eq(dhchap_ctrl_init(&c, HOSTNQN, SUBNQN, &hk, NULL, 0, 0), 0);
	memset(a, 0, 64);
	a[0] = DHCHAP_TYPE_DHCHAP;
	a[1] = DHCHAP_MSG_REPLY;
	a[6] = 32;
	cr_expect_eq(dhchap_ctrl_send(&c, a, 16 + 64), -EPROTO);
	cr_expect(has("DH-HMAC-CHAP_Reply out of order (expected AUTH_Negotiate)"),
		  "%s", nvmeof_get_error());
	cr_expect_eq(c.outlen, 8);
	cr_expect_eq(c.out[1], DHCHAP_MSG_FAILURE1);
	cr_expect_eq(c.out[7], DHCHAP_FAIL_MESSAGE);
	dhchap_ctrl_wipe(&c);
	/* short messages */
	cr_assert_eq(dhchap_ctrl_init(&c, HOSTNQN, SUBNQN, &hk, NULL, 0, 0), 0);
	cr_expect_lt(dhchap_ctrl_send(&c, a, 3), 0);
	cr_expect_eq(c.state, DHCHAP_CTRL_FAILED);
	dhchap_ctrl_wipe(&c);
	cr_assert_eq(dhchap_host_init(&h, HOSTNQN, SUBNQN, &hk, NULL, 9), 0);
	n = dhchap_host_negotiate(&h, a, sizeof a);
	cr_assert_eq(dhchap_ctrl_init(&c, HOSTNQN, SUBNQN, &hk, NULL, 0, 0), 0);
	cr_expect_eq(dhchap_ctrl_send(&c, a, (size_t)n - 1), -EPROTO);
	cr_expect_eq(c.out[7], DHCHAP_FAIL_PAYLOAD);
	dhchap_ctrl_wipe(&c);
	/* a Reply shorter than its hash length says */
	cr_assert_eq(dhchap_ctrl_init(&c, HOSTNQN, SUBNQN, &hk, NULL, 0, 0), 0);
	cr_assert_eq(dhchap_ctrl_send(&c, a, (size_t)n), 0);
	cr_assert_eq(c.state, DHCHAP_CTRL_REPLY);
	n = dhchap_host_challenge(&h, c.out, c.outlen, a, sizeof a);
	cr_assert_gt(n, 0);
	cr_expect_eq(dhchap_ctrl_send(&c, a, (size_t)n - 1), -EPROTO);
	cr_expect_eq(c.state, DHCHAP_CTRL_FAILED);
	dhchap_ctrl_wipe(&c);
	dhchap_host_wipe(&h);
}
