/* SPDX-License-Identifier: MIT */
/*
 * DH-HMAC-CHAP secrets (lib/auth_key.c) against what Debian 12's nvme-cli
 * 2.3 produced (tests/data/dhchap/, see its README): the DHHC-1 format, the
 * CRC-32, the secret transformation, and every way a secret can be wrong.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "internal.h"

#define GEN TEST_DATA_DIR "/dhchap/gen.txt"
#define CHECK TEST_DATA_DIR "/dhchap/check.txt"

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2;

	cr_assert(n <= max && strlen(s) % 2 == 0, "bad hex fixture '%s'", s);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		cr_assert(sscanf(s + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

struct gen_row {
	unsigned hmac, len;
	char secret[160], nqn[256], key[160];
};

static size_t read_gen(struct gen_row *rows, size_t max)
{
	FILE *f = fopen(GEN, "r");
	char line[1024];
	size_t n = 0;

	cr_assert_not_null(f, "cannot open %s", GEN);
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		cr_assert(n < max);
		cr_assert_eq(sscanf(line, "%u %u %159s %255s %159s", &rows[n].hmac,
				    &rows[n].len, rows[n].secret, rows[n].nqn,
				    rows[n].key), 5, "bad line in %s: %s", GEN, line);
		n++;
	}
	fclose(f);
	return n;
}

/* Every key nvme-cli printed parses, has the indicator and length it was
 * made with, and formats back to the very same string. */
Test(dhchap_key, nvme_cli_keys_round_trip)
{
	struct gen_row rows[64];
	size_t n = read_gen(rows, 64);

	cr_assert_geq(n, 18);
	for (size_t i = 0; i < n; i++) {
		struct dhchap_key k;
		char out[DHCHAP_KEY_STR_MAX];

		cr_assert_eq(dhchap_key_parse(rows[i].key, &k), 0, "%s: %s", rows[i].key,
			     nvmeof_get_error());
		cr_expect_eq(k.hmac, rows[i].hmac);
		cr_expect_eq(k.len, rows[i].len);
		cr_assert_eq(dhchap_key_format(&k, out, sizeof out), (int)strlen(rows[i].key));
		cr_expect_str_eq(out, rows[i].key);
	}
}

/* With --hmac 0 nvme-cli prints the secret given; with 1-3 it prints the
 * secret transformed with the NQN: our transformation must match both. */
Test(dhchap_key, transformation_matches_nvme_cli)
{
	struct gen_row rows[64];
	size_t n = read_gen(rows, 64), transformed = 0;

	for (size_t i = 0; i < n; i++) {
		struct dhchap_key raw = { .hmac = (uint8_t)rows[i].hmac }, printed;
		uint8_t out[DHCHAP_MAX_KEY];
		int len;

		raw.len = (uint8_t)unhex(rows[i].secret, raw.key, sizeof raw.key);
		cr_assert_eq(raw.len, rows[i].len);
		cr_assert_eq(dhchap_key_parse(rows[i].key, &printed), 0);
		len = dhchap_key_transform(&raw, rows[i].nqn, out);
		cr_assert_eq(len, printed.len, "row %zu: %d bytes", i, len);
		cr_expect_eq(memcmp(out, printed.key, (size_t)len), 0,
			     "row %zu (hmac %u): transformation differs from nvme-cli", i,
			     rows[i].hmac);
		if (rows[i].hmac)
			transformed++;
		/* ... and another NQN gives another key. */
		if (rows[i].hmac) {
			uint8_t other[DHCHAP_MAX_KEY];
			cr_assert_eq(dhchap_key_transform(&raw, "nqn.2014-08.org.example:x",
							  other), len);
			cr_expect_neq(memcmp(out, other, (size_t)len), 0);
		}
	}
	cr_assert_geq(transformed, 9);
}

/* check.txt: nvme check-dhchap-key's verdict on each key; we agree on
 * valid/invalid and, for the valid ones, on HMAC, length and CRC. */
