/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP secure channel: TLS 1.3 with an external pre-shared key under the
 * NVMe/TCP PDUs, as a transport (transport.h). The handshake runs in
 * connect(), before the ICReq; everything above is unchanged.
 */
#ifndef NVMEOF_TLS_H
#define NVMEOF_TLS_H

#include <stdbool.h>

#include "tls_key.h"
#include "transport.h"

/* What a TLS connection needs: the configured key, whose identity and TLS
 * PSK are derived for hostnqn/subnqn in the given form (RFC or COMPAT). */
struct tls_params {
	const struct tls_key *key;
	const char *hostnqn;
	const char *subnqn;
	unsigned identity_version;          /* 0 or 1 */
	enum tls_psk_derivation derivation; /* RFC or COMPAT */
	/* Instead of key: a TLS PSK already derived (32 or 48 bytes; the
	 * cipher suite from its length), offered with the version 0
	 * identity; derivation is then unused. */
	const uint8_t *psk;
	size_t psk_len;
};

/* connect() takes transport_params.tls (required). Failures of the
 * handshake are -EKEYREJECTED when the server refused our PSK (the message
 * names the identity), -EPROTO when the answer is not TLS, -ECONNRESET when
 * the server closed, -ETIMEDOUT. */
extern const struct transport_ops transport_tls;

/* After connect: what was negotiated. */
struct tls_info {
	const char *version;   /* "TLSv1.3" */
	const char *cipher;    /* "TLS_AES_128_GCM_SHA256" */
	const char *identity;
	bool ktls_tx, ktls_rx;
	double handshake_ms;   /* TCP connected to handshake done */
};
int transport_tls_info(const struct transport *t, struct tls_info *info);

/* Read a key in the interchange format from a file that group and others
 * cannot read, and parse it. */
int tls_key_read_file(const char *path, struct tls_key *key);

/* Read a TLS PSK already derived (a keyring's, or check-tls-key's "TLS PSK"
 * line) from a file that group and others cannot read: 64 or 96 hex
 * digits, optionally after "TLS PSK (...): ". Returns the length (32 or
 * 48) written to psk (TLS_KEY_MAX bytes). */
int tls_psk_read_file(const char *path, uint8_t *psk);

#endif
