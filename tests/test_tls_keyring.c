/* SPDX-License-Identifier: MIT */
/*
 * TLS PSKs as the Linux kernel holds them: tests/data/tls/linux-6.12-keyring.txt
 * has keys that nvme-cli 2.13 (libnvme 1.13) derived and inserted into the
 * .nvme keyring of Linux 6.12 (recorded by tests/interop/record-tls-fixtures.sh:
 * the key's description, the identity, and its bytes, the TLS PSK that nvmet
 * and tlshd use). Our compat derivation must give the same identity and PSK,
 * and the RFC 8446 one must not (it would not connect to such a keyring).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tls_key.h"

#define KEYRING TEST_DATA_DIR "/tls/linux-6.12-keyring.txt"

Test(tls_keyring, compat_matches_linux_keyring)
{
	FILE *f = fopen(KEYRING, "r");
	char line[2048], *fl[7], id[TLS_IDENTITY_MAX], *p;
	uint8_t want[TLS_KEY_MAX], psk[TLS_KEY_MAX];
	int rows = 0, v1 = 0, sha384 = 0;

	cr_assert_not_null(f, "%s", KEYRING);
	while (fgets(line, sizeof line, f)) {
		struct tls_key k;
		size_t n = 0;
		int nf = 0, rc;

		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = 0;
		for (p = line; nf < 7; nf++) {
			fl[nf] = p;
			p = strchr(p, '\t');
			if (!p) {
				nf++;
				break;
			}
			*p++ = 0;
		}
		cr_assert_eq(nf, 7, "row %d: %d fields", rows + 1, nf);
		cr_assert_str_eq(fl[4], "compat");
		cr_assert(strlen(fl[6]) % 2 == 0 && strlen(fl[6]) / 2 <= sizeof want);
		for (n = 0; n < strlen(fl[6]) / 2; n++) {
			unsigned v;
			cr_assert_eq(sscanf(fl[6] + 2 * n, "%2x", &v), 1);
			want[n] = (uint8_t)v;
		}
		cr_assert_eq(tls_key_parse(fl[3], &k), 0, "%s: %s", fl[3], nvmeof_get_error());
		rc = tls_derive(&k, fl[0], fl[1], (unsigned)atoi(fl[2]), TLS_DERIVE_COMPAT, id,
				sizeof id, psk);
		cr_assert_eq(rc, (int)n, "%s: %d (%s)", fl[3], rc, nvmeof_get_error());
		cr_assert_str_eq(id, fl[5], "%s v%s: identity", fl[3], fl[2]);
		cr_assert_arr_eq(psk, want, n, "%s v%s: not the PSK in Linux's keyring", fl[3],
				 fl[2]);
		rc = tls_derive(&k, fl[0], fl[1], (unsigned)atoi(fl[2]), TLS_DERIVE_RFC, id,
				sizeof id, psk);
		cr_assert_eq(rc, (int)n);
		cr_assert(memcmp(psk, want, n), "%s: the RFC derivation gave the compat PSK", fl[3]);
		rows++;
		v1 += fl[2][0] == '1';
		sha384 += n == 48;
	}
	fclose(f);
	cr_assert(rows >= 4 && v1 >= 2 && sha384 >= 2, "%d rows, %d v1, %d SHA-384", rows, v1,
		  sha384);
}
