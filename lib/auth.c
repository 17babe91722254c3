/* SPDX-License-Identifier: MIT */
/*
 * DH-HMAC-CHAP: the message codec, the computations and the host's side of
 * a transaction (NVMe Base 2.x "Authentication"; field layout as Linux's
 * include/linux/nvme.h struct nvmf_auth_dhchap_*; the computations as
 * drivers/nvme/host/auth.c and drivers/nvme/common/auth.c do them).
 *
 * Every message starts with a 6-byte header: AUTH-Type (00h common, 01h
 * DH-HMAC-CHAP), AUTH-Id, 2 reserved bytes, T_ID (LE16).
 *
 *   Negotiate (00/00)  +6 SC_C, +7 NAPD, +8 NAPD descriptors of 64 bytes:
 *                      AUTHID (01h), rsvd, HALEN, DHLEN, IDLIST[60]: hash
 *                      ids at [0..], DH group ids at [30..]
 *   Challenge (01/01)  +6 HL, +8 HASHID, +9 DHGID, +10 DHVLEN (LE16),
 *                      +12 SEQNUM (LE32), +16 C1[HL], DH value[DHVLEN]
 *   Reply (01/02)      +6 HL, +8 CVALID, +10 DHVLEN, +12 SEQNUM (S2),
 *                      +16 R1[HL], C2[HL], DH value[DHVLEN]
 *   Success1 (01/03)   +6 HL, +8 RVALID, +16 R2[HL] when RVALID
 *   Success2 (01/04)   16 bytes
 *   Failure1/2 (00/F1, 00/F0)  +6 reason code (01h), +7 explanation
 *
 * The host's response R1 = HMAC(Kh', C1' || S1 || T_ID || SC || "HostHost"
 * || NQNh || 00h || NQNc) and the controller's R2 = HMAC(Kc', C2' || S2 ||
 * T_ID || SC || "Controller" || NQNc || 00h || NQNh), with S and T_ID
 * little-endian, SC (secure channel) 0, Kh' the host secret transformed
 * with NQNh, Kc' the controller secret transformed with NQNc, and C' = C
 * with the null DH group, else HMAC(H(Z), C) with Z the DH shared secret
 * (as long as the group's prime).
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "auth.h"
#include "internal.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

const char *dhchap_reason_str(uint8_t exp)
{
	switch (exp) {
	case DHCHAP_FAIL_FAILED: return "authentication failed";
	case DHCHAP_FAIL_PROTOCOL: return "authentication protocol not usable";
	case DHCHAP_FAIL_CONCAT: return "secure channel concatenation mismatch";
	case DHCHAP_FAIL_HASH: return "hash function not usable";
	case DHCHAP_FAIL_DHGROUP: return "DH group not usable";
	case DHCHAP_FAIL_PAYLOAD: return "incorrect payload";
	case DHCHAP_FAIL_MESSAGE: return "incorrect protocol message";
	default: return "unknown reason";
	}
}

static const char *msg_name(uint8_t type, uint8_t id)
{
	if (type == DHCHAP_TYPE_COMMON) {
		switch (id) {
		case DHCHAP_MSG_NEGOTIATE: return "AUTH_Negotiate";
		case DHCHAP_MSG_FAILURE1: return "AUTH_Failure1";
		case DHCHAP_MSG_FAILURE2: return "AUTH_Failure2";
		}
	} else if (type == DHCHAP_TYPE_DHCHAP) {
		switch (id) {
		case DHCHAP_MSG_CHALLENGE: return "DH-HMAC-CHAP_Challenge";
		case DHCHAP_MSG_REPLY: return "DH-HMAC-CHAP_Reply";
		case DHCHAP_MSG_SUCCESS1: return "DH-HMAC-CHAP_Success1";
		case DHCHAP_MSG_SUCCESS2: return "DH-HMAC-CHAP_Success2";
		}
	}
	return "unknown message";
}

/* ---- codec ------------------------------------------------------------------ */

static void put_header(uint8_t *b, uint8_t type, uint8_t id, uint16_t tid)
{
	b[0] = type;
	b[1] = id;
	b[2] = b[3] = 0;
	put16(b + 4, tid);
}

int dhchap_msg_peek(const uint8_t *buf, size_t len, uint8_t *type, uint8_t *id,
		    uint16_t *tid)
{
	if (len < DHCHAP_HDR_LEN)
		return set_error(EPROTO, "authentication message of %zu bytes: "
				  "shorter than its header", len);
	*type = buf[0];
	*id = buf[1];
	*tid = get16(buf + 4);
	return 0;
}

int dhchap_negotiate_encode(uint8_t *buf, size_t len, const struct dhchap_negotiate *n)
{
	uint8_t *d = buf + 8;

	if (len < DHCHAP_NEGOTIATE_LEN)
		return set_error(ENOSPC, "AUTH_Negotiate needs %d bytes", DHCHAP_NEGOTIATE_LEN);
	if (n->nhash > 30 || n->ndh > 30)
		return set_error(EINVAL, "AUTH_Negotiate: at most 30 hashes and 30 DH groups");
	memset(buf, 0, DHCHAP_NEGOTIATE_LEN);
	put_header(buf, DHCHAP_TYPE_COMMON, DHCHAP_MSG_NEGOTIATE, n->tid);
	buf[6] = n->sc_c;
	buf[7] = 1; /* NAPD: one protocol descriptor */
	d[0] = DHCHAP_AUTHID;
	d[2] = n->nhash;
	d[3] = n->ndh;
	memcpy(d + 4, n->hashes, n->nhash);
	memcpy(d + 4 + 30, n->groups, n->ndh);
	return DHCHAP_NEGOTIATE_LEN;
}

