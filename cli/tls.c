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
static int print_derived(struct cli *c, const char *key, const char *cipher)
{
	static const enum nvmeof_tls_derivation ds[] = { NVMEOF_TLS_DERIVE_RFC,
							 NVMEOF_TLS_DERIVE_COMPAT };
	static const char *const names[] = { "rfc", "compat" };
	char nqn[NVMEOF_NQN_MAX + 1], id[NVMEOF_TLS_IDENTITY_MAX];
	char hex[2 * NVMEOF_TLS_PSK_MAX + 1];
	const char *hostnqn = c->hostnqn;
	uint8_t psk[NVMEOF_TLS_PSK_MAX];
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
		printf(",\n  \"cipher\": \"%s\",\n  \"derived\": [", cipher);
	else
		printf("Cipher: %s\n", cipher);
	for (size_t i = 0; i < 2; i++) {
		const char *name = names[i];

		n = nvmeof_tls_key_derive(key, hostnqn, c->subnqn, c->tls_identity, ds[i], id,
					  sizeof id, psk);
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
	char out[NVMEOF_TLS_KEY_STR_MAX];
	unsigned hmac = c->key_hmac ? c->key_hmac : 1;
	size_t len = hmac == 2 ? 48 : 32;
	uint8_t bytes[NVMEOF_TLS_PSK_MAX];
	struct nvmeof_tls_key_info info;
	int rc = check_nqns(c);

	if (rc)
		return rc;
	if (c->key_secret) {
		size_t n = strlen(c->key_secret);

		if (n != 2 * len)
			return cli_usage_error(c, "--secret: %zu hex digits, a %zu-byte key "
					       "(--hmac %u) takes %zu", n, len, hmac, 2 * len);
		for (size_t i = 0; i < len; i++) {
			int hi = hexval(c->key_secret[2 * i]), lo = hexval(c->key_secret[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				OPENSSL_cleanse(bytes, sizeof bytes);
				return cli_usage_error(c, "--secret: '%c%c' at %zu is not hex",
						       c->key_secret[2 * i],
						       c->key_secret[2 * i + 1], 2 * i);
			}
			bytes[i] = (uint8_t)(hi << 4 | lo);
		}
	}
	rc = nvmeof_tls_key_generate(hmac, c->key_secret ? bytes : NULL, out, sizeof out);
	OPENSSL_cleanse(bytes, sizeof bytes);
	if (rc < 0 || nvmeof_tls_key_check(out, &info) < 0)
		return cli_fail(c, "generating a key");
	if (c->fmt == OUT_JSON)
		printf("{\n  \"key\": \"%s\"", out);
	else
		printf("%s\n", out);
	if (c->subnqn)
		rc = print_derived(c, out, info.cipher);
	if (c->fmt == OUT_JSON)
		printf("\n}\n");
	OPENSSL_cleanse(out, sizeof out);
	return rc;
}

int cmd_check_tls_key(struct cli *c)
{
	struct nvmeof_tls_key_info info;
	int rc = check_nqns(c);

	if (rc)
		return rc;
	if (!c->key)
		return cli_usage_error(c, "no key to check (KEY or --key KEY)");
	if (nvmeof_tls_key_check(c->key, &info) < 0) {
		cli_err(c, "%s", nvmeof_get_error());
		return EXIT_DATAERR;
	}
	if (c->fmt == OUT_JSON)
		printf("{\n  \"valid\": true,\n  \"hmac\": %u,\n  \"length\": %u,\n"
		       "  \"crc\": \"%08x\"", info.hmac, info.len, info.crc);
	else
		printf("Key is valid (HMAC %u, length %u, CRC %08x)\n", info.hmac, info.len,
		       info.crc);
	if (c->subnqn)
		rc = print_derived(c, c->key, info.cipher);
	if (c->fmt == OUT_JSON)
		printf("\n}\n");
	return rc;
}
