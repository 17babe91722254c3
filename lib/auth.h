/* SPDX-License-Identifier: MIT */
/*
 * DH-HMAC-CHAP in-band authentication (NVMe Base 2.x "Authentication",
 * TP 8006): secrets in the DHHC-1 representation, the message codec and the
 * host's computations. Pure functions on byte buffers: no I/O, no state
 * outside the structures given. Crypto is OpenSSL 3's libcrypto.
 *
 * Every function returns 0 (or a length) on success, a negative errno on
 * failure with the reason in nvmeof_get_error(). Internal to libnvmeof,
 * nvmeof(8) and nvmeof-target (not installed).
 */
#ifndef NVMEOF_AUTH_H
#define NVMEOF_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- identifiers ----------------------------------------------------------- */

/* Hash functions (the secret's transformation indicator uses the same
 * numbers, 0 meaning "not transformed"). */
enum { DHCHAP_HASH_NONE = 0, DHCHAP_SHA256 = 1, DHCHAP_SHA384 = 2, DHCHAP_SHA512 = 3 };
/* Diffie-Hellman groups (RFC 7919). */
enum {
	DHCHAP_DH_NULL = 0, DHCHAP_FFDHE2048 = 1, DHCHAP_FFDHE3072 = 2,
	DHCHAP_FFDHE4096 = 3, DHCHAP_FFDHE6144 = 4, DHCHAP_FFDHE8192 = 5,
};
#define DHCHAP_MAX_HASH 64    /* SHA-512 */
#define DHCHAP_MAX_KEY 64     /* a secret is 32, 48 or 64 bytes */
#define DHCHAP_MAX_DH 1024    /* ffdhe8192: 8192 bits */

/* SHA-256 -> 32 ...; 0 for an unknown id. */
size_t dhchap_hash_len(unsigned hash_id);
/* "sha256" ...; NULL for an unknown id. */
const char *dhchap_hash_name(unsigned hash_id);
/* "null", "ffdhe2048" ...; NULL for an unknown id. */
const char *dhchap_dh_name(unsigned dh_id);
/* Bytes of the group's prime (its public values and shared secret): 256 for
 * ffdhe2048 ... 1024 for ffdhe8192; 0 for null or an unknown id. */
size_t dhchap_dh_len(unsigned dh_id);
/* Parse "sha256", "hmac(sha256)", "1" ... / "null", "ffdhe2048", "0" ...;
 * -1 when unknown. */
int dhchap_hash_id(const char *name);
int dhchap_dh_id(const char *name);

/* ---- secrets (auth_key.c) -------------------------------------------------- */

/* A DH-HMAC-CHAP secret: "DHHC-1:HH:<base64 of the key and its CRC-32>:",
 * HH the transformation indicator 00-03. */
struct dhchap_key {
	uint8_t hmac;                 /* 0: used as is; 1-3: transform with SHA-x */
	uint8_t len;                  /* 32, 48 or 64 */
	uint8_t key[DHCHAP_MAX_KEY];
};

/* Parse a DHHC-1 secret (the trailing ':' is required); checks the header,
 * the indicator, the base64, the length and the CRC-32. */
int dhchap_key_parse(const char *secret, struct dhchap_key *key);
/* Format as "DHHC-1:HH:...:" into out (DHCHAP_KEY_STR_MAX bytes suffice). */
#define DHCHAP_KEY_STR_MAX 128
int dhchap_key_format(const struct dhchap_key *key, char *out, size_t outlen);
/* The CRC-32 appended to the key (zlib's, stored little-endian). */
uint32_t dhchap_key_crc(const struct dhchap_key *key);
/* A new random key of len bytes (32, 48, 64) from OpenSSL's RAND_bytes. */
int dhchap_key_generate(struct dhchap_key *key, unsigned hmac, unsigned len);
/* The secret transformation: for hmac 0 the key itself, otherwise
 * HMAC-SHA-x(key, nqn || "NVMe-over-Fabrics") (hash length bytes). out
 * holds DHCHAP_MAX_KEY bytes; returns the length. */
