/* SPDX-License-Identifier: MIT */
/*
 * nvmeof gen-tls-key and check-tls-key: NVMe/TCP TLS pre-shared keys in the
 * PSK interchange format, printed as nvme-cli prints them; with a host and a
 * subsystem NQN also the PSK identity and the TLS PSK of both derivations in
 * the field (RFC 8446 and libnvme <= 1.15's), so that a user can compare them
 * with what a kernel keyring holds. tests/cli/test-tls-key.sh compares with
 * the values nvme-cli 2.13 and 2.16 computed (tests/data/tls).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "tls_key.h"

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* With --subnqn: the identity and TLS PSK of both derivations. Prints
 * (after the caller's first line or JSON members) and returns 0, or the
 * exit code of a failure. */
static int print_derived(struct cli *c, const struct tls_key *k)
{
	static const enum tls_psk_derivation ds[] = { TLS_DERIVE_RFC, TLS_DERIVE_COMPAT };
	char nqn[NVMEOF_NQN_MAX + 1], id[TLS_IDENTITY_MAX], hex[2 * TLS_KEY_MAX + 1];
	const char *hostnqn = c->hostnqn;
	uint8_t psk[TLS_KEY_MAX];
	int ok = 0, n;

	if (!hostnqn) {
		if (nvmeof_default_hostnqn(nqn, sizeof nqn) < 0) {
			cli_err(c, "no host NQN for the identity: %s (give --hostnqn)",
				nvmeof_get_error());
			return EXIT_CONFIG;
		}
		hostnqn = nqn;
	}
	if (c->fmt == OUT_JSON)
		printf(",\n  \"cipher\": \"%s\",\n  \"derived\": [",
		       tls_hash_cipher(tls_key_hash(k)));
	else
		printf("Cipher: %s\n", tls_hash_cipher(tls_key_hash(k)));
	for (size_t i = 0; i < 2; i++) {
		const char *name = tls_derivation_name(ds[i]);

		n = tls_derive(k, hostnqn, c->subnqn, c->tls_identity, ds[i], id, sizeof id, psk);
		if (n < 0) {
			cli_err(c, "%s derivation: %s", name, nvmeof_get_error());
			continue;
		}
		for (int j = 0; j < n; j++)
			snprintf(hex + 2 * j, 3, "%02x", psk[j]);
		OPENSSL_cleanse(psk, sizeof psk);
		if (c->fmt == OUT_JSON)
			printf("%s\n    {\n      \"derivation\": \"%s\",\n      \"identity\": "
			       "\"%s\",\n      \"psk\": \"%s\"\n    }", ok ? "," : "", name,
			       id, hex);
		else
			printf("Identity (%s): %s\nTLS PSK (%s): %s\n", name, id, name, hex);
		OPENSSL_cleanse(hex, sizeof hex);
		ok++;
	}
	if (c->fmt == OUT_JSON)
		printf("\n  ]");
	return ok ? 0 : EXIT_DATAERR;
}

static int check_nqns(struct cli *c)
{
	if (c->hostnqn && !c->subnqn)
		return cli_usage_error(c, "--hostnqn needs --subnqn: the identity names both");
	if (c->tls_identity && !c->subnqn)
		return cli_usage_error(c, "--identity needs --subnqn");
	return 0;
}

int cmd_gen_tls_key(struct cli *c)
{
	char out[TLS_KEY_STR_MAX];
	unsigned hmac = c->key_hmac ? c->key_hmac : TLS_HASH_SHA256;
	size_t len = tls_hash_len(hmac);
	struct tls_key k;
	int rc = check_nqns(c);

	if (rc)
		return rc;
	if (c->key_secret) {
		size_t n = strlen(c->key_secret);

		if (n != 2 * len)
			return cli_usage_error(c, "--secret: %zu hex digits, a %zu-byte key "
					       "(--hmac %u) takes %zu", n, len, hmac, 2 * len);
		memset(&k, 0, sizeof k);
		for (size_t i = 0; i < len; i++) {
			int hi = hexval(c->key_secret[2 * i]), lo = hexval(c->key_secret[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				tls_key_wipe(&k);
				return cli_usage_error(c, "--secret: '%c%c' at %zu is not hex",
						       c->key_secret[2 * i],
						       c->key_secret[2 * i + 1], 2 * i);
			}
			k.key[i] = (uint8_t)(hi << 4 | lo);
		}
		k.len = (uint8_t)len;
		k.hmac = (uint8_t)hmac;
	} else if (tls_key_generate(&k, hmac, 0) < 0) {
		return cli_fail(c, "generating a key");
	}
	rc = tls_key_format(&k, out, sizeof out);
	if (rc < 0) {
		tls_key_wipe(&k);
		return cli_fail(c, "formatting the key");
	}
	rc = 0;
	if (c->fmt == OUT_JSON)
		printf("{\n  \"key\": \"%s\"", out);
	else
		printf("%s\n", out);
	if (c->subnqn)
		rc = print_derived(c, &k);
	if (c->fmt == OUT_JSON)
		printf("\n}\n");
	OPENSSL_cleanse(out, sizeof out);
	tls_key_wipe(&k);
	return rc;
}

int cmd_check_tls_key(struct cli *c)
{
	struct tls_key k;
	uint32_t crc;
	int rc = check_nqns(c);

	if (rc)
		return rc;
	if (!c->key)
		return cli_usage_error(c, "no key to check (KEY or --key KEY)");
	if (tls_key_parse(c->key, &k) < 0) {
		cli_err(c, "%s", nvmeof_get_error());
		return EXIT_DATAERR;
	}
	crc = tls_key_crc(&k);
	if (c->fmt == OUT_JSON)
		printf("{\n  \"valid\": true,\n  \"hmac\": %u,\n  \"length\": %u,\n"
		       "  \"crc\": \"%08x\"", k.hmac, k.len, crc);
	else
		printf("Key is valid (HMAC %u, length %u, CRC %08x)\n", k.hmac, k.len, crc);
	if (c->subnqn)
		rc = print_derived(c, &k);
	if (c->fmt == OUT_JSON)
		printf("\n}\n");
	tls_key_wipe(&k);
	return rc;
}