int dhchap_negotiate_decode(const uint8_t *buf, size_t len, struct dhchap_negotiate *n)
{
	const uint8_t *d = buf + 8;
	unsigned napd;

	memset(n, 0, sizeof *n);
	if (len < 8)
		return set_error(EPROTO, "AUTH_Negotiate of %zu bytes: shorter than 8", len);
	if (buf[0] != DHCHAP_TYPE_COMMON || buf[1] != DHCHAP_MSG_NEGOTIATE)
		return set_error(EPROTO, "expected AUTH_Negotiate, got %s (%02x/%02x)",
				  msg_name(buf[0], buf[1]), buf[0], buf[1]);
	n->tid = get16(buf + 4);
	n->sc_c = buf[6];
	napd = buf[7];
	if (napd < 1)
		return set_error(EPROTO, "AUTH_Negotiate without a protocol descriptor");
	if (len < 8 + (size_t)napd * 64)
		return set_error(EPROTO, "AUTH_Negotiate: %u descriptors need %u bytes, "
				  "got %zu", napd, 8 + napd * 64, len);
	for (unsigned i = 0; i < napd; i++, d += 64) {
		if (d[0] != DHCHAP_AUTHID)
			continue;
		if (d[2] > 30 || d[3] > 30)
			return set_error(EPROTO, "AUTH_Negotiate: HALEN %u / DHLEN %u "
					  "over 30", d[2], d[3]);
		n->nhash = d[2];
		n->ndh = d[3];
		memcpy(n->hashes, d + 4, n->nhash);
		memcpy(n->groups, d + 4 + 30, n->ndh);
		return 0;
	}
	return set_error(EPROTO, "AUTH_Negotiate offers no DH-HMAC-CHAP descriptor");
}

int dhchap_challenge_encode(uint8_t *buf, size_t len, const struct dhchap_challenge *c)
{
	size_t need = DHCHAP_HDR16 + c->hl + c->dhvlen;

	if (len < need)
		return set_error(ENOSPC, "DH-HMAC-CHAP_Challenge needs %zu bytes", need);
	memset(buf, 0, DHCHAP_HDR16);
	put_header(buf, DHCHAP_TYPE_DHCHAP, DHCHAP_MSG_CHALLENGE, c->tid);
	buf[6] = c->hl;
	buf[8] = c->hash_id;
	buf[9] = c->dh_id;
	put16(buf + 10, c->dhvlen);
	put32(buf + 12, c->seqnum);
	memcpy(buf + DHCHAP_HDR16, c->c, c->hl);
	if (c->dhvlen)
		memcpy(buf + DHCHAP_HDR16 + c->hl, c->dhv, c->dhvlen);
	return (int)need;
}

/* Every check names the field; *reason gets the explanation code a
 * Failure2 should carry. */
#define BAD(r, ...) (*reason = (r), set_error(EPROTO, __VA_ARGS__))

int dhchap_challenge_decode(const uint8_t *buf, size_t len, struct dhchap_challenge *c,
			    uint8_t *reason)
{
	size_t hashlen, dhlen;

	memset(c, 0, sizeof *c);
	*reason = DHCHAP_FAIL_PAYLOAD;
	if (len < DHCHAP_HDR16)
		return BAD(DHCHAP_FAIL_PAYLOAD, "DH-HMAC-CHAP_Challenge of %zu bytes: "
			   "shorter than 16", len);
	if (buf[0] != DHCHAP_TYPE_DHCHAP || buf[1] != DHCHAP_MSG_CHALLENGE)
		return BAD(DHCHAP_FAIL_MESSAGE, "expected DH-HMAC-CHAP_Challenge, got %s "
			   "(%02x/%02x)", msg_name(buf[0], buf[1]), buf[0], buf[1]);
	c->tid = get16(buf + 4);
	c->hl = buf[6];
	c->hash_id = buf[8];
	c->dh_id = buf[9];
	c->dhvlen = get16(buf + 10);
	c->seqnum = get32(buf + 12);
	hashlen = dhchap_hash_len(c->hash_id);
	if (!hashlen)
		return BAD(DHCHAP_FAIL_HASH, "DH-HMAC-CHAP_Challenge: unknown hash "
			   "function %u", c->hash_id);
	if (c->hl != hashlen)
		return BAD(DHCHAP_FAIL_HASH, "DH-HMAC-CHAP_Challenge: hash length %u, "
			   "%s's is %zu", c->hl, dhchap_hash_name(c->hash_id), hashlen);
	if (!dhchap_dh_name(c->dh_id))
		return BAD(DHCHAP_FAIL_DHGROUP, "DH-HMAC-CHAP_Challenge: unknown DH "
			   "group %u", c->dh_id);
	dhlen = dhchap_dh_len(c->dh_id);
	if (c->dh_id == DHCHAP_DH_NULL && c->dhvlen)
		return BAD(DHCHAP_FAIL_PAYLOAD, "DH-HMAC-CHAP_Challenge: a %u-byte DH "
			   "value with the null DH group", c->dhvlen);
	if (c->dh_id != DHCHAP_DH_NULL && (c->dhvlen == 0 || c->dhvlen > dhlen))
		return BAD(DHCHAP_FAIL_PAYLOAD, "DH-HMAC-CHAP_Challenge: DH value of %u "
			   "bytes for %s (1 to %zu)", c->dhvlen,
			   dhchap_dh_name(c->dh_id), dhlen);
	if (len < DHCHAP_HDR16 + c->hl + (size_t)c->dhvlen)
		return BAD(DHCHAP_FAIL_PAYLOAD, "DH-HMAC-CHAP_Challenge: %zu bytes "
			   "hold no %u-byte challenge and %u-byte DH value", len,
			   c->hl, c->dhvlen);
	c->c = buf + DHCHAP_HDR16;
	c->dhv = c->dhvlen ? buf + DHCHAP_HDR16 + c->hl : NULL;
	return 0;
}