int dhchap_key_transform(const struct dhchap_key *key, const char *nqn, uint8_t *out);
/* Wipe a key from memory. */
void dhchap_key_wipe(struct dhchap_key *key);

/* HMAC with hash hash_id (1-3) over the concatenation of parts; out holds
 * DHCHAP_MAX_HASH bytes; returns the hash length. */
struct dhchap_buf {
	const void *p;
	size_t n;
};
int dhchap_hmac(unsigned hash_id, const uint8_t *key, size_t keylen,
		const struct dhchap_buf *parts, size_t nparts, uint8_t *out);
/* The hash itself (SHA-256/384/512 of data); returns its length. */
int dhchap_hash(unsigned hash_id, const uint8_t *data, size_t len, uint8_t *out);

/* ---- messages (auth.c) ------------------------------------------------------ */

/* Fabrics Authentication Send/Receive: SECP, SPSP0, SPSP1. */
#define DHCHAP_SECP 0xe9
#define DHCHAP_SPSP0 0x01
#define DHCHAP_SPSP1 0x01
/* Connect response DW0: authentication required (ATR), secure channel
 * concatenation required (ASCR). */
#define DHCHAP_CONNECT_ATR (1u << 17)
#define DHCHAP_CONNECT_ASCR (1u << 18)

enum { DHCHAP_TYPE_COMMON = 0x00, DHCHAP_TYPE_DHCHAP = 0x01 };
enum {
	DHCHAP_MSG_NEGOTIATE = 0x00, DHCHAP_MSG_CHALLENGE = 0x01,
	DHCHAP_MSG_REPLY = 0x02, DHCHAP_MSG_SUCCESS1 = 0x03,
	DHCHAP_MSG_SUCCESS2 = 0x04, DHCHAP_MSG_FAILURE2 = 0xf0,
	DHCHAP_MSG_FAILURE1 = 0xf1,
};
#define DHCHAP_AUTHID 0x01          /* protocol descriptor: DH-HMAC-CHAP */
#define DHCHAP_REASON_FAILED 0x01   /* the only reason code */
/* Reason code explanations */
enum {
	DHCHAP_FAIL_FAILED = 0x01, DHCHAP_FAIL_PROTOCOL = 0x02,
	DHCHAP_FAIL_CONCAT = 0x03, DHCHAP_FAIL_HASH = 0x04,
	DHCHAP_FAIL_DHGROUP = 0x05, DHCHAP_FAIL_PAYLOAD = 0x06,
	DHCHAP_FAIL_MESSAGE = 0x07,
};
const char *dhchap_reason_str(uint8_t explanation);

#define DHCHAP_HDR_LEN 6
#define DHCHAP_HDR16 16
#define DHCHAP_NEGOTIATE_LEN (8 + 64)
#define DHCHAP_FAILURE_LEN 8
/* Large enough for any message: a Reply with SHA-512 and ffdhe8192. */
#define DHCHAP_MSG_MAX (DHCHAP_HDR16 + 2 * DHCHAP_MAX_HASH + DHCHAP_MAX_DH)

/* AUTH-Type, AUTH-Id and T_ID of a message. */
int dhchap_msg_peek(const uint8_t *buf, size_t len, uint8_t *type, uint8_t *id,
		    uint16_t *tid);

struct dhchap_negotiate {
	uint16_t tid;
	uint8_t sc_c;
	uint8_t nhash, ndh;
	uint8_t hashes[30], groups[30];
};
int dhchap_negotiate_encode(uint8_t *buf, size_t len, const struct dhchap_negotiate *n);
int dhchap_negotiate_decode(const uint8_t *buf, size_t len, struct dhchap_negotiate *n);

/* Decoders take a buffer that may be longer than the message (Auth
 * Receive fills the allocation length); pointers point into it. On failure
 * *reason is the explanation a Failure2 should carry. */