Test(dhchap_key, agrees_with_nvme_cli_check)
{
	FILE *f = fopen(CHECK, "r");
	char line[1024];
	int valid = 0, invalid = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof line, f)) {
		char *key = line, *rc, *msg;
		struct dhchap_key k;
		int r;

		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = 0;
		rc = strchr(key, '\t');
		cr_assert_not_null(rc);
		*rc++ = 0;
		msg = strchr(rc, '\t');
		cr_assert_not_null(msg);
		*msg++ = 0;
		r = dhchap_key_parse(key, &k);
		if (atoi(rc) == 0) {
			unsigned h, l, crc;
			cr_assert_eq(r, 0, "%s: %s", key, nvmeof_get_error());
			cr_assert_eq(sscanf(msg, "Key is valid (HMAC %u, length %u, CRC %x)",
					    &h, &l, &crc), 3, "%s", msg);
			cr_expect_eq(k.hmac, h);
			cr_expect_eq(k.len, l);
			cr_expect_eq(dhchap_key_crc(&k), crc);
			valid++;
		} else {
			cr_expect_eq(r, -EINVAL, "%s accepted; nvme-cli: %s", key, msg);
			invalid++;
		}
	}
	fclose(f);
	cr_assert_geq(valid, 18);
	cr_assert_geq(invalid, 8);
}

static void expect_bad(const char *s, const char *why)
{
	struct dhchap_key k;

	cr_expect_eq(dhchap_key_parse(s, &k), -EINVAL, "'%s' accepted", s);
	cr_expect_not_null(strstr(nvmeof_get_error(), why), "'%s': '%s' lacks '%s'",
			   s, nvmeof_get_error(), why);
}

Test(dhchap_key, rejects_with_reason)
{
	/* A good key: 00, 32 zero..31 bytes. */
	const char *good = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";
	struct dhchap_key k;

	cr_assert_eq(dhchap_key_parse(good, &k), 0, "%s", nvmeof_get_error());
	cr_expect_eq(dhchap_key_crc(&k), 0x91267e8a);
	for (int i = 0; i < 32; i++)
		cr_expect_eq(k.key[i], i);

	expect_bad(NULL, "DHHC-1:");
	expect_bad("", "DHHC-1:");
	expect_bad("DHHC-2:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", "DHHC-1:");
	expect_bad("DHHC-1:0:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", "two-digit");
	expect_bad("DHHC-1:x0:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", "two-digit");
	expect_bad("DHHC-1:04:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", "unknown transformation 04");
	expect_bad("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR", "end with ':'");
	expect_bad("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:x", "end with ':'");
	expect_bad("DHHC-1:00::", "0 base64");
	expect_bad("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+Kfi:", "46 base64");
	expect_bad("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+Kf!aR:", "character at 45 is not base64");
	expect_bad("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+Kf=aR:", "character at 45 is not base64");
	expect_bad("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaS:", "CRC mismatch");
	/* 28 bytes + CRC (base64 with one '='), 33 bytes + CRC (two) */
	expect_bad("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=:", "28 bytes");
	expect_bad("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJA==:", "33 bytes");
	/* The wrong-CRC key is wiped, not left half-filled. */
	dhchap_key_parse("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaS:", &k);
	cr_expect_eq(k.len, 0);
	cr_expect_eq(k.key[5], 0);
}