int dhchap_reply_encode(uint8_t *buf, size_t len, const struct dhchap_reply *r)
{
	size_t need = DHCHAP_HDR16 + 2 * (size_t)r->hl + r->dhvlen;

	if (len < need)
		return set_error(ENOSPC, "DH-HMAC-CHAP_Reply needs %zu bytes", need);
	memset(buf, 0, need);
	put_header(buf, DHCHAP_TYPE_DHCHAP, DHCHAP_MSG_REPLY, r->tid);
	buf[6] = r->hl;
	buf[8] = r->cvalid ? 1 : 0;
	put16(buf + 10, r->dhvlen);
	put32(buf + 12, r->seqnum);
	memcpy(buf + DHCHAP_HDR16, r->r, r->hl);
	if (r->cvalid)
		memcpy(buf + DHCHAP_HDR16 + r->hl, r->c2, r->hl);
	if (r->dhvlen)
		memcpy(buf + DHCHAP_HDR16 + 2 * r->hl, r->dhv, r->dhvlen);
	return (int)need;
}

int dhchap_reply_decode(const uint8_t *buf, size_t len, struct dhchap_reply *r,
			uint8_t *reason)
{
	memset(r, 0, sizeof *r);
	*reason = DHCHAP_FAIL_PAYLOAD;
	if (len < DHCHAP_HDR16)
		return BAD(DHCHAP_FAIL_PAYLOAD, "DH-HMAC-CHAP_Reply of %zu bytes: "
			   "shorter than 16", len);
	if (buf[0] != DHCHAP_TYPE_DHCHAP || buf[1] != DHCHAP_MSG_REPLY)
		return BAD(DHCHAP_FAIL_MESSAGE, "expected DH-HMAC-CHAP_Reply, got %s "
			   "(%02x/%02x)", msg_name(buf[0], buf[1]), buf[0], buf[1]);
	r->tid = get16(buf + 4);
	r->hl = buf[6];
	r->cvalid = buf[8] & 1;
	r->dhvlen = get16(buf + 10);
	r->seqnum = get32(buf + 12);
	if (r->hl != 32 && r->hl != 48 && r->hl != 64)
		return BAD(DHCHAP_FAIL_HASH, "DH-HMAC-CHAP_Reply: hash length %u", r->hl);
	if (len < DHCHAP_HDR16 + 2 * (size_t)r->hl + r->dhvlen)
		return BAD(DHCHAP_FAIL_PAYLOAD, "DH-HMAC-CHAP_Reply: %zu bytes hold no "
			   "2 x %u-byte values and a %u-byte DH value", len, r->hl,
			   r->dhvlen);
	r->r = buf + DHCHAP_HDR16;
	r->c2 = r->cvalid ? buf + DHCHAP_HDR16 + r->hl : NULL;
	r->dhv = r->dhvlen ? buf + DHCHAP_HDR16 + 2 * r->hl : NULL;
	return 0;
}

int dhchap_success1_encode(uint8_t *buf, size_t len, const struct dhchap_success1 *s)
{
	size_t need = DHCHAP_HDR16 + (s->rvalid ? s->hl : 0);

	if (len < need)
		return set_error(ENOSPC, "DH-HMAC-CHAP_Success1 needs %zu bytes", need);
	memset(buf, 0, need);
	put_header(buf, DHCHAP_TYPE_DHCHAP, DHCHAP_MSG_SUCCESS1, s->tid);
	buf[6] = s->hl;
	buf[8] = s->rvalid ? 1 : 0;
	if (s->rvalid)
		memcpy(buf + DHCHAP_HDR16, s->r2, s->hl);
	return (int)need;
}

int dhchap_success1_decode(const uint8_t *buf, size_t len, struct dhchap_success1 *s,
			   uint8_t *reason)
{
	memset(s, 0, sizeof *s);
	*reason = DHCHAP_FAIL_PAYLOAD;
	if (len < DHCHAP_HDR16)
		return BAD(DHCHAP_FAIL_PAYLOAD, "DH-HMAC-CHAP_Success1 of %zu bytes: "
			   "shorter than 16", len);
	if (buf[0] != DHCHAP_TYPE_DHCHAP || buf[1] != DHCHAP_MSG_SUCCESS1)
		return BAD(DHCHAP_FAIL_MESSAGE, "expected DH-HMAC-CHAP_Success1, got %s "
			   "(%02x/%02x)", msg_name(buf[0], buf[1]), buf[0], buf[1]);
	s->tid = get16(buf + 4);
	s->hl = buf[6];
	s->rvalid = buf[8] & 1;
	if (s->rvalid && len < DHCHAP_HDR16 + (size_t)s->hl)
		return BAD(DHCHAP_FAIL_PAYLOAD, "DH-HMAC-CHAP_Success1: %zu bytes hold "
			   "no %u-byte response", len, s->hl);
	s->r2 = s->rvalid ? buf + DHCHAP_HDR16 : NULL;
	return 0;
}

int dhchap_success2_encode(uint8_t *buf, size_t len, uint16_t tid)
{
	if (len < DHCHAP_HDR16)
		return set_error(ENOSPC, "DH-HMAC-CHAP_Success2 needs 16 bytes");
	memset(buf, 0, DHCHAP_HDR16);
	put_header(buf, DHCHAP_TYPE_DHCHAP, DHCHAP_MSG_SUCCESS2, tid);
	return DHCHAP_HDR16;
}

int dhchap_failure_encode(uint8_t *buf, size_t len, uint8_t id, uint16_t tid,
			  uint8_t exp)
{
	if (id != DHCHAP_MSG_FAILURE1 && id != DHCHAP_MSG_FAILURE2)
		return set_error(EINVAL, "AUTH_Failure: id %02x", id);
	if (len < DHCHAP_FAILURE_LEN)
		return set_error(ENOSPC, "AUTH_Failure needs %d bytes", DHCHAP_FAILURE_LEN);
	memset(buf, 0, DHCHAP_FAILURE_LEN);
	put_header(buf, DHCHAP_TYPE_COMMON, id, tid);
	buf[6] = DHCHAP_REASON_FAILED;
	buf[7] = exp;
	return DHCHAP_FAILURE_LEN;
}

