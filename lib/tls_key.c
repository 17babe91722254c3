/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP TLS pre-shared keys: the PSK interchange format, the retained PSK,
 * the identities and the TLS PSK, in both derivations found in the field
 * (see tls_key.h). tests/test_tls_key.c checks every value against what
 * nvme-cli 2.13 (compat) and 2.16 (RFC 8446) put into a keyring.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "internal.h"
#include "nvmeof.h"
#include "tls_key.h"

#define TLS_PREFIX "NVMeTLSkey-1:"

static const char *const deriv_names[] = {
	[TLS_DERIVE_AUTO] = "auto",
	[TLS_DERIVE_RFC] = "rfc",
	[TLS_DERIVE_COMPAT] = "compat",
};

const char *tls_derivation_name(enum tls_psk_derivation d)
{
	return (unsigned)d < ARRAY_SIZE(deriv_names) ? deriv_names[d] : NULL;
}

int tls_derivation_id(const char *name)
{
	for (unsigned i = 0; name && i < ARRAY_SIZE(deriv_names); i++)
		if (!strcmp(name, deriv_names[i]))
			return (int)i;
	return -1;
}

size_t tls_hash_len(unsigned hash)
{
	return hash == TLS_HASH_SHA256 ? 32 : hash == TLS_HASH_SHA384 ? 48 : 0;
}

static const char *hash_md(unsigned hash)
{
	return hash == TLS_HASH_SHA256 ? "SHA256" : hash == TLS_HASH_SHA384 ? "SHA384" : NULL;
}

const char *tls_hash_cipher(unsigned hash)
{
	return hash == TLS_HASH_SHA256 ? "TLS_AES_128_GCM_SHA256" :
	       hash == TLS_HASH_SHA384 ? "TLS_AES_256_GCM_SHA384" : NULL;
}

unsigned tls_key_hash(const struct tls_key *key)
{
	if (key->hmac)
		return key->hmac;
	return key->len == 48 ? TLS_HASH_SHA384 : TLS_HASH_SHA256;
}

static int check_shape(unsigned hmac, size_t len)
{
	if (hmac > 2)
		return set_error(EINVAL, "TLS key: unknown hash %02u (00 none, 01 SHA-256, "
				  "02 SHA-384)", hmac);
	if (hmac ? len != tls_hash_len(hmac) : len != 32 && len != 48)
		return set_error(EINVAL, "TLS key: the key is %zu bytes; %s", len,
				  hmac == 1 ? "an 01 (SHA-256) key is 32" :
				  hmac == 2 ? "an 02 (SHA-384) key is 48" :
				  "an 00 key is 32 or 48");
	return 0;
}

uint32_t tls_key_crc(const struct tls_key *key)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), key->key, key->len);
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int tls_key_parse(const char *s, struct tls_key *key)
{
	unsigned char raw[4 * 18]; /* a 48-byte key and its CRC decode to 52 */
	const char *b64, *end;
	size_t n, pad = 0, rawlen;
	uint32_t crc, want;
	unsigned hmac;
	int got, rc;

	memset(key, 0, sizeof *key);
	if (!s || strncmp(s, TLS_PREFIX, strlen(TLS_PREFIX)))
		return set_error(EINVAL, "not a TLS key: it must start with '"
				  TLS_PREFIX "'");
	s += strlen(TLS_PREFIX);
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':')
		return set_error(EINVAL, "TLS key: after '" TLS_PREFIX "' comes a "
				  "two-digit hash (00-02) and ':'");
	hmac = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	if (hmac > 2)
		return check_shape(hmac, 0);
	b64 = s + 3;
	end = strchr(b64, ':');
	if (!end || end[1])
		return set_error(EINVAL, "TLS key: the base64 key must end with ':' "
				  "and nothing after it");
	n = (size_t)(end - b64);
	if (n == 0 || n % 4 || n > sizeof raw)
		return set_error(EINVAL, "TLS key: the key is %zu base64 characters; "
				  "a 32 or 48-byte key and its CRC are 48 or 72", n);
	while (pad < 2 && b64[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char(b64[i]))
			return set_error(EINVAL, "TLS key: '%c' at %zu is not base64",
					  b64[i], i);
	got = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (got < 0 || (size_t)got < pad + 4) {
		OPENSSL_cleanse(raw, sizeof raw);
		return set_error(EINVAL, "TLS key: bad base64");
	}
	rawlen = (size_t)got - pad - 4;
	rc = check_shape(hmac, rawlen);
	if (rc < 0) {
		OPENSSL_cleanse(raw, sizeof raw);
		return rc;
	}
	key->hmac = (uint8_t)hmac;
	key->len = (uint8_t)rawlen;
	memcpy(key->key, raw, rawlen);
	want = (uint32_t)raw[rawlen] | (uint32_t)raw[rawlen + 1] << 8 |
	       (uint32_t)raw[rawlen + 2] << 16 | (uint32_t)raw[rawlen + 3] << 24;
	OPENSSL_cleanse(raw, sizeof raw);
	crc = tls_key_crc(key);
	if (crc != want) {
		tls_key_wipe(key);
		return set_error(EINVAL, "TLS key: CRC mismatch (the key says %08x, "
				  "its bytes give %08x): mistyped?", want, crc);
	}
	return 0;
}