struct dhchap_challenge {
	uint16_t tid;
	uint8_t hl, hash_id, dh_id;
	uint16_t dhvlen;
	uint32_t seqnum;
	const uint8_t *c, *dhv;
};
int dhchap_challenge_encode(uint8_t *buf, size_t len, const struct dhchap_challenge *c);
int dhchap_challenge_decode(const uint8_t *buf, size_t len, struct dhchap_challenge *c,
			    uint8_t *reason);

struct dhchap_reply {
	uint16_t tid;
	uint8_t hl;
	bool cvalid;
	uint16_t dhvlen;
	uint32_t seqnum;
	const uint8_t *r, *c2, *dhv;
};
int dhchap_reply_encode(uint8_t *buf, size_t len, const struct dhchap_reply *r);
int dhchap_reply_decode(const uint8_t *buf, size_t len, struct dhchap_reply *r,
			uint8_t *reason);

struct dhchap_success1 {
	uint16_t tid;
	uint8_t hl;
	bool rvalid;
	const uint8_t *r2;
};
int dhchap_success1_encode(uint8_t *buf, size_t len, const struct dhchap_success1 *s);
int dhchap_success1_decode(const uint8_t *buf, size_t len, struct dhchap_success1 *s,
			   uint8_t *reason);
int dhchap_success2_encode(uint8_t *buf, size_t len, uint16_t tid);
/* id: DHCHAP_MSG_FAILURE1 or _FAILURE2; reason code 01h and explanation. */
int dhchap_failure_encode(uint8_t *buf, size_t len, uint8_t id, uint16_t tid,
			  uint8_t explanation);
int dhchap_failure_decode(const uint8_t *buf, size_t len, uint8_t *id, uint16_t *tid,
			  uint8_t *rescode, uint8_t *explanation);

/* ---- computations ------------------------------------------------------------ */

/* host: R1 = HMAC(key, chal || seqnum LE32 || tid LE16 || sc || "HostHost"
 * || nqn1 (NQNh) || 00h || nqn2 (NQNc)); !host: the controller's R2 with
 * "Controller", nqn1 = NQNc, nqn2 = NQNh. key is the transformed secret,
 * chal the (augmented) challenge of the hash's length. */
int dhchap_response(unsigned hash_id, const uint8_t *key, size_t keylen,
		    const uint8_t *chal, uint32_t seqnum, uint16_t tid, uint8_t sc,
		    bool host, const char *nqn1, const char *nqn2, uint8_t *out);
/* The augmented challenge HMAC(H(z), chal), z the DH shared secret. */
int dhchap_augment(unsigned hash_id, const uint8_t *z, size_t zlen,
		   const uint8_t *chal, uint8_t *out);
/* A DH key pair of group dh_id (1-5); the public value, left-padded to the
 * prime's length, goes to pub; *priv is freed with dhchap_dh_free. */
int dhchap_dh_keygen(unsigned dh_id, void **priv, uint8_t *pub, size_t publen);
void dhchap_dh_free(void *priv);
/* The shared secret with the peer's public value, padded to the prime's
 * length (z holds that many bytes); refuses 0, 1, p - 1, values not below
 * p and values outside the prime-order subgroup. Returns its length. */
int dhchap_dh_derive(unsigned dh_id, void *priv, const uint8_t *peer, size_t peerlen,
		     uint8_t *z, size_t zmax);

/* ---- the host's side of one transaction (one queue) ------------------------- */

enum dhchap_host_state {
	DHCHAP_HOST_NEGOTIATE, DHCHAP_HOST_CHALLENGE, DHCHAP_HOST_SUCCESS1,
	DHCHAP_HOST_DONE, DHCHAP_HOST_FAILED,
};
struct dhchap_host {
	enum dhchap_host_state state;
	const char *hostnqn, *subnqn;
	struct dhchap_key host_key, ctrl_key;
	bool bidi;                 /* a controller secret: check the controller */
	bool failure1;             /* the controller sent AUTH_Failure1 */
	uint16_t tid;
	uint8_t hash_id, dh_id, hl;
	uint8_t reason;            /* explanation for our Failure2 */
	uint32_t s1, s2;
	uint8_t c1[DHCHAP_MAX_HASH], c2[DHCHAP_MAX_HASH];
	uint8_t r1[DHCHAP_MAX_HASH], r2[DHCHAP_MAX_HASH];
	void *dh_priv;
	uint16_t publen;
	uint8_t pub[DHCHAP_MAX_DH];
};

