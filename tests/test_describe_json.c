/* SPDX-License-Identifier: MIT */
/* Every fixture as clean text and valid JSON, and the JSON checker
 * (json_check.h) that the other tests rely on must itself be able to say no. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe_check.h"

/* ---- every fixture in both forms ------------------------------------------------ */

Test(fixtures, all_clean_text_and_valid_json)
{
	static const struct {
		const char *suffix;
		enum nvmeof_describe_kind kind;
	} f[] = {
		{ "id-ctrl.bin", NVMEOF_DESC_ID_CTRL },
		{ "disc-id-ctrl.bin", NVMEOF_DESC_ID_CTRL },
		{ "id-ns1.bin", NVMEOF_DESC_ID_NS },
		{ "ns-list.bin", NVMEOF_DESC_NS_LIST },
		{ "ns1-desc.bin", NVMEOF_DESC_NS_DESC },
		{ "log-error.bin", NVMEOF_DESC_LOG_ERROR },
		{ "log-smart.bin", NVMEOF_DESC_LOG_SMART },
		{ "log-firmware.bin", NVMEOF_DESC_LOG_FIRMWARE },
		{ "log-changed-ns.bin", NVMEOF_DESC_LOG_CHANGED_NS },
		{ "log-cmd-effects.bin", NVMEOF_DESC_LOG_CMD_EFFECTS },
		{ "disc-log.bin", NVMEOF_DESC_LOG_DISCOVERY },
	};
	const struct target *t[] = { &nvmet, &spdk };
	size_t i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof f / sizeof f[0]; i++) {
			free(describe_target(t[k], f[i].kind, f[i].suffix, 0));
			free(describe_target(t[k], f[i].kind, f[i].suffix, JSON));
		}
}

/* ---- the checker itself must be able to say no ------------------------------- */

Test(json_check, rejects_what_it_should)
{
	static const char *const bad[] = {
		"", "{", "}", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[1 2]",
		"01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "\"abc",
		"\"a\x01\"", "\"\\x41\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"",
		"\"\xc3\x28\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xff\"",
		"{} {}", "{}x", "{'a':1}", "[\"a\"\n,]",
	};
	static const char *const good[] = {
		"{}", "[]", " {\"a\": [1, -2.5e+3, true, false, null, \"\\u00e9\\n\"]} \n",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "0", "-0.0E-1",
		"\"\\ud83d\\ude00\"",
	};
	size_t i;
	char deep[201];

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect(!json_valid(bad[i]), "accepted bad JSON #%zu: %s", i, bad[i]);
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_expect(json_valid(good[i]), "rejected good JSON #%zu: %s", i, good[i]);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	deep[200] = '\0';
	cr_expect(!json_valid(deep), "100 levels: deeper than the limit");
	memset(deep, '[', 60);
	memset(deep + 60, ']', 60);
	deep[120] = '\0';
	cr_expect(json_valid(deep), "60 levels are fine");
}

Test(json_check, lookup)
{
	const char *j = "{\"a\": 1, \"s\": \"x\\\"y\", \"o\": {\"n\": [10, {\"k\": 18446744073709551615}]},"
			" \"b\": true, \"f\": 1.5}";
	char buf[16];
	uint64_t u;
	double d;
	bool b;

	cr_assert(json_get_uint(j, "a", &u));
	cr_expect_eq(u, 1);
	cr_assert(json_get_string(j, "s", buf, sizeof buf));
	cr_expect_str_eq(buf, "x\"y");
	cr_assert(json_get_uint(j, "o.n.0", &u));
	cr_expect_eq(u, 10);
	cr_assert(json_get_uint(j, "o.n.1.k", &u));
	cr_expect_eq(u, UINT64_MAX);
	cr_expect_eq(json_array_len(j, "o.n"), 2);
	cr_assert(json_get_bool(j, "b", &b));
	cr_expect(b);
	cr_assert(json_get_number(j, "f", &d));
	cr_expect(d == 1.5);
	cr_expect(!json_get_uint(j, "f", &u), "1.5 is not an integer");
	cr_expect(!json_get_uint(j, "s", &u), "a string is not a number");
	cr_expect(!json_get_string(j, "a", buf, sizeof buf), "a number is not a string");
	cr_expect(!json_has(j, "n"), "nested keys are not top-level");
	cr_expect(!json_has(j, "o.n.2"));
	cr_expect(!json_get_uint("{\"a\": 1,}", "a", &u), "invalid documents fail");
	cr_expect(!json_get_string(j, "s", buf, 3), "too small a buffer fails");
}