int dhchap_failure_decode(const uint8_t *buf, size_t len, uint8_t *id, uint16_t *tid,
			  uint8_t *rescode, uint8_t *exp)
{
	if (len < DHCHAP_FAILURE_LEN)
		return set_error(EPROTO, "AUTH_Failure of %zu bytes: shorter than %d",
				  len, DHCHAP_FAILURE_LEN);
	if (buf[0] != DHCHAP_TYPE_COMMON ||
	    (buf[1] != DHCHAP_MSG_FAILURE1 && buf[1] != DHCHAP_MSG_FAILURE2))
		return set_error(EPROTO, "expected AUTH_Failure, got %s (%02x/%02x)",
				  msg_name(buf[0], buf[1]), buf[0], buf[1]);
	*id = buf[1];
	*tid = get16(buf + 4);
	*rescode = buf[6];
	*exp = buf[7];
	return 0;
}

/* ---- computations ------------------------------------------------------------ */

int dhchap_response(unsigned hash_id, const uint8_t *key, size_t keylen,
		    const uint8_t *chal, uint32_t seqnum, uint16_t tid, uint8_t sc,
		    bool host, const char *nqn1, const char *nqn2, uint8_t *out)
{
	size_t hl = dhchap_hash_len(hash_id);
	uint8_t s[4], t[2], zero = 0;

	if (!hl)
		return set_error(EINVAL, "unknown hash function %u", hash_id);
	put32(s, seqnum);
	put16(t, tid);
	const struct dhchap_buf parts[] = {
		{ chal, hl }, { s, 4 }, { t, 2 }, { &sc, 1 },
		{ host ? "HostHost" : "Controller", host ? 8 : 10 },
		{ nqn1, strlen(nqn1) }, { &zero, 1 }, { nqn2, strlen(nqn2) },
	};
	return dhchap_hmac(hash_id, key, keylen, parts, ARRAY_SIZE(parts), out);
}

int dhchap_augment(unsigned hash_id, const uint8_t *z, size_t zlen,
		   const uint8_t *chal, uint8_t *out)
{
	uint8_t hz[DHCHAP_MAX_HASH];
	int hl, rc;

	hl = dhchap_hash(hash_id, z, zlen, hz);
	if (hl < 0)
		return hl;
	const struct dhchap_buf part = { chal, (size_t)hl };
	rc = dhchap_hmac(hash_id, hz, (size_t)hl, &part, 1, out);
	OPENSSL_cleanse(hz, sizeof hz);
	return rc;
}

/* ---- Diffie-Hellman (RFC 7919 groups by name) --------------------------------- */

static EVP_PKEY *dh_params(unsigned dh_id)
{
	const char *name = dhchap_dh_name(dh_id);
	EVP_PKEY_CTX *pc;
	EVP_PKEY *params = NULL;

	pc = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	if (!pc)
		return NULL;
	OSSL_PARAM p[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						 (char *)name, 0),
		OSSL_PARAM_construct_end(),
	};
	if (EVP_PKEY_paramgen_init(pc) <= 0 || EVP_PKEY_CTX_set_params(pc, p) <= 0 ||
	    EVP_PKEY_generate(pc, &params) <= 0)
		params = NULL;
	EVP_PKEY_CTX_free(pc);
	return params;
}

int dhchap_dh_keygen(unsigned dh_id, void **privp, uint8_t *pub, size_t publen)
{
	size_t plen = dhchap_dh_len(dh_id);
	EVP_PKEY *params, *key = NULL;
	EVP_PKEY_CTX *kc = NULL;
	BIGNUM *y = NULL;
	int rc = -1;

	*privp = NULL;
	if (!plen)
		return set_error(EINVAL, "DH group %u has no key", dh_id);
	if (publen < plen)
		return set_error(ENOSPC, "a %s public value is %zu bytes",
				  dhchap_dh_name(dh_id), plen);
	params = dh_params(dh_id);
	if (params)
		kc = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	if (kc && EVP_PKEY_keygen_init(kc) > 0 && EVP_PKEY_generate(kc, &key) > 0 &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PUB_KEY, &y) > 0 &&
	    BN_bn2binpad(y, pub, (int)plen) == (int)plen)
		rc = (int)plen;
	BN_free(y);
	EVP_PKEY_CTX_free(kc);
	EVP_PKEY_free(params);
	if (rc < 0) {
		EVP_PKEY_free(key);
		return set_error(EIO, "OpenSSL cannot make a %s key",
				  dhchap_dh_name(dh_id));
	}
	*privp = key;
	return rc;
}

void dhchap_dh_free(void *priv)
{
	EVP_PKEY_free(priv);
}