int tls_key_format(const struct tls_key *key, char *out, size_t outlen)
{
	unsigned char raw[TLS_KEY_MAX + 4];
	char b64[4 * ((sizeof raw + 2) / 3) + 1];
	uint32_t crc;
	int n, rc;

	rc = check_shape(key->hmac, key->len);
	if (rc < 0)
		return rc;
	crc = tls_key_crc(key);
	memcpy(raw, key->key, key->len);
	for (int i = 0; i < 4; i++)
		raw[key->len + i] = (uint8_t)(crc >> (8 * i));
	EVP_EncodeBlock((unsigned char *)b64, raw, key->len + 4);
	OPENSSL_cleanse(raw, sizeof raw);
	n = snprintf(out, outlen, TLS_PREFIX "%02u:%s:", key->hmac, b64);
	OPENSSL_cleanse(b64, sizeof b64);
	if (n < 0 || (size_t)n >= outlen)
		return set_error(ENOSPC, "TLS key: %zu bytes are too few", outlen);
	return n;
}

int tls_key_generate(struct tls_key *key, unsigned hmac, unsigned len)
{
	int rc;

	memset(key, 0, sizeof *key);
	if (hmac)
		len = (unsigned)tls_hash_len(hmac) ? (unsigned)tls_hash_len(hmac) : len;
	rc = check_shape(hmac, len);
	if (rc < 0)
		return rc;
	if (RAND_bytes(key->key, (int)len) != 1)
		return set_error(EIO, "no random bytes from OpenSSL");
	key->hmac = (uint8_t)hmac;
	key->len = (uint8_t)len;
	return 0;
}

void tls_key_wipe(struct tls_key *key)
{
	OPENSSL_cleanse(key, sizeof *key);
}

/* ---- HKDF through OpenSSL's EVP_KDF ------------------------------------------ */

static int kdf(const char *alg, int mode, const char *md, const uint8_t *key,
	       size_t keylen, const char *label, const void *data, size_t datalen,
	       uint8_t *out, size_t outlen)
{
	OSSL_PARAM p[7], *q = p;
	EVP_KDF *k = EVP_KDF_fetch(NULL, alg, NULL);
	EVP_KDF_CTX *c = k ? EVP_KDF_CTX_new(k) : NULL;
	int ok;

	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, keylen);
	if (label) { /* TLS13-KDF: HKDF-Expand-Label("tls13 " label, data) */
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX,
							 (void *)"tls13 ", 6);
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL,
							 (void *)label, strlen(label));
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA,
							 (void *)data, datalen);
	} else if (data) { /* HKDF: info */
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 (void *)data, datalen);
	}
	*q = OSSL_PARAM_construct_end();
	ok = c && EVP_KDF_derive(c, out, outlen, p) > 0;
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(k);
	if (!ok)
		return set_error(EIO, "%s (%s) failed in OpenSSL", alg, md);
	return 0;
}

/*
 * HKDF-Expand-Label(HKDF-Extract(0, in), label, context, len): RFC 8446 7.1
 * through OpenSSL's TLS13-KDF, or the libnvme <= 1.15 form whose info is
 * len (16 bits little-endian) || "tls13 " || label || context.
 */
