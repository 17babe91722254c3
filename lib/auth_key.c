/* SPDX-License-Identifier: MIT */
/*
 * DH-HMAC-CHAP secrets: the DHHC-1 representation and the secret
 * transformation (NVMe Base 2.x, "DH-HMAC-CHAP protocol"; the same format as
 * Linux's drivers/nvme/common and nvme-cli's gen-dhchap-key).
 *
 *   DHHC-1:HH:<base64 (RFC 4648, padded) of key || CRC-32(key) LE>:
 *
 * HH is 00 (the key is used as is) or 01/02/03 (the key is first
 * transformed with HMAC-SHA-256/384/512 of the NQN and "NVMe-over-Fabrics").
 * The key is 32, 48 or 64 bytes; the CRC is the ISO-HDLC CRC-32 (zlib's).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "auth.h"
#include "internal.h"

#define DHHC_PREFIX "DHHC-1:"

static const struct {
	const char *name;
	size_t len;
} hashes[] = {
	[DHCHAP_SHA256] = { "sha256", 32 },
	[DHCHAP_SHA384] = { "sha384", 48 },
	[DHCHAP_SHA512] = { "sha512", 64 },
};

static const struct {
	const char *name;
	size_t len;
} groups[] = {
	[DHCHAP_DH_NULL] = { "null", 0 },
	[DHCHAP_FFDHE2048] = { "ffdhe2048", 256 },
	[DHCHAP_FFDHE3072] = { "ffdhe3072", 384 },
	[DHCHAP_FFDHE4096] = { "ffdhe4096", 512 },
	[DHCHAP_FFDHE6144] = { "ffdhe6144", 768 },
	[DHCHAP_FFDHE8192] = { "ffdhe8192", 1024 },
};

size_t dhchap_hash_len(unsigned id)
{
	return id >= 1 && id < ARRAY_SIZE(hashes) ? hashes[id].len : 0;
}

const char *dhchap_hash_name(unsigned id)
{
	return id >= 1 && id < ARRAY_SIZE(hashes) ? hashes[id].name : NULL;
}

const char *dhchap_dh_name(unsigned id)
{
	return id < ARRAY_SIZE(groups) ? groups[id].name : NULL;
}

size_t dhchap_dh_len(unsigned id)
{
	return id < ARRAY_SIZE(groups) ? groups[id].len : 0;
}

static int parse_small(const char *s, unsigned max)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	v = strtoul(s, &end, 10);
	return *end || v > max ? -1 : (int)v;
}

int dhchap_hash_id(const char *name)
{
	size_t n;

	if (!name)
		return -1;
	if (isdigit((unsigned char)name[0])) {
		int v = parse_small(name, 3);
		return v >= 1 ? v : -1;
	}
	n = strlen(name);
	if (n > 6 && !strncasecmp(name, "hmac(", 5) && name[n - 1] == ')') {
		char inner[16];
		if (n - 6 >= sizeof inner)
			return -1;
		memcpy(inner, name + 5, n - 6);
		inner[n - 6] = 0;
		return dhchap_hash_id(inner);
	}
	for (unsigned i = 1; i < ARRAY_SIZE(hashes); i++)
		if (!strcasecmp(name, hashes[i].name))
			return (int)i;
	return -1;
}

int dhchap_dh_id(const char *name)
{
	if (!name)
		return -1;
	if (isdigit((unsigned char)name[0]))
		return parse_small(name, DHCHAP_FFDHE8192);
	for (unsigned i = 0; i < ARRAY_SIZE(groups); i++)
		if (!strcasecmp(name, groups[i].name))
			return (int)i;
	return -1;
}

static bool key_len_ok(size_t len)
{
	return len == 32 || len == 48 || len == 64;
}

uint32_t dhchap_key_crc(const struct dhchap_key *key)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), key->key, key->len);
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int dhchap_key_parse(const char *secret, struct dhchap_key *key)
{
	/* Largest valid body: 68 bytes -> 92 characters. */
	unsigned char raw[96];
	const char *b64, *end;
	size_t n, pad = 0, rawlen;
	uint32_t crc, want;
	int hmac;

	memset(key, 0, sizeof *key);
	if (!secret || strncmp(secret, DHHC_PREFIX, strlen(DHHC_PREFIX)))
		return set_error(EINVAL, "not a DH-HMAC-CHAP secret: it must start "
				  "with 'DHHC-1:'");
	secret += strlen(DHHC_PREFIX);
	if (!isdigit((unsigned char)secret[0]) || !isdigit((unsigned char)secret[1]) ||
	    secret[2] != ':')
		return set_error(EINVAL, "DH-HMAC-CHAP secret: after 'DHHC-1:' comes "
				  "a two-digit transformation (00-03) and ':'");
	hmac = (secret[0] - '0') * 10 + (secret[1] - '0');
	if (hmac > 3)
		return set_error(EINVAL, "DH-HMAC-CHAP secret: unknown transformation "
				  "%02d (00 none, 01 SHA-256, 02 SHA-384, 03 SHA-512)", hmac);
	b64 = secret + 3;
	end = strchr(b64, ':');
	if (!end || end[1])
		return set_error(EINVAL, "DH-HMAC-CHAP secret: the base64 key must "
				  "end with ':' and nothing after it");
	n = (size_t)(end - b64);
	if (n == 0 || n % 4 || n > sizeof raw)
		return set_error(EINVAL, "DH-HMAC-CHAP secret: the key is %zu base64 "
				  "characters; a 32, 48 or 64-byte key and its CRC "
				  "are 48, 72 or 92", n);
	while (pad < 2 && b64[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char(b64[i]))
			return set_error(EINVAL, "DH-HMAC-CHAP secret: the character "
					  "at %zu is not base64", i);
	int got = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (got < 0 || (size_t)got < pad)
		return set_error(EINVAL, "DH-HMAC-CHAP secret: bad base64");
	rawlen = (size_t)got - pad;
	if (!key_len_ok(rawlen - 4) || rawlen < 4) {
		OPENSSL_cleanse(raw, sizeof raw);
		return set_error(EINVAL, "DH-HMAC-CHAP secret: the key is %zu bytes; "
				  "it must be 32, 48 or 64 (and a 4-byte CRC)",
				  rawlen >= 4 ? rawlen - 4 : 0);
	}
	key->len = (uint8_t)(rawlen - 4);
	key->hmac = (uint8_t)hmac;
	memcpy(key->key, raw, key->len);
	want = (uint32_t)raw[key->len] | (uint32_t)raw[key->len + 1] << 8 |
	       (uint32_t)raw[key->len + 2] << 16 | (uint32_t)raw[key->len + 3] << 24;
	OPENSSL_cleanse(raw, sizeof raw);
	crc = dhchap_key_crc(key);
	if (crc != want) {
		dhchap_key_wipe(key);
		/* (Neither CRC is shown: both say something about the key.) */
		return set_error(EINVAL, "DH-HMAC-CHAP secret: CRC mismatch: the "
				  "key is not the one the secret was made with (mistyped?)");
	}
	return 0;
}

