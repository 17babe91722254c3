/* SPDX-License-Identifier: MIT */
/*
 * TLS pre-shared keys (lib/tls_key.c) against what three nvme-cli builds
 * produced (tests/data/tls/, see its README): the interchange format and its
 * CRC (nvme-cli 2.3's check-tls-key), the identities and TLS PSKs of both
 * derivations (2.16's RFC 8446 form, 2.13's compat form), for identity
 * versions 0 and 1, and every way a key can be wrong.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tls_key.h"

#define CHECK TEST_DATA_DIR "/tls/check.txt"
#define DERIVE TEST_DATA_DIR "/tls/derive.txt"

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

/* Split a line at tabs into at most max fields; returns their number. */
static int fields(char *line, char **f, int max)
{
	int n = 0;

	line[strcspn(line, "\n")] = 0;
	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = 0;
	}
	return n;
}

Test(tls_key, derivations_match_nvme_cli)
{
	FILE *f = fopen(DERIVE, "r");
	char line[2048], *fl[7], id[TLS_IDENTITY_MAX];
	uint8_t want[TLS_KEY_MAX], psk[TLS_KEY_MAX];
	int rows = 0, rfc = 0, compat = 0, v1 = 0, k00 = 0;

	cr_assert_not_null(f, "%s", DERIVE);
	while (fgets(line, sizeof line, f)) {
		struct tls_key k;
		enum tls_psk_derivation d;
		size_t n;
		int rc;

		if (line[0] == '#')
			continue;
		cr_assert_eq(fields(line, fl, 7), 7, "derive.txt row %d", rows + 1);
		cr_assert_eq(tls_key_parse(fl[3], &k), 0, "%s: %s", fl[3], nvmeof_get_error());
		d = (enum tls_psk_derivation)tls_derivation_id(fl[4]);
		cr_assert(d == TLS_DERIVE_RFC || d == TLS_DERIVE_COMPAT, "%s", fl[4]);
		n = unhex(fl[6], want, sizeof want);
		rc = tls_derive(&k, fl[0], fl[1], (unsigned)atoi(fl[2]), d, id, sizeof id, psk);
		cr_assert_eq(rc, (int)n, "%s %s: %d (%s)", fl[3], fl[4], rc, nvmeof_get_error());
		cr_assert_str_eq(id, fl[5], "%s %s v%s", fl[3], fl[4], fl[2]);
		cr_assert_arr_eq(psk, want, n, "%s %s v%s: the TLS PSK differs", fl[3], fl[4],
				 fl[2]);
		rows++;
		rfc += d == TLS_DERIVE_RFC;
		compat += d == TLS_DERIVE_COMPAT;
		v1 += fl[2][0] == '1';
		k00 += k.hmac == 0;
	}
	fclose(f);
	cr_assert(rows >= 48 && rfc >= 24 && compat >= 24 && v1 >= 24 && k00 >= 16,
		  "derive.txt: %d rows, %d rfc, %d compat, %d v1, %d 00", rows, rfc, compat,
		  v1, k00);
}

/* The two derivations give different PSKs (else the test above proves little). */
Test(tls_key, derivations_differ)
{
	struct tls_key k;
	char id1[TLS_IDENTITY_MAX], id2[TLS_IDENTITY_MAX];
	uint8_t a[TLS_KEY_MAX], b[TLS_KEY_MAX];

	cr_assert_eq(tls_key_generate(&k, 1, 0), 0);
	cr_assert_eq(tls_derive(&k, "nqn.h", "nqn.s", 0, TLS_DERIVE_RFC, id1, sizeof id1, a), 32);
	cr_assert_eq(tls_derive(&k, "nqn.h", "nqn.s", 0, TLS_DERIVE_COMPAT, id2, sizeof id2, b), 32);
	cr_assert_str_eq(id1, "NVMe0R01 nqn.h nqn.s");
	cr_assert_str_eq(id2, id1);
	cr_assert(memcmp(a, b, 32), "rfc and compat gave the same PSK");
}

Test(tls_key, check_matches_nvme_cli)
{
	FILE *f = fopen(CHECK, "r");
	char line[1024], *fl[3], msg[128], again[TLS_KEY_STR_MAX];
	int good = 0, bad = 0;

	cr_assert_not_null(f, "%s", CHECK);
	while (fgets(line, sizeof line, f)) {
		struct tls_key k;
		int rc;

		if (line[0] == '#')
			continue;
		cr_assert_eq(fields(line, fl, 3), 3);
		rc = tls_key_parse(fl[0], &k);
		if (!strcmp(fl[1], "0")) {
			cr_assert_eq(rc, 0, "%s: %s", fl[0], nvmeof_get_error());
			snprintf(msg, sizeof msg, "Key is valid (HMAC %u, length %u, CRC %08x)",
				 k.hmac, k.len, tls_key_crc(&k));
			cr_assert_str_eq(msg, fl[2]);
			cr_assert_gt(tls_key_format(&k, again, sizeof again), 0);
			cr_assert_str_eq(again, fl[0], "format(parse(key)) differs");
			good++;
		} else if (strstr(fl[2], "Invalid HMAC identifier 0")) {
			/* nvme-cli 2.3 refuses 00, the specification (and libnvme
			 * 1.13+, derive.txt) accept it. */
			cr_assert_eq(rc, 0, "%s: %s", fl[0], nvmeof_get_error());
			cr_assert_eq(k.hmac, 0);
		} else {
			cr_assert_lt(rc, 0, "%s accepted; nvme-cli: %s", fl[0], fl[2]);
			bad++;
		}
	}
	fclose(f);
	cr_assert(good >= 5 && bad >= 8, "check.txt: %d good, %d bad", good, bad);
}