int dhchap_dh_derive(unsigned dh_id, void *priv, const uint8_t *peer, size_t peerlen,
		     uint8_t *z, size_t zmax)
{
	size_t plen = dhchap_dh_len(dh_id), zl;
	EVP_PKEY *mine = priv, *theirs = NULL;
	EVP_PKEY_CTX *fc = NULL, *dc = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *y = NULL, *p = NULL, *pm1 = NULL;
	int rc = -EPROTO;

	if (!plen || !mine)
		return set_error(EINVAL, "DH group %u: no key", dh_id);
	if (zmax < plen)
		return set_error(ENOSPC, "a %s shared secret is %zu bytes",
				  dhchap_dh_name(dh_id), plen);
	if (peerlen == 0 || peerlen > plen)
		return set_error(EPROTO, "the peer's %s value is %zu bytes (1 to %zu)",
				  dhchap_dh_name(dh_id), peerlen, plen);
	y = BN_bin2bn(peer, (int)peerlen, NULL);
	if (!y || EVP_PKEY_get_bn_param(mine, OSSL_PKEY_PARAM_FFC_P, &p) <= 0 ||
	    !(pm1 = BN_dup(p)) || !BN_sub_word(pm1, 1)) {
		rc = set_error(EIO, "OpenSSL: out of memory");
		goto out;
	}
	/* 1 < y < p - 1: 0, 1 and p - 1 would force the shared secret. */
	if (BN_is_zero(y) || BN_is_one(y) || BN_cmp(y, pm1) >= 0) {
		rc = set_error(EPROTO, "the peer's %s public value is %s: refused",
				dhchap_dh_name(dh_id),
				BN_is_zero(y) ? "0" : BN_is_one(y) ? "1" :
				BN_cmp(y, pm1) == 0 ? "p - 1" : "not below p");
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						     dhchap_dh_name(dh_id), 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(fc = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) ||
	    EVP_PKEY_fromdata_init(fc) <= 0 ||
	    EVP_PKEY_fromdata(fc, &theirs, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		rc = set_error(EIO, "OpenSSL cannot take the peer's %s value",
				dhchap_dh_name(dh_id));
		goto out;
	}
	dc = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL);
	/* The full check (y^q mod p == 1: y is in the prime-order subgroup). */
	{
		EVP_PKEY_CTX *cc = EVP_PKEY_CTX_new_from_pkey(NULL, theirs, NULL);
		int ok = cc && EVP_PKEY_public_check(cc) > 0;
		EVP_PKEY_CTX_free(cc);
		if (!ok) {
			rc = set_error(EPROTO, "the peer's %s public value fails "
					"OpenSSL's check: refused", dhchap_dh_name(dh_id));
			goto out;
		}
	}
	zl = plen;
	if (!dc || EVP_PKEY_derive_init(dc) <= 0 || EVP_PKEY_CTX_set_dh_pad(dc, 1) <= 0 ||
	    EVP_PKEY_derive_set_peer(dc, theirs) <= 0 || EVP_PKEY_derive(dc, z, &zl) <= 0 ||
	    zl != plen) {
		rc = set_error(EIO, "OpenSSL: %s key agreement failed",
				dhchap_dh_name(dh_id));
		goto out;
	}
	rc = (int)plen;
out:
	EVP_PKEY_CTX_free(dc);
	EVP_PKEY_CTX_free(fc);
	EVP_PKEY_free(theirs);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(y);
	BN_free(p);
	BN_free(pm1);
	return rc;
}

/* ---- the host's side of a transaction ------------------------------------------- */

int dhchap_host_init(struct dhchap_host *h, const char *hostnqn, const char *subnqn,
		     const struct dhchap_key *host_key, const struct dhchap_key *ctrl_key,
		     uint16_t tid)
{
	memset(h, 0, sizeof *h);
	if (!hostnqn || !subnqn || !host_key || !host_key->len)
		return set_error(EINVAL, "DH-HMAC-CHAP needs the host NQN, the "
				  "subsystem NQN and a host secret");
	h->hostnqn = hostnqn;
	h->subnqn = subnqn;
	h->host_key = *host_key;
	if (ctrl_key && ctrl_key->len) {
		h->ctrl_key = *ctrl_key;
		h->bidi = true;
	}
	h->tid = tid;
	h->state = DHCHAP_HOST_NEGOTIATE;
	return 0;
}

void dhchap_host_wipe(struct dhchap_host *h)
{
	dhchap_dh_free(h->dh_priv);
	OPENSSL_cleanse(h, sizeof *h);
}

int dhchap_host_negotiate(struct dhchap_host *h, uint8_t *out, size_t outlen)
{
	const struct dhchap_negotiate n = {
		.tid = h->tid, .sc_c = 0,
		.nhash = 3, .hashes = { DHCHAP_SHA256, DHCHAP_SHA384, DHCHAP_SHA512 },
		.ndh = 6, .groups = { DHCHAP_DH_NULL, DHCHAP_FFDHE2048, DHCHAP_FFDHE3072,
				      DHCHAP_FFDHE4096, DHCHAP_FFDHE6144, DHCHAP_FFDHE8192 },
	};
	int rc;

	if (h->state != DHCHAP_HOST_NEGOTIATE)
		return set_error(EINVAL, "AUTH_Negotiate out of order");
	rc = dhchap_negotiate_encode(out, outlen, &n);
	if (rc > 0)
		h->state = DHCHAP_HOST_CHALLENGE;
	return rc;
}

/* A Failure1 in place of the message expected: the controller's verdict. */
static int check_failure1(struct dhchap_host *h, const uint8_t *in, size_t len,
			  const char *step, const char *hint)
{
	uint8_t id, rescode, exp;
	uint16_t tid;

	if (len >= 2 && in[0] == DHCHAP_TYPE_COMMON && in[1] == DHCHAP_MSG_FAILURE1 &&
	    dhchap_failure_decode(in, len, &id, &tid, &rescode, &exp) == 0) {
		h->state = DHCHAP_HOST_DONE;
		h->failure1 = true;
		h->reason = exp;
		return set_error(EACCES, "authentication failed: the controller "
				  "rejected the host's %s (reason %02xh/%02xh: %s)%s",
				  step, rescode, exp, dhchap_reason_str(exp), hint);
	}
	return 0;
}

static int fail(struct dhchap_host *h, uint8_t reason, int rc)
{
	h->state = DHCHAP_HOST_FAILED;
	h->reason = reason;
	return rc;
}

