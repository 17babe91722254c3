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

#include "auth.h"
#include "cli.h"

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int cmd_gen_dhchap_key(struct cli *c)
{
	char nqn[NVMEOF_NQN_MAX + 1], out[DHCHAP_KEY_STR_MAX];
	unsigned hmac = c->key_hmac, len = c->key_len;
	struct dhchap_key k;
	uint8_t t[DHCHAP_MAX_KEY];
	int rc;

	/* As nvme-cli: the length defaults to the hash's, and a transformed
	 * key is as long as its hash. */
	if (!len)
		len = hmac ? (unsigned)dhchap_hash_len(hmac) : 32;
	if (hmac && len != dhchap_hash_len(hmac))
		return cli_usage_error(c, "--key-length %u: a key transformed with %s "
				       "(--hmac %u) is %zu bytes", len,
				       dhchap_hash_name(hmac), hmac, dhchap_hash_len(hmac));
	if (c->key_secret) {
		size_t n = strlen(c->key_secret);

		if (n != 2 * len)
			return cli_usage_error(c, "--secret: %zu hex digits, a %u-byte key "
					       "takes %u", n, len, 2 * len);
		memset(&k, 0, sizeof k);
		for (size_t i = 0; i < len; i++) {
			int hi = hexval(c->key_secret[2 * i]), lo = hexval(c->key_secret[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				dhchap_key_wipe(&k);
				return cli_usage_error(c, "--secret: '%c%c' at %zu is not hex",
						       c->key_secret[2 * i],
						       c->key_secret[2 * i + 1], 2 * i);
			}
			k.key[i] = (uint8_t)(hi << 4 | lo);
		}
		k.len = (uint8_t)len;
		k.hmac = (uint8_t)hmac;
	} else if (dhchap_key_generate(&k, hmac, len) < 0) {
		return cli_fail(c, "generating a key");
	}
	if (hmac) {
		const char *hostnqn = c->key_nqn;

		if (!hostnqn) {
			if (nvmeof_default_hostnqn(nqn, sizeof nqn) < 0) {
				dhchap_key_wipe(&k);
				cli_err(c, "--hmac %u needs a host NQN: %s (or give --nqn)", hmac,
					nvmeof_get_error());
				return EXIT_CONFIG;
			}
			hostnqn = nqn;
		}
		rc = dhchap_key_transform(&k, hostnqn, t);
		if (rc < 0) {
			dhchap_key_wipe(&k);
			return cli_fail(c, "transforming the key");
		}
		memcpy(k.key, t, (size_t)rc);
		OPENSSL_cleanse(t, sizeof t);
	}
	rc = dhchap_key_format(&k, out, sizeof out);
	dhchap_key_wipe(&k);
	if (rc < 0)
		return cli_fail(c, "formatting the key");
	if (c->fmt == OUT_JSON)
		printf("{\n  \"key\": \"%s\"\n}\n", out);
	else
		printf("%s\n", out);
	OPENSSL_cleanse(out, sizeof out);
	return 0;
}

int cmd_check_dhchap_key(struct cli *c)
{
	struct dhchap_key k;
	uint32_t crc;

	if (!c->key)
		return cli_usage_error(c, "no key to check (KEY or --key KEY)");
	if (dhchap_key_parse(c->key, &k) < 0) {
		cli_err(c, "%s", nvmeof_get_error());
		return EXIT_DATAERR;
	}
	crc = dhchap_key_crc(&k);
	if (c->fmt == OUT_JSON)
		printf("{\n  \"valid\": true,\n  \"hmac\": %u,\n  \"length\": %u,\n"
		       "  \"crc\": \"%08x\"\n}\n", k.hmac, k.len, crc);
	else
		printf("Key is valid (HMAC %u, length %u, CRC %08x)\n", k.hmac, k.len, crc);
	dhchap_key_wipe(&k);
	return 0;
}
