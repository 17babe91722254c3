/* SPDX-License-Identifier: MIT */
/*
 * nvmeof gen-dhchap-key and check-dhchap-key: DH-HMAC-CHAP secrets in the
 * DHHC-1 representation, printed as Debian 12's nvme-cli (2.3) prints them
 * (tests/cli/test-dhchap.sh compares with its recorded output).
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

/* Hash lengths of the transformation indicators 1-3 (SHA-256/384/512). */
static const unsigned hash_len[] = { 0, 32, 48, 64 };
static const char *const hash_name[] = { "", "sha256", "sha384", "sha512" };

int cmd_gen_dhchap_key(struct cli *c)
{
	char nqn[NVMEOF_NQN_MAX + 1], out[128];
	unsigned hmac = c->key_hmac, len = c->key_len;
	const char *hostnqn = c->key_nqn;
	uint8_t secret[64];
	int rc;

	/* As nvme-cli: the length defaults to the hash's, and a transformed
	 * key is as long as its hash. */
	if (hmac > 3)
		return cli_usage_error(c, "--hmac %u: 0 (none) to 3 (SHA-512)", hmac);
	if (!len)
		len = hmac ? hash_len[hmac] : 32;
	if (hmac && len != hash_len[hmac])
		return cli_usage_error(c, "--key-length %u: a key transformed with %s "
				       "(--hmac %u) is %u bytes", len,
				       hash_name[hmac], hmac, hash_len[hmac]);
	if (c->key_secret) {
		size_t n = strlen(c->key_secret);

		if (n != 2 * len)
			return cli_usage_error(c, "--secret: %zu hex digits, a %u-byte key "
					       "takes %u", n, len, 2 * len);
		for (size_t i = 0; i < len; i++) {
			int hi = hexval(c->key_secret[2 * i]), lo = hexval(c->key_secret[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				OPENSSL_cleanse(secret, sizeof secret);
				return cli_usage_error(c, "--secret: '%c%c' at %zu is not hex",
						       c->key_secret[2 * i],
						       c->key_secret[2 * i + 1], 2 * i);
			}
			secret[i] = (uint8_t)(hi << 4 | lo);
		}
	}
	if (hmac && !hostnqn) {
		if (nvmeof_default_hostnqn(nqn, sizeof nqn) < 0) {
			cli_err(c, "--hmac %u needs a host NQN: %s (or give --nqn)", hmac,
				nvmeof_get_error());
			return EXIT_CONFIG;
		}
		hostnqn = nqn;
	}
	rc = nvmeof_dhchap_key_generate(hmac, len, hostnqn,
					c->key_secret ? secret : NULL, out, sizeof out);
	OPENSSL_cleanse(secret, sizeof secret);
	if (rc < 0)
		return cli_fail(c, "generating the key");
	if (c->fmt == OUT_JSON)
		printf("{\n  \"key\": \"%s\"\n}\n", out);
	else
		printf("%s\n", out);
	OPENSSL_cleanse(out, sizeof out);
	return 0;
}

int cmd_check_dhchap_key(struct cli *c)
{
	struct nvmeof_dhchap_key_info k;

	if (!c->key)
		return cli_usage_error(c, "no key to check (KEY or --key KEY)");
	if (nvmeof_dhchap_key_check(c->key, &k) < 0) {
		cli_err(c, "%s", nvmeof_get_error());
		return EXIT_DATAERR;
	}
	if (c->fmt == OUT_JSON)
		printf("{\n  \"valid\": true,\n  \"hmac\": %u,\n  \"length\": %u,\n"
		       "  \"crc\": \"%08x\"\n}\n", k.hmac, k.len, k.crc);
	else
		printf("Key is valid (HMAC %u, length %u, CRC %08x)\n", k.hmac, k.len, k.crc);
	return 0;
}