int dhchap_host_challenge(struct dhchap_host *h, const uint8_t *in, size_t len,
			  uint8_t *out, size_t outlen)
{
	struct dhchap_challenge c;
	uint8_t tkey[DHCHAP_MAX_KEY], chal[DHCHAP_MAX_HASH], reason;
	uint8_t z[DHCHAP_MAX_DH];
	const uint8_t *c1;
	int rc, zl = 0;

	if (h->state != DHCHAP_HOST_CHALLENGE)
		return set_error(EINVAL, "DH-HMAC-CHAP_Challenge out of order");
	rc = check_failure1(h, in, len, "AUTH_Negotiate", "");
	if (rc)
		return rc;
	rc = dhchap_challenge_decode(in, len, &c, &reason);
	if (rc)
		return fail(h, reason, rc);
	if (c.tid != h->tid)
		return fail(h, DHCHAP_FAIL_MESSAGE,
			    set_error(EPROTO, "DH-HMAC-CHAP_Challenge: transaction "
				       "ID %u, ours is %u", c.tid, h->tid));
	h->hash_id = c.hash_id;
	h->dh_id = c.dh_id;
	h->hl = c.hl;
	h->s1 = c.seqnum;
	memcpy(h->c1, c.c, c.hl);
	c1 = h->c1;
	if (c.dh_id != DHCHAP_DH_NULL) {
		rc = dhchap_dh_keygen(c.dh_id, &h->dh_priv, h->pub, sizeof h->pub);
		if (rc < 0)
			return fail(h, DHCHAP_FAIL_FAILED, rc);
		h->publen = (uint16_t)rc;
		zl = dhchap_dh_derive(c.dh_id, h->dh_priv, c.dhv, c.dhvlen, z, sizeof z);
		if (zl < 0)
			return fail(h, DHCHAP_FAIL_PAYLOAD, zl);
		rc = dhchap_augment(c.hash_id, z, (size_t)zl, h->c1, chal);
		if (rc < 0)
			goto wipe;
		c1 = chal;
	}
	rc = dhchap_key_transform(&h->host_key, h->hostnqn, tkey);
	if (rc < 0)
		goto wipe;
	rc = dhchap_response(c.hash_id, tkey, (size_t)rc, c1, h->s1, h->tid, 0, true,
			     h->hostnqn, h->subnqn, h->r1);
	if (rc < 0)
		goto wipe;
	if (h->bidi) {
		if (RAND_bytes(h->c2, (int)h->hl) != 1) {
			rc = set_error(EIO, "no random bytes from OpenSSL");
			goto wipe;
		}
		do {
			if (RAND_bytes((uint8_t *)&h->s2, sizeof h->s2) != 1) {
				rc = set_error(EIO, "no random bytes from OpenSSL");
				goto wipe;
			}
		} while (h->s2 == 0);
		/* The R2 the controller must send: computed now, while Z is
		 * at hand. */
		const uint8_t *c2 = h->c2;
		if (zl > 0) {
			rc = dhchap_augment(c.hash_id, z, (size_t)zl, h->c2, chal);
			if (rc < 0)
				goto wipe;
			c2 = chal;
		}
		rc = dhchap_key_transform(&h->ctrl_key, h->subnqn, tkey);
		if (rc < 0)
			goto wipe;
		rc = dhchap_response(c.hash_id, tkey, (size_t)rc, c2, h->s2, h->tid, 0,
				     false, h->subnqn, h->hostnqn, h->r2);
		if (rc < 0)
			goto wipe;
	}
	const struct dhchap_reply r = {
		.tid = h->tid, .hl = h->hl, .cvalid = h->bidi, .seqnum = h->bidi ? h->s2 : 0,
		.r = h->r1, .c2 = h->c2, .dhv = h->pub, .dhvlen = h->publen,
	};
	rc = dhchap_reply_encode(out, outlen, &r);
	if (rc > 0)
		h->state = DHCHAP_HOST_SUCCESS1;
wipe:
	OPENSSL_cleanse(tkey, sizeof tkey);
	OPENSSL_cleanse(chal, sizeof chal);
	OPENSSL_cleanse(z, sizeof z);
	return rc < 0 ? fail(h, DHCHAP_FAIL_FAILED, rc) : rc;
}

int dhchap_host_success1(struct dhchap_host *h, const uint8_t *in, size_t len,
			 uint8_t *out, size_t outlen)
{
	struct dhchap_success1 s;
	uint8_t reason;
	int rc;

	if (h->state != DHCHAP_HOST_SUCCESS1)
		return set_error(EINVAL, "DH-HMAC-CHAP_Success1 out of order");
	rc = check_failure1(h, in, len, "response", ": wrong host secret?");
	if (rc)
		return rc;
	rc = dhchap_success1_decode(in, len, &s, &reason);
	if (rc)
		return fail(h, reason, rc);
	if (s.tid != h->tid)
		return fail(h, DHCHAP_FAIL_MESSAGE,
			    set_error(EPROTO, "DH-HMAC-CHAP_Success1: transaction "
				       "ID %u, ours is %u", s.tid, h->tid));
	if (s.hl != h->hl)
		return fail(h, DHCHAP_FAIL_HASH,
			    set_error(EPROTO, "DH-HMAC-CHAP_Success1: hash length "
				       "%u, the challenge's was %u", s.hl, h->hl));
	if (h->bidi) {
		if (!s.rvalid)
			return fail(h, DHCHAP_FAIL_FAILED,
				    set_error(EACCES, "the controller failed our check "
					       "(bidirectional): it sent no response"));
		if (CRYPTO_memcmp(s.r2, h->r2, h->hl))
			return fail(h, DHCHAP_FAIL_FAILED,
				    set_error(EACCES, "the controller failed our check "
					       "(bidirectional): wrong controller secret?"));
		h->state = DHCHAP_HOST_DONE;
		return dhchap_success2_encode(out, outlen, h->tid);
	}
	h->state = DHCHAP_HOST_DONE;
	return 0;
}

int dhchap_host_failure2(struct dhchap_host *h, uint8_t *out, size_t outlen)
{
	h->state = DHCHAP_HOST_DONE;
	return dhchap_failure_encode(out, outlen, DHCHAP_MSG_FAILURE2, h->tid,
				     h->reason ? h->reason : DHCHAP_FAIL_FAILED);
}

/* ---- the controller's side of a transaction ------------------------------------- */