int dhchap_key_format(const struct dhchap_key *key, char *out, size_t outlen)
{
	unsigned char raw[DHCHAP_MAX_KEY + 4];
	char b64[4 * ((sizeof raw + 2) / 3) + 1];
	uint32_t crc;
	int n;

	if (!key_len_ok(key->len) || key->hmac > 3)
		return set_error(EINVAL, "DH-HMAC-CHAP key: length %u or "
				  "transformation %u invalid", key->len, key->hmac);
	crc = dhchap_key_crc(key);
	memcpy(raw, key->key, key->len);
	raw[key->len] = (uint8_t)crc;
	raw[key->len + 1] = (uint8_t)(crc >> 8);
	raw[key->len + 2] = (uint8_t)(crc >> 16);
	raw[key->len + 3] = (uint8_t)(crc >> 24);
	EVP_EncodeBlock((unsigned char *)b64, raw, key->len + 4);
	OPENSSL_cleanse(raw, sizeof raw);
	n = snprintf(out, outlen, DHHC_PREFIX "%02u:%s:", key->hmac, b64);
	OPENSSL_cleanse(b64, sizeof b64);
	if (n < 0 || (size_t)n >= outlen)
		return set_error(ENOSPC, "DH-HMAC-CHAP key: %zu bytes are too few",
				  outlen);
	return n;
}

int dhchap_key_generate(struct dhchap_key *key, unsigned hmac, unsigned len)
{
	memset(key, 0, sizeof *key);
	if (hmac > 3)
		return set_error(EINVAL, "transformation %u: 0 (none), 1 (SHA-256), "
				  "2 (SHA-384) or 3 (SHA-512)", hmac);
	if (!key_len_ok(len))
		return set_error(EINVAL, "key length %u: 32, 48 or 64", len);
	if (RAND_bytes(key->key, (int)len) != 1)
		return set_error(EIO, "no random bytes from OpenSSL");
	key->hmac = (uint8_t)hmac;
	key->len = (uint8_t)len;
	return 0;
}