static int expand_label(enum tls_psk_derivation d, unsigned hash, const uint8_t *in,
			size_t len, const char *label, const char *ctx1,
			const char *ctx2, uint8_t *out)
{
	const char *md = hash_md(hash);
	uint8_t prk[64];
	char ctx[TLS_IDENTITY_MAX + 8];
	uint8_t info[2 + 6 + 16 + sizeof ctx];
	size_t cl, ll = strlen(label);
	int n, rc;

	if (!md)
		return set_error(EINVAL, "TLS PSK: unknown hash %u", hash);
	n = snprintf(ctx, sizeof ctx, "%s%s", ctx1, ctx2 ? ctx2 : "");
	if (n < 0 || (size_t)n >= sizeof ctx)
		return set_error(EINVAL, "TLS PSK: the context is too long");
	cl = (size_t)n;
	rc = kdf("HKDF", EVP_KDF_HKDF_MODE_EXTRACT_ONLY, md, in, len, NULL, NULL, 0,
		 prk, tls_hash_len(hash));
	if (rc < 0)
		return rc;
	if (d == TLS_DERIVE_RFC) {
		/* HkdfLabel carries the context's length in one byte. */
		if (cl > 255) {
			OPENSSL_cleanse(prk, sizeof prk);
			return set_error(EINVAL, "TLS PSK: a context of %zu bytes does "
					  "not fit RFC 8446's HKDF-Expand-Label (255 at "
					  "most): shorter NQNs, or --tls-psk-derivation "
					  "compat", cl);
		}
		rc = kdf("TLS13-KDF", EVP_KDF_HKDF_MODE_EXPAND_ONLY, md, prk,
			 tls_hash_len(hash), label, ctx, cl, out, len);
	} else if (d == TLS_DERIVE_COMPAT) {
		info[0] = (uint8_t)len;
		info[1] = (uint8_t)(len >> 8);
		memcpy(info + 2, "tls13 ", 6);
		memcpy(info + 8, label, ll);
		memcpy(info + 8 + ll, ctx, cl);
		rc = kdf("HKDF", EVP_KDF_HKDF_MODE_EXPAND_ONLY, md, prk,
			 tls_hash_len(hash), NULL, info, 8 + ll + cl, out, len);
	} else {
		rc = set_error(EINVAL, "TLS PSK: derivation %d is neither rfc nor compat",
				(int)d);
	}
	OPENSSL_cleanse(prk, sizeof prk);
	return rc;
}

static int check_nqn(const char *what, const char *nqn)
{
	if (!nqn || !*nqn || strlen(nqn) > 223 || strchr(nqn, ' '))
		return set_error(EINVAL, "TLS PSK: the %s NQN must be 1-223 characters "
				  "without spaces", what);
	return 0;
}

int tls_retained_psk(const struct tls_key *key, const char *hostnqn,
		     enum tls_psk_derivation d, uint8_t *out)
{
	int rc = check_shape(key->hmac, key->len);

	if (rc < 0)
		return rc;
	if (key->hmac == 0) {
		memcpy(out, key->key, key->len);
		return key->len;
	}
	rc = check_nqn("host", hostnqn);
	if (rc < 0)
		return rc;
	rc = expand_label(d, key->hmac, key->key, key->len, "HostNQN", hostnqn, NULL, out);
	return rc < 0 ? rc : key->len;
}

int tls_psk_digest(unsigned hash, const uint8_t *retained, size_t len,
		   const char *hostnqn, const char *subnqn, char *out, size_t outlen)
{
	static const char seed[] = "NVMe-over-Fabrics";
	const char *md = hash_md(hash);
	uint8_t mac[64];
	size_t l = 0;
	EVP_MAC *m;
	EVP_MAC_CTX *c;
	int ok;

	if (!md)
		return set_error(EINVAL, "TLS PSK digest: unknown hash %u", hash);
	if (outlen < 4 * ((tls_hash_len(hash) + 2) / 3) + 1)
		return set_error(ENOSPC, "TLS PSK digest: %zu bytes are too few", outlen);
	OSSL_PARAM p[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
		OSSL_PARAM_construct_end(),
	};
	m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	c = m ? EVP_MAC_CTX_new(m) : NULL;
	ok = c && EVP_MAC_init(c, retained, len, p) &&
	     EVP_MAC_update(c, (const uint8_t *)hostnqn, strlen(hostnqn)) &&
	     EVP_MAC_update(c, (const uint8_t *)" ", 1) &&
	     EVP_MAC_update(c, (const uint8_t *)subnqn, strlen(subnqn)) &&
	     EVP_MAC_update(c, (const uint8_t *)" ", 1) &&
	     EVP_MAC_update(c, (const uint8_t *)seed, sizeof seed - 1) &&
	     EVP_MAC_final(c, mac, &l, sizeof mac);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
	if (!ok || l != tls_hash_len(hash))
		return set_error(EIO, "HMAC-%s failed in OpenSSL", md);
	ok = EVP_EncodeBlock((unsigned char *)out, mac, (int)l);
	OPENSSL_cleanse(mac, sizeof mac);
	return ok;
}