int dhchap_ctrl_init(struct dhchap_ctrl *c, const char *hostnqn, const char *subnqn,
		     const struct dhchap_key *host_key, const struct dhchap_key *ctrl_key,
		     uint8_t hashes, uint8_t groups)
{
	memset(c, 0, sizeof *c);
	if (!hostnqn || !subnqn || !host_key || !host_key->len)
		return set_error(EINVAL, "DH-HMAC-CHAP needs the host NQN, the "
				  "subsystem NQN and the host's secret");
	c->hostnqn = hostnqn;
	c->subnqn = subnqn;
	c->host_key = *host_key;
	if (ctrl_key && ctrl_key->len)
		c->ctrl_key = *ctrl_key;
	c->hashes = hashes;
	c->groups = groups;
	c->state = DHCHAP_CTRL_NEGOTIATE;
	return 0;
}

void dhchap_ctrl_wipe(struct dhchap_ctrl *c)
{
	dhchap_dh_free(c->dh_priv);
	OPENSSL_cleanse(c, sizeof *c);
}

/* Queue a Failure1 with this explanation; the transaction is over. */
static int ctrl_fail(struct dhchap_ctrl *c, uint8_t exp, int rc)
{
	int n = dhchap_failure_encode(c->out, sizeof c->out, DHCHAP_MSG_FAILURE1,
				      c->tid, exp);

	c->outlen = n > 0 ? (size_t)n : 0;
	c->state = DHCHAP_CTRL_FAILED;
	dhchap_dh_free(c->dh_priv);
	c->dh_priv = NULL;
	return rc;
}

static int ctrl_negotiate(struct dhchap_ctrl *c, const uint8_t *in, size_t len)
{
	struct dhchap_negotiate n;
	struct dhchap_challenge ch;
	int rc;

	rc = dhchap_negotiate_decode(in, len, &n);
	c->tid = n.tid;
	if (rc)
		return ctrl_fail(c, DHCHAP_FAIL_PAYLOAD, rc);
	if (n.sc_c != 0)
		return ctrl_fail(c, DHCHAP_FAIL_CONCAT,
				 set_error(EPROTO, "AUTH_Negotiate asks for secure channel "
					    "concatenation (SC_C %u): not supported", n.sc_c));
	/* The first of the host's hashes (and groups) that we allow. */
	c->hash_id = 0;
	for (unsigned i = 0; i < n.nhash && !c->hash_id; i++)
		if (dhchap_hash_len(n.hashes[i]) &&
		    (!c->hashes || (c->hashes & (1u << n.hashes[i]))))
			c->hash_id = n.hashes[i];
	if (!c->hash_id)
		return ctrl_fail(c, DHCHAP_FAIL_HASH,
				 set_error(EACCES, "AUTH_Negotiate offers no hash "
					    "function allowed for this host"));
	int dh = -1;
	for (unsigned i = 0; i < n.ndh && dh < 0; i++)
		if (n.groups[i] <= DHCHAP_FFDHE8192 &&
		    (!c->groups || (c->groups & (1u << n.groups[i]))))
			dh = n.groups[i];
	if (dh < 0)
		return ctrl_fail(c, DHCHAP_FAIL_DHGROUP,
				 set_error(EACCES, "AUTH_Negotiate offers no DH group "
					    "allowed for this host"));
	c->dh_id = (uint8_t)dh;
	c->hl = (uint8_t)dhchap_hash_len(c->hash_id);
	if (RAND_bytes(c->c1, c->hl) != 1)
		return ctrl_fail(c, DHCHAP_FAIL_FAILED,
				 set_error(EIO, "no random bytes from OpenSSL"));
	do {
		if (RAND_bytes((uint8_t *)&c->s1, sizeof c->s1) != 1)
			return ctrl_fail(c, DHCHAP_FAIL_FAILED,
					 set_error(EIO, "no random bytes from OpenSSL"));
	} while (c->s1 == 0);
	dhchap_dh_free(c->dh_priv);
	c->dh_priv = NULL;
	c->publen = 0;
	if (c->dh_id != DHCHAP_DH_NULL) {
		rc = dhchap_dh_keygen(c->dh_id, &c->dh_priv, c->pub, sizeof c->pub);
		if (rc < 0)
			return ctrl_fail(c, DHCHAP_FAIL_FAILED, rc);
		c->publen = (uint16_t)rc;
	}
	ch = (struct dhchap_challenge){
		.tid = c->tid, .hl = c->hl, .hash_id = c->hash_id, .dh_id = c->dh_id,
		.dhvlen = c->publen, .seqnum = c->s1, .c = c->c1, .dhv = c->pub,
	};
	rc = dhchap_challenge_encode(c->out, sizeof c->out, &ch);
	if (rc < 0)
		return ctrl_fail(c, DHCHAP_FAIL_FAILED, rc);
	c->outlen = (size_t)rc;
	c->state = DHCHAP_CTRL_REPLY;
	return 0;
}