int dhchap_hmac(unsigned hash_id, const uint8_t *key, size_t keylen,
		const struct dhchap_buf *parts, size_t nparts, uint8_t *out)
{
	const char *name = dhchap_hash_name(hash_id);
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	size_t l = 0;
	int ok;

	if (!name)
		return set_error(EINVAL, "unknown hash function %u", hash_id);
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)name, 0),
		OSSL_PARAM_construct_end(),
	};
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	ok = ctx && EVP_MAC_init(ctx, key, keylen, params);
	for (size_t i = 0; ok && i < nparts; i++)
		ok = EVP_MAC_update(ctx, parts[i].p, parts[i].n);
	ok = ok && EVP_MAC_final(ctx, out, &l, DHCHAP_MAX_HASH);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (!ok || l != dhchap_hash_len(hash_id))
		return set_error(EIO, "HMAC-%s failed in OpenSSL", name);
	return (int)l;
}

int dhchap_hash(unsigned hash_id, const uint8_t *data, size_t len, uint8_t *out)
{
	const char *name = dhchap_hash_name(hash_id);
	EVP_MD *md;
	unsigned int l = 0;
	int ok;

	if (!name)
		return set_error(EINVAL, "unknown hash function %u", hash_id);
	md = EVP_MD_fetch(NULL, name, NULL);
	ok = md && EVP_Digest(data, len, out, &l, md, NULL);
	EVP_MD_free(md);
	if (!ok || l != dhchap_hash_len(hash_id))
		return set_error(EIO, "%s failed in OpenSSL", name);
	return (int)l;
}

int dhchap_key_transform(const struct dhchap_key *key, const char *nqn, uint8_t *out)
{
	static const char salt[] = "NVMe-over-Fabrics";

	if (!key_len_ok(key->len))
		return set_error(EINVAL, "DH-HMAC-CHAP key: length %u invalid", key->len);
	if (key->hmac == 0) {
		memcpy(out, key->key, key->len);
		return key->len;
	}
	if (!dhchap_hash_name(key->hmac))
		return set_error(EINVAL, "DH-HMAC-CHAP key: transformation %u invalid",
				  key->hmac);
	if (!nqn)
		return set_error(EINVAL, "DH-HMAC-CHAP key transformation needs an NQN");
	const struct dhchap_buf parts[] = {
		{ nqn, strlen(nqn) }, { salt, sizeof salt - 1 },
	};
	return dhchap_hmac(key->hmac, key->key, key->len, parts, 2, out);
}

void dhchap_key_wipe(struct dhchap_key *key)
{
	OPENSSL_cleanse(key, sizeof *key);
}

/* ---- the public face of the secrets (nvmeof.h) ----------------------------- */

int nvmeof_dhchap_key_generate(unsigned hmac, unsigned len, const char *hostnqn,
			       const uint8_t *secret, char *out, size_t outlen)
{
	struct dhchap_key k;
	uint8_t t[DHCHAP_MAX_KEY];
	int rc;

	if (hmac > 3)
		return set_error(EINVAL, "DH-HMAC-CHAP key: transformation %u invalid (0-3)",
				 hmac);
	if (!len)
		len = hmac ? (unsigned)dhchap_hash_len(hmac) : 32;
	if (!key_len_ok(len))
		return set_error(EINVAL, "DH-HMAC-CHAP key: length %u invalid (32, 48 or 64)",
				 len);
	if (hmac && len != dhchap_hash_len(hmac))
		return set_error(EINVAL, "DH-HMAC-CHAP key: a key transformed with %s is %zu bytes, not %u",
				 dhchap_hash_name(hmac), dhchap_hash_len(hmac), len);
	if (secret) {
		memset(&k, 0, sizeof k);
		memcpy(k.key, secret, len);
		k.len = (uint8_t)len;
		k.hmac = (uint8_t)hmac;
	} else if ((rc = dhchap_key_generate(&k, hmac, len)) < 0) {
		return rc;
	}
	if (hmac) {
		rc = dhchap_key_transform(&k, hostnqn, t);
		if (rc < 0) {
			dhchap_key_wipe(&k);
			return rc;
		}
		memcpy(k.key, t, (size_t)rc);
		OPENSSL_cleanse(t, sizeof t);
	}
	rc = dhchap_key_format(&k, out, outlen);
	dhchap_key_wipe(&k);
	return rc < 0 ? rc : 0;
}

int nvmeof_dhchap_key_check(const char *key, struct nvmeof_dhchap_key_info *info)
{
	struct dhchap_key k;
	int rc = dhchap_key_parse(key, &k);

	if (rc < 0)
		return rc;
	if (info) {
		info->hmac = k.hmac;
		info->len = k.len;
		info->crc = dhchap_key_crc(&k);
	}
	dhchap_key_wipe(&k);
	return 0;
}