Test(dhchap_key, generate_and_format)
{
	static const unsigned lens[] = { 32, 48, 64 };

	for (unsigned h = 0; h <= 3; h++)
		for (size_t i = 0; i < 3; i++) {
			struct dhchap_key a, b;
			char s[DHCHAP_KEY_STR_MAX];

			cr_assert_eq(dhchap_key_generate(&a, h, lens[i]), 0);
			cr_assert_gt(dhchap_key_format(&a, s, sizeof s), 0);
			cr_assert_eq(dhchap_key_parse(s, &b), 0, "%s: %s", s, nvmeof_get_error());
			cr_expect_eq(b.hmac, h);
			cr_expect_eq(b.len, lens[i]);
			cr_expect_eq(memcmp(a.key, b.key, a.len), 0);
		}
	struct dhchap_key k;
	char small[20];
	cr_expect_eq(dhchap_key_generate(&k, 4, 32), -EINVAL);
	cr_expect_eq(dhchap_key_generate(&k, 1, 33), -EINVAL);
	cr_assert_eq(dhchap_key_generate(&k, 1, 32), 0);
	cr_expect_eq(dhchap_key_format(&k, small, sizeof small), -ENOSPC);
	dhchap_key_wipe(&k);
	cr_expect_eq(k.len, 0);
	k.len = 31;
	cr_expect_eq(dhchap_key_format(&k, small, sizeof small), -EINVAL);
	uint8_t out[DHCHAP_MAX_KEY];
	cr_expect_eq(dhchap_key_transform(&k, "nqn.x", out), -EINVAL);
	k.len = 32;
	k.hmac = 1;
	cr_expect_eq(dhchap_key_transform(&k, NULL, out), -EINVAL);
	k.hmac = 9;
	cr_expect_eq(dhchap_key_transform(&k, "nqn.x", out), -EINVAL);
}

/* HMAC and hash against RFC 4231 test case 2 and FIPS 180-2 "abc". */
Test(dhchap_key, hmac_and_hash_known_answers)
{
	static const char *want256 =
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	static const char *abc512 =
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
	uint8_t out[DHCHAP_MAX_HASH], want[DHCHAP_MAX_HASH];
	const struct dhchap_buf parts[] = { { "what do ya want ", 16 },
					    { "for nothing?", 12 } };

	cr_assert_eq(dhchap_hmac(DHCHAP_SHA256, (const uint8_t *)"Jefe", 4, parts, 2, out), 32);
	unhex(want256, want, sizeof want);
	cr_expect_eq(memcmp(out, want, 32), 0);
	cr_assert_eq(dhchap_hash(DHCHAP_SHA512, (const uint8_t *)"abc", 3, out), 64);
	unhex(abc512, want, sizeof want);
	cr_expect_eq(memcmp(out, want, 64), 0);
	cr_expect_eq(dhchap_hmac(0, out, 4, parts, 2, out), -EINVAL);
	cr_expect_eq(dhchap_hash(4, out, 4, out), -EINVAL);
}

Test(dhchap_names, ids)
{
	cr_expect_eq(dhchap_hash_id("sha256"), 1);
	cr_expect_eq(dhchap_hash_id("hmac(sha384)"), 2);
	cr_expect_eq(dhchap_hash_id("SHA512"), 3);
	cr_expect_eq(dhchap_hash_id("3"), 3);
	cr_expect_eq(dhchap_hash_id("0"), -1);
	cr_expect_eq(dhchap_hash_id("md5"), -1);
	cr_expect_eq(dhchap_hash_id("hmac(sha256"), -1);
	cr_expect_eq(dhchap_hash_id(NULL), -1);
	cr_expect_eq(dhchap_dh_id("null"), 0);
	cr_expect_eq(dhchap_dh_id("ffdhe8192"), 5);
	cr_expect_eq(dhchap_dh_id("2"), 2);
	cr_expect_eq(dhchap_dh_id("6"), -1);
	cr_expect_eq(dhchap_dh_id("ffdhe1024"), -1);
	cr_expect_eq(dhchap_hash_len(DHCHAP_SHA384), 48);
	cr_expect_eq(dhchap_hash_len(0), 0);
	cr_expect_eq(dhchap_hash_len(4), 0);
	cr_expect_eq(dhchap_dh_len(DHCHAP_FFDHE2048), 256);
	cr_expect_eq(dhchap_dh_len(DHCHAP_FFDHE8192), 1024);
	cr_expect_eq(dhchap_dh_len(DHCHAP_DH_NULL), 0);
	cr_expect_eq(dhchap_dh_len(6), 0);
	cr_expect_str_eq(dhchap_dh_name(3), "ffdhe4096");
	cr_expect_null(dhchap_dh_name(6));
	cr_expect_str_eq(dhchap_hash_name(1), "sha256");
	cr_expect_null(dhchap_hash_name(0));
}
