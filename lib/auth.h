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

#endif