static int ctrl_reply(struct dhchap_ctrl *c, const uint8_t *in, size_t len)
{
	struct dhchap_reply r;
	uint8_t tkey[DHCHAP_MAX_KEY], chal[DHCHAP_MAX_HASH], want[DHCHAP_MAX_HASH];
	uint8_t r2[DHCHAP_MAX_HASH], z[DHCHAP_MAX_DH], reason;
	const uint8_t *c1 = c->c1;
	int rc, zl = 0;
	uint8_t exp = DHCHAP_FAIL_FAILED;

	rc = dhchap_reply_decode(in, len, &r, &reason);
	if (rc)
		return ctrl_fail(c, reason, rc);
	if (r.tid != c->tid)
		return ctrl_fail(c, DHCHAP_FAIL_MESSAGE,
				 set_error(EPROTO, "DH-HMAC-CHAP_Reply: transaction ID %u, "
					    "the Negotiate's was %u", r.tid, c->tid));
	if (r.hl != c->hl)
		return ctrl_fail(c, DHCHAP_FAIL_HASH,
				 set_error(EPROTO, "DH-HMAC-CHAP_Reply: hash length %u, "
					    "the challenge's was %u", r.hl, c->hl));
	if ((c->dh_id == DHCHAP_DH_NULL) != (r.dhvlen == 0))
		return ctrl_fail(c, DHCHAP_FAIL_PAYLOAD,
				 set_error(EPROTO, "DH-HMAC-CHAP_Reply: a %u-byte DH value "
					    "for group %s", r.dhvlen,
					    dhchap_dh_name(c->dh_id)));
	if (c->dh_id != DHCHAP_DH_NULL) {
		zl = dhchap_dh_derive(c->dh_id, c->dh_priv, r.dhv, r.dhvlen, z, sizeof z);
		if (zl < 0)
			return ctrl_fail(c, DHCHAP_FAIL_PAYLOAD, zl);
		rc = dhchap_augment(c->hash_id, z, (size_t)zl, c->c1, chal);
		if (rc < 0)
			goto out;
		c1 = chal;
	}
	rc = dhchap_key_transform(&c->host_key, c->hostnqn, tkey);
	if (rc < 0)
		goto out;
	rc = dhchap_response(c->hash_id, tkey, (size_t)rc, c1, c->s1, c->tid, 0, true,
			     c->hostnqn, c->subnqn, want);
	if (rc < 0)
		goto out;
	if (CRYPTO_memcmp(want, r.r, c->hl)) {
		rc = set_error(EACCES, "the host's response is wrong: wrong host secret?");
		goto out;
	}
	c->bidi = r.cvalid;
	if (c->bidi) {
		const uint8_t *c2 = r.c2;

		if (!c->ctrl_key.len) {
			rc = set_error(EACCES, "the host asks to check the controller "
				       "(bidirectional), but no controller secret is set "
				       "for it");
			goto out;
		}
		if (r.seqnum == 0) {
			exp = DHCHAP_FAIL_PAYLOAD;
			rc = set_error(EPROTO, "DH-HMAC-CHAP_Reply: sequence number 0 "
				       "with a challenge");
			goto out;
		}
		if (zl > 0) {
			rc = dhchap_augment(c->hash_id, z, (size_t)zl, r.c2, chal);
			if (rc < 0)
				goto out;
			c2 = chal;
		}
		rc = dhchap_key_transform(&c->ctrl_key, c->subnqn, tkey);
		if (rc < 0)
			goto out;
		rc = dhchap_response(c->hash_id, tkey, (size_t)rc, c2, r.seqnum, c->tid, 0,
				     false, c->subnqn, c->hostnqn, r2);
		if (rc < 0)
			goto out;
	}
	const struct dhchap_success1 s = {
		.tid = c->tid, .hl = c->hl, .rvalid = c->bidi, .r2 = r2,
	};
	rc = dhchap_success1_encode(c->out, sizeof c->out, &s);
	if (rc > 0) {
		c->outlen = (size_t)rc;
		c->state = c->bidi ? DHCHAP_CTRL_SUCCESS2 : DHCHAP_CTRL_DONE;
		rc = 0;
	}
out:
	OPENSSL_cleanse(tkey, sizeof tkey);
	OPENSSL_cleanse(chal, sizeof chal);
	OPENSSL_cleanse(want, sizeof want);
	OPENSSL_cleanse(r2, sizeof r2);
	OPENSSL_cleanse(z, sizeof z);
	dhchap_dh_free(c->dh_priv);
	c->dh_priv = NULL;
	return rc < 0 ? ctrl_fail(c, exp, rc) : rc;
}

int dhchap_ctrl_send(struct dhchap_ctrl *c, const uint8_t *in, size_t len)
{
	uint8_t type, id, rescode, exp;
	uint16_t tid;
	int rc;

	c->outlen = 0;
	rc = dhchap_msg_peek(in, len, &type, &id, &tid);
	if (rc)
		return ctrl_fail(c, DHCHAP_FAIL_PAYLOAD, rc);
	if (type == DHCHAP_TYPE_COMMON && id == DHCHAP_MSG_FAILURE2) {
		bool checked = c->state == DHCHAP_CTRL_SUCCESS2;

		if (dhchap_failure_decode(in, len, &id, &tid, &rescode, &exp) < 0)
			exp = 0;
		c->state = DHCHAP_CTRL_FAILED;
		dhchap_dh_free(c->dh_priv);
		c->dh_priv = NULL;
		return set_error(EACCES, "the host ended the authentication with "
				  "AUTH_Failure2 (reason %02xh: %s)%s", exp,
				  dhchap_reason_str(exp),
				  checked ? ": it found the controller's response "
				  "wrong (wrong controller secret?)" : "");
	}
	if (type == DHCHAP_TYPE_COMMON && id == DHCHAP_MSG_NEGOTIATE &&
	    (c->state == DHCHAP_CTRL_NEGOTIATE || c->state == DHCHAP_CTRL_DONE))
		return ctrl_negotiate(c, in, len);
	switch (c->state) {
	case DHCHAP_CTRL_REPLY:
		if (type == DHCHAP_TYPE_DHCHAP && id == DHCHAP_MSG_REPLY)
			return ctrl_reply(c, in, len);
		break;
	case DHCHAP_CTRL_SUCCESS2:
		if (type == DHCHAP_TYPE_DHCHAP && id == DHCHAP_MSG_SUCCESS2) {
			if (tid != c->tid)
				return ctrl_fail(c, DHCHAP_FAIL_MESSAGE,
						 set_error(EPROTO, "DH-HMAC-CHAP_Success2: "
							    "transaction ID %u, ours is %u",
							    tid, c->tid));
			c->state = DHCHAP_CTRL_DONE;
			return 0;
		}
		break;
	default:
		break;
	}
	return ctrl_fail(c, DHCHAP_FAIL_MESSAGE,
			 set_error(EPROTO, "%s out of order (expected %s)",
				    msg_name(type, id),
				    c->state == DHCHAP_CTRL_NEGOTIATE ? "AUTH_Negotiate" :
				    c->state == DHCHAP_CTRL_REPLY ? "DH-HMAC-CHAP_Reply" :
				    c->state == DHCHAP_CTRL_SUCCESS2 ?
				    "DH-HMAC-CHAP_Success2" : "nothing more"));
}