int tls_identity(unsigned version, unsigned hash, const char *hostnqn,
		 const char *subnqn, const char *digest, char *out, size_t outlen)
{
	int n, rc;

	if (!tls_hash_len(hash))
		return set_error(EINVAL, "TLS identity: unknown hash %u", hash);
	if ((rc = check_nqn("host", hostnqn)) < 0 || (rc = check_nqn("subsystem", subnqn)) < 0)
		return rc;
	if (version == 0)
		n = snprintf(out, outlen, "NVMe0R%02u %s %s", hash, hostnqn, subnqn);
	else if (version == 1 && digest)
		n = snprintf(out, outlen, "NVMe1R%02u %s %s %s", hash, hostnqn, subnqn, digest);
	else
		return set_error(EINVAL, "TLS identity: version %u (0, or 1 with a PSK "
				  "digest)", version);
	if (n < 0 || (size_t)n >= outlen)
		return set_error(ENOSPC, "TLS identity: %zu bytes are too few", outlen);
	return n;
}

int tls_derive(const struct tls_key *key, const char *hostnqn, const char *subnqn,
	       unsigned version, enum tls_psk_derivation d, char *identity,
	       size_t idlen, uint8_t *psk)
{
	uint8_t retained[TLS_KEY_MAX];
	char digest[72], hashstr[4];
	unsigned hash = tls_key_hash(key);
	int rc;

	if (d != TLS_DERIVE_RFC && d != TLS_DERIVE_COMPAT)
		return set_error(EINVAL, "TLS PSK: derivation must be rfc or compat");
	if (version > 1)
		return set_error(EINVAL, "TLS identity version %u: 0 or 1", version);
	if ((rc = check_nqn("subsystem", subnqn)) < 0)
		return rc;
	rc = tls_retained_psk(key, hostnqn, d, retained);
	if (rc < 0)
		return rc;
	if (version == 1) {
		rc = tls_psk_digest(hash, retained, key->len, hostnqn, subnqn, digest,
				    sizeof digest);
		if (rc < 0)
			goto out;
	}
	rc = tls_identity(version, hash, hostnqn, subnqn, version ? digest : NULL,
			  identity, idlen);
	if (rc < 0)
		goto out;
	/* The context: the identity (version 0), or "HH <digest>" (version 1). */
	snprintf(hashstr, sizeof hashstr, "%02u ", hash);
	rc = expand_label(d, hash, retained, key->len, "nvme-tls-psk",
			  version ? hashstr : identity, version ? digest : NULL, psk);
	if (rc >= 0)
		rc = key->len;
out:
	OPENSSL_cleanse(retained, sizeof retained);
	return rc;
}

/* ---- the public face (nvmeof.h) ---------------------------------------------- */

_Static_assert((int)TLS_DERIVE_RFC == (int)NVMEOF_TLS_DERIVE_RFC &&
	       (int)TLS_DERIVE_COMPAT == (int)NVMEOF_TLS_DERIVE_COMPAT &&
	       TLS_KEY_STR_MAX == NVMEOF_TLS_KEY_STR_MAX &&
	       TLS_IDENTITY_MAX == NVMEOF_TLS_IDENTITY_MAX &&
	       TLS_KEY_MAX == NVMEOF_TLS_PSK_MAX, "nvmeof.h and tls_key.h agree");

int nvmeof_tls_key_check(const char *s, struct nvmeof_tls_key_info *info)
{
	struct tls_key k;
	int rc = tls_key_parse(s, &k);

	if (rc < 0)
		return rc;
	if (info) {
		info->hmac = k.hmac;
		info->len = k.len;
		info->crc = tls_key_crc(&k);
		info->cipher = tls_hash_cipher(tls_key_hash(&k));
	}
	tls_key_wipe(&k);
	return 0;
}

int nvmeof_tls_key_generate(unsigned hmac, const uint8_t *bytes, char *out, size_t outlen)
{
	struct tls_key k;
	int rc;

	if (bytes) {
		memset(&k, 0, sizeof k);
		rc = check_shape(hmac, tls_hash_len(hmac));
		if (rc < 0 || hmac == 0)
			return rc < 0 ? rc : set_error(EINVAL, "TLS key: hash 1 or 2");
		k.hmac = (uint8_t)hmac;
		k.len = (uint8_t)tls_hash_len(hmac);
		memcpy(k.key, bytes, k.len);
	} else {
		rc = tls_key_generate(&k, hmac, 0);
		if (rc < 0)
			return rc;
	}
	rc = tls_key_format(&k, out, outlen);
	tls_key_wipe(&k);
	return rc < 0 ? rc : 0;
}

int nvmeof_tls_key_derive(const char *s, const char *hostnqn, const char *subnqn,
			  unsigned version, enum nvmeof_tls_derivation d, char *identity,
			  size_t idlen, uint8_t *psk)
{
	struct tls_key k;
	int rc = tls_key_parse(s, &k);

	if (rc < 0)
		return rc;
	rc = tls_derive(&k, hostnqn, subnqn, version, (enum tls_psk_derivation)d, identity,
			idlen, psk);
	tls_key_wipe(&k);
	return rc;
}