static void refused(const char *key, const char *reason)
{
	struct tls_key k;

	cr_assert_lt(tls_key_parse(key, &k), 0, "%s accepted", key);
	cr_assert(strstr(nvmeof_get_error(), reason), "%s: '%s' lacks '%s'", key,
		  nvmeof_get_error(), reason);
}

Test(tls_key, reasons)
{
	refused("NVMeTLSkey-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdv:",
		"CRC mismatch");
	refused("NVMeTLSkey-1:03:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu:",
		"unknown hash 03");
	refused("DHHC-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu:",
		"must start with 'NVMeTLSkey-1:'");
	refused("NVMeTLSkey-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu",
		"must end with ':'");
	refused("NVMeTLSkey-1:01:meGtuwaxQDZciRze*2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu:",
		"'*' at 16 is not base64");
	refused("NVMeTLSkey-1:1:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu:",
		"two-digit hash");
	refused("NVMeTLSkey-1:01::", "0 base64 characters");
	refused(NULL, "must start with");

	/* A 48-byte key under 01 (SHA-256) and a 32-byte one under 02. */
	struct tls_key k;
	char s[TLS_KEY_STR_MAX];

	cr_assert_eq(tls_key_generate(&k, 0, 48), 0);
	k.hmac = 0;
	cr_assert_gt(tls_key_format(&k, s, sizeof s), 0);
	memcpy(s + 13, "01", 2);
	refused(s, "an 01 (SHA-256) key is 32");
	cr_assert_eq(tls_key_generate(&k, 0, 32), 0);
	cr_assert_gt(tls_key_format(&k, s, sizeof s), 0);
	memcpy(s + 13, "02", 2);
	refused(s, "an 02 (SHA-384) key is 48");
	cr_assert_lt(tls_key_generate(&k, 0, 64), 0);
	cr_assert_lt(tls_key_generate(&k, 3, 0), 0);
	cr_assert_lt(tls_key_format(&k, s, 20), 0);
}

Test(tls_key, generate_and_identity_rules)
{
	struct tls_key k;
	char s[TLS_KEY_STR_MAX], id[TLS_IDENTITY_MAX];
	uint8_t psk[TLS_KEY_MAX];
	char h[224], sub[224];

	cr_assert_eq(tls_key_generate(&k, 2, 0), 0);
	cr_assert_eq(k.len, 48);
	cr_assert_eq(tls_key_hash(&k), 2);
	cr_assert_str_eq(tls_hash_cipher(tls_key_hash(&k)), "TLS_AES_256_GCM_SHA384");
	cr_assert_gt(tls_key_format(&k, s, sizeof s), 0);
	cr_assert(!strncmp(s, "NVMeTLSkey-1:02:", 16));
	cr_assert_eq(tls_key_generate(&k, 0, 32), 0);
	cr_assert_eq(tls_key_hash(&k), 1);

	/* NQNs of 223 characters: the identity is too long for RFC 8446's
	 * one-byte context length; compat has no such limit. */
	memset(h, 'h', 223);
	h[223] = 0;
	memcpy(h, "nqn.", 4);
	memset(sub, 's', 223);
	sub[223] = 0;
	memcpy(sub, "nqn.", 4);
	cr_assert_lt(tls_derive(&k, h, sub, 0, TLS_DERIVE_RFC, id, sizeof id, psk), 0);
	cr_assert(strstr(nvmeof_get_error(), "255 at most"), "%s", nvmeof_get_error());
	cr_assert_eq(tls_derive(&k, h, sub, 0, TLS_DERIVE_COMPAT, id, sizeof id, psk), 32);
	/* ... but a version 1 identity's context is the digest: fine. */
	cr_assert_eq(tls_derive(&k, h, sub, 1, TLS_DERIVE_RFC, id, sizeof id, psk), 32);
	cr_assert_eq(strlen(id), 9 + 223 + 1 + 223 + 1 + 44);

	cr_assert_lt(tls_derive(&k, "nqn.a b", "nqn.s", 0, TLS_DERIVE_RFC, id, sizeof id, psk), 0);
	cr_assert_lt(tls_derive(&k, "nqn.h", "", 0, TLS_DERIVE_RFC, id, sizeof id, psk), 0);
	cr_assert_lt(tls_derive(&k, "nqn.h", "nqn.s", 2, TLS_DERIVE_RFC, id, sizeof id, psk), 0);
	cr_assert_lt(tls_derive(&k, "nqn.h", "nqn.s", 0, TLS_DERIVE_AUTO, id, sizeof id, psk), 0);
	cr_assert_lt(tls_derive(&k, "nqn.h", "nqn.s", 0, TLS_DERIVE_RFC, id, 10, psk), 0);
	cr_assert_eq(tls_derivation_id("compat"), TLS_DERIVE_COMPAT);
	cr_assert_eq(tls_derivation_id("RFC"), -1);
	cr_assert_str_eq(tls_derivation_name(TLS_DERIVE_AUTO), "auto");
}
