/* SPDX-License-Identifier: MIT */
/* nvmeof_describe(): the discovery log page. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe_check.h"

/* ---- discovery log through describe --------------------------------------- */

static const char *subtype_words(unsigned st)
{
	return st == 3 ? "current discovery subsystem" :
	       st == 2 ? "nvme subsystem" : "discovery subsystem referral";
}

static const char *treq_words(unsigned treq)
{
	return treq == 4 ? "not specified, sq flow control disable supported" :
	       treq == 2 ? "not required" : "?";
}

static void check_discovery(const struct target *t)
{
	char *s = describe_target(t, NVMEOF_DESC_LOG_DISCOVERY, "disc-log.bin", 0);
	char *j = describe_target(t, NVMEOF_DESC_LOG_DISCOVERY, "disc-log.bin", JSON);
	unsigned i;

	expect_textf(s, "genctr", "%llu", (unsigned long long)t->genctr);
	expect_textf(s, "numrec", "%u", t->nrec);
	expect_json_uint(j, "genctr", t->genctr);
	expect_json_uint(j, "numrec", t->nrec);
	cr_expect_eq(json_array_len(j, "records"), (int)t->nrec);
	cr_expect(!text_get(s, "trtype", t->nrec, (char[64]){ 0 }, 64), "extra entry");
	for (i = 0; i < t->nrec; i++) {
		char k[64];

		expect_text_n(s, "trtype", i, "tcp");
		expect_text_n(s, "adrfam", i, "ipv4");
		expect_text_n(s, "subtype", i, subtype_words(t->subtype[i]));
		expect_text_n(s, "traddr", i, t->traddr);
		expect_text_n(s, "trsvcid", i, t->trsvcid);
		expect_text_n(s, "treq", i, treq_words(t->treq));
		expect_text_n(s, "subnqn", i, t->rec_subnqn[i]);
		expect_text_n(s, "sectype", i, "none");
#define K(f) (snprintf(k, sizeof k, "records.%u." f, i), k)
		expect_json_uint(j, K("trtype"), 3);
		expect_json_uint(j, K("adrfam"), 1);
		expect_json_uint(j, K("subtype"), t->subtype[i]);
		expect_json_str(j, K("traddr"), t->traddr);
		expect_json_str(j, K("trsvcid"), t->trsvcid);
		expect_json_uint(j, K("treq"), t->treq);
		expect_json_str(j, K("subnqn"), t->rec_subnqn[i]);
#undef K
	}
	free(s);
	free(j);
}

Test(discovery, nvmet) { check_discovery(&nvmet); }
Test(discovery, spdk) { check_discovery(&spdk); }

Test(discovery, numrec_beyond_buffer)
{
	size_t len, l;
	uint8_t *b = load("linux-nvmet-6.1-disc-log.bin", &len);

	cr_assert_eq(len, 3072u);
	/* the header says 2 records: any shorter buffer is an error */
	for (l = 0; l < len; l += 97)
		expect_einval(NVMEOF_DESC_LOG_DISCOVERY, b, l, l & 1 ? JSON : 0);
	expect_einval(NVMEOF_DESC_LOG_DISCOVERY, b, len - 1, 0);
	le64_put(b + 8, 1ULL << 63);
	expect_einval(NVMEOF_DESC_LOG_DISCOVERY, b, len, JSON);
	le64_put(b + 8, UINT64_MAX);
	expect_einval(NVMEOF_DESC_LOG_DISCOVERY, b, len, 0);
	free(b);
}

Test(discovery, hostile_strings)
{
	size_t len;
	uint8_t *b = load("spdk-23.01-disc-log.bin", &len);
	uint8_t *e = b + 1024;
	char *s, *j, got[1200], want[64];
	size_t i;

	/* traddr: 256 bytes, no NUL, escapes and high bytes */
	for (i = 0; i < 256; i++)
		e[512 + i] = (uint8_t)(i % 3 == 0 ? 0x1b : i % 3 == 1 ? 0xff : '"');
	/* trsvcid: 32 bytes with a newline and a backslash */
	memset(e + 32, 'x', 32);
	e[33] = '\n';
	e[34] = '\\';
	s = describe_buf(NVMEOF_DESC_LOG_DISCOVERY, b, len, 0);
	cr_assert_not_null(s, "%s", nvmeof_describe_error());
	cr_expect(text_clean(s), "raw control bytes in:\n%s", s);
	cr_assert(text_get(s, "traddr", 0, got, sizeof got));
	cr_expect(strncmp(got, "\\x1b\\xff\"\\x1b", 13) == 0, "%s", got);
	cr_assert(text_get(s, "trsvcid", 0, got, sizeof got));
	/* x \x0a \\ and 29 more x: all 32 bytes, escaped */
	snprintf(want, sizeof want, "x\\x0a\\\\%.29s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	cr_expect_str_eq(got, want);
	j = describe_buf(NVMEOF_DESC_LOG_DISCOVERY, b, len, JSON);
	cr_assert(json_valid(j), "%s", j);
	cr_expect(strstr(j, "\"\\u001b\\u00ff\\\"\\u001b") != NULL, "%s", j);
	cr_assert(json_get_string(j, "records.0.trsvcid", got, sizeof got));
	snprintf(want, sizeof want, "x\n\\%.29s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	cr_expect_str_eq(got, want);
	free(s);
	free(j);
	free(b);
}