/* The steps: each takes what the controller sent (Auth Receive) and writes
 * what to send next (Auth Send) into out, returning its length:
 *   init -> negotiate (AUTH_Negotiate) -> challenge (in: Challenge, out:
 *   Reply) -> success1 (in: Success1, out: Success2, or 0 bytes when
 *   unidirectional) -> done.
 * A step that fails returns a negative errno with the message in
 * nvmeof_get_error(): -EACCES when the controller refused us (Failure1;
 * h->failure1 set: nothing more to send) or failed our check; otherwise
 * send dhchap_host_failure2()'s message. Messages out of order are
 * refused with -EINVAL. */
int dhchap_host_init(struct dhchap_host *h, const char *hostnqn, const char *subnqn,
		     const struct dhchap_key *host_key, const struct dhchap_key *ctrl_key,
		     uint16_t tid);
int dhchap_host_negotiate(struct dhchap_host *h, uint8_t *out, size_t outlen);
int dhchap_host_challenge(struct dhchap_host *h, const uint8_t *in, size_t len,
			  uint8_t *out, size_t outlen);
int dhchap_host_success1(struct dhchap_host *h, const uint8_t *in, size_t len,
			 uint8_t *out, size_t outlen);
int dhchap_host_failure2(struct dhchap_host *h, uint8_t *out, size_t outlen);
/* Free the DH key and wipe every secret. */
void dhchap_host_wipe(struct dhchap_host *h);

/* ---- the controller's side of one transaction (one queue) ------------------- */

enum dhchap_ctrl_state {
	DHCHAP_CTRL_NEGOTIATE,    /* waiting for AUTH_Negotiate */
	DHCHAP_CTRL_REPLY,        /* Challenge sent: waiting for the Reply */
	DHCHAP_CTRL_SUCCESS2,     /* Success1 sent (bidirectional): for Success2 */
	DHCHAP_CTRL_DONE,         /* the host is authenticated */
	DHCHAP_CTRL_FAILED,       /* Failure1 queued or the host gave up */
};
struct dhchap_ctrl {
	enum dhchap_ctrl_state state;
	const char *hostnqn, *subnqn;
	struct dhchap_key host_key, ctrl_key;
	uint8_t hashes, groups;    /* allowed: bit (1 << id); 0 = all */
	uint16_t tid;
	uint8_t hash_id, dh_id, hl;
	bool bidi;                 /* the host asked to check us */
	uint32_t s1;
	uint8_t c1[DHCHAP_MAX_HASH];
	void *dh_priv;
	uint16_t publen;
	uint8_t pub[DHCHAP_MAX_DH];
	/* what the next Authentication Receive returns */
	size_t outlen;
	uint8_t out[DHCHAP_MSG_MAX];
};

/* The controller's steps, one per Authentication Send: each takes the
 * host's message and leaves the answer (Challenge, Success1 or Failure1)
 * in c->out for the next Authentication Receive (c->outlen 0: nothing to
 * receive). A step that fails returns a negative errno with the reason in
 * nvmeof_get_error() (secrets never appear in it): -EACCES when the host's
 * response is wrong or the host sent a Failure2, otherwise the message was
 * malformed or out of order; c->out then holds the Failure1 when one is
 * due. The host is authenticated once c->state is DHCHAP_CTRL_DONE.
 * A new AUTH_Negotiate restarts the transaction (re-authentication). */
int dhchap_ctrl_init(struct dhchap_ctrl *c, const char *hostnqn, const char *subnqn,
		     const struct dhchap_key *host_key, const struct dhchap_key *ctrl_key,
		     uint8_t hashes, uint8_t groups);
int dhchap_ctrl_send(struct dhchap_ctrl *c, const uint8_t *in, size_t len);
/* Free the DH key and wipe every secret. */
void dhchap_ctrl_wipe(struct dhchap_ctrl *c);

#endif
