/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP TLS pre-shared keys (NVMe/TCP transport specification, "Secure
 * channel"): the configured PSK in the PSK interchange format, the retained
 * PSK, the PSK identity and the TLS PSK handed to the TLS stack.
 *
 * Two derivations exist in the field and both are supported:
 *   TLS_DERIVE_RFC    HKDF-Expand-Label as RFC 8446 defines it (libnvme >=
 *                     1.16 / nvme-cli >= 2.16, SPDK);
 *   TLS_DERIVE_COMPAT what libnvme <= 1.15 computes (nvme-cli 2.13 of Debian
 *                     13 inserts these into the kernel keyring): the HKDF info
 *                     is the length little-endian followed by "tls13 ", the
 *                     label and the context, without their length bytes.
 *
 * Every function returns 0 (or a length) on success, a negative errno on
 * failure with the reason in nvmeof_get_error(). Crypto is OpenSSL 3's
 * libcrypto (EVP_KDF HKDF and TLS13-KDF, EVP_MAC HMAC).
 */
#ifndef NVMEOF_TLS_KEY_H
#define NVMEOF_TLS_KEY_H

#include <stddef.h>
#include <stdint.h>

enum tls_psk_derivation {
	TLS_DERIVE_AUTO = 0,   /* the host tries RFC, then compat */
	TLS_DERIVE_RFC = 1,
	TLS_DERIVE_COMPAT = 2,
};
/* "auto", "rfc", "compat"; NULL for an unknown value. */
const char *tls_derivation_name(enum tls_psk_derivation d);
/* The reverse; -1 when unknown. */
int tls_derivation_id(const char *name);

/* Hash ("cipher") identifiers of the identity: 1 SHA-256
 * (TLS_AES_128_GCM_SHA256), 2 SHA-384 (TLS_AES_256_GCM_SHA384). */
enum { TLS_HASH_SHA256 = 1, TLS_HASH_SHA384 = 2 };
#define TLS_KEY_MAX 48
/* "NVMeTLSkey-1:02:" + base64 of 52 bytes (72) + ":" */
#define TLS_KEY_STR_MAX 96
/* "NVMe1R02 " + 2 NQNs of 223 + 2 spaces + a base64 SHA-384 digest (64) */
#define TLS_IDENTITY_MAX 530

/* A configured PSK: "NVMeTLSkey-1:HH:<base64 of key || CRC-32 LE>:", HH 00
 * (use as is), 01 (retained PSK with SHA-256), 02 (SHA-384). A 01 key is 32
 * bytes, a 02 key 48, a 00 key either. */
struct tls_key {
	uint8_t hmac;
	uint8_t len;
	uint8_t key[TLS_KEY_MAX];
};

int tls_key_parse(const char *s, struct tls_key *key);
int tls_key_format(const struct tls_key *key, char *out, size_t outlen);
uint32_t tls_key_crc(const struct tls_key *key);
/* A random key: hmac 1 -> 32 bytes, 2 -> 48, 0 -> len (32 or 48). */
int tls_key_generate(struct tls_key *key, unsigned hmac, unsigned len);
void tls_key_wipe(struct tls_key *key);
/* The identity's hash: the key's indicator, or for 00 the key's length. */
unsigned tls_key_hash(const struct tls_key *key);
/* 32 or 48 */
size_t tls_hash_len(unsigned hash);
/* "TLS_AES_128_GCM_SHA256" / "TLS_AES_256_GCM_SHA384"; NULL if unknown. */
const char *tls_hash_cipher(unsigned hash);

/* The retained PSK (key->len bytes into out, TLS_KEY_MAX suffice): the key
 * itself for 00, otherwise HKDF-Expand-Label(HKDF-Extract(0, key),
 * "HostNQN", hostnqn, len) in the given form (RFC or COMPAT). */
int tls_retained_psk(const struct tls_key *key, const char *hostnqn,
		     enum tls_psk_derivation d, uint8_t *out);
/* The PSK digest of a version 1 identity: base64 (padded) of
 * HMAC-hash(retained, hostnqn " " subnqn " NVMe-over-Fabrics"). */
int tls_psk_digest(unsigned hash, const uint8_t *retained, size_t len,
		   const char *hostnqn, const char *subnqn, char *out, size_t outlen);
/* "NVMe0R0H <hostnqn> <subnqn>" or "NVMe1R0H <hostnqn> <subnqn> <digest>". */
int tls_identity(unsigned version, unsigned hash, const char *hostnqn,
		 const char *subnqn, const char *digest, char *out, size_t outlen);

/* Everything at once: the identity (into identity, TLS_IDENTITY_MAX bytes
 * suffice) and the TLS PSK (key->len bytes into psk) for identity version 0
 * or 1 and derivation RFC or COMPAT. Returns the PSK's length. */
int tls_derive(const struct tls_key *key, const char *hostnqn, const char *subnqn,
	       unsigned version, enum tls_psk_derivation d, char *identity,
	       size_t idlen, uint8_t *psk);

#endif
