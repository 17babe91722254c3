/* SPDX-License-Identifier: MIT */
/* nvmeof_describe() on payloads no honest controller sends: hostile
 * Identify strings, every kind at every too-short length, random bytes.
 * The answer is an error or clean output, never a crash or a read past len. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe_check.h"

/* ---- hostile identify strings ------------------------------------------------ */

Test(hostile, unterminated_control_and_high_bytes)
{
	uint8_t b[4096] = { 0 };
	char *s, *j, got[600];
	size_t i;

	/* sn: every field byte used, control bytes, quote, backslash, DEL */
	static const uint8_t sn[20] = { 'A', 0x01, 0x1b, '[', '2', 'J', '"', '\\', 0x7f,
					0x0d, 0x0a, 0x09, 0x08, 0x0c, 'Z', 0x1f, 'q', 0x80,
					0xc3, 0x28 };
	memcpy(b + offsetof(struct nvme_id_ctrl, sn), sn, sizeof sn);
	memset(b + offsetof(struct nvme_id_ctrl, fr), 0xff, 8);
	for (i = 0; i < 40; i++)
		b[offsetof(struct nvme_id_ctrl, mn) + i] = (uint8_t)(0x80 + i);
	memset(b + offsetof(struct nvme_id_ctrl, subnqn), 'n', 256); /* no NUL */
	b[offsetof(struct nvme_id_ctrl, npss)] = 0xff; /* 256 power states? 32 */

	s = describe_buf(NVMEOF_DESC_ID_CTRL, b, sizeof b, 0);
	cr_assert_not_null(s, "%s", nvmeof_describe_error());
	cr_expect(text_clean(s), "raw control or high bytes in:\n%s", s);
	expect_text(s, "sn", "A\\x01\\x1b[2J\"\\\\\\x7f\\x0d\\x0a\\x09\\x08\\x0cZ\\x1fq\\x80\\xc3(");
	expect_text(s, "fr", "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff");
	cr_assert(text_get(s, "subnqn", 0, got, sizeof got));
	cr_expect_eq(strlen(got), 256u);
	cr_expect(text_get(s, "ps 31", 0, got, sizeof got), "NPSS capped at 31");
	cr_expect(!text_get(s, "ps 32", 0, got, sizeof got));

	j = describe_buf(NVMEOF_DESC_ID_CTRL, b, sizeof b, JSON);
	cr_assert(json_valid(j), "invalid JSON:\n%s", j);
	for (i = 0; j[i]; i++)
		cr_assert_lt((unsigned char)j[i], 0x80, "JSON must be ASCII");
	cr_assert(json_get_string(j, "sn", got, sizeof got));
	/* ASCII round-trips exactly; 0x80, 0xc3 come back as U+0080, U+00C3 */
	cr_expect(memcmp(got, sn, 17) == 0, "sn prefix");
	cr_expect(memcmp(got + 17, "\xc2\x80\xc3\x83(", 5) == 0, "sn tail");
	cr_expect(strstr(j, "\"fr\": \"\\u00ff\\u00ff") != NULL, "%s", j);
	cr_assert(json_get_string(j, "subnqn", got, sizeof got));
	cr_expect_eq(strlen(got), 256u);
	cr_expect_eq(json_array_len(j, "psds"), 32);
	free(s);
	free(j);
}

/* A string cut at its first NUL, trailing spaces dropped. */
Test(hostile, padding)
{
	uint8_t b[4096] = { 0 };
	char *s;

	memcpy(b + offsetof(struct nvme_id_ctrl, sn), "ab  cd   \0zz\x01", 13);
	memcpy(b + offsetof(struct nvme_id_ctrl, mn), "  lead", 6);
	memset(b + offsetof(struct nvme_id_ctrl, mn) + 6, ' ', 34);
	s = describe_buf(NVMEOF_DESC_ID_CTRL, b, sizeof b, 0);
	expect_text(s, "sn", "ab  cd");
	expect_text(s, "mn", "  lead");
	free(s);
}

/* ---- too short for its kind ---------------------------------------------------- */

static const struct {
	enum nvmeof_describe_kind kind;
	size_t min;
} minimum[] = {
	{ NVMEOF_DESC_ID_CTRL, 4096 },
	{ NVMEOF_DESC_ID_NS, 4096 },
	{ NVMEOF_DESC_NS_LIST, 4 },
	{ NVMEOF_DESC_NS_DESC, 4 },
	{ NVMEOF_DESC_LOG_ERROR, 64 },
	{ NVMEOF_DESC_LOG_SMART, 512 },
	{ NVMEOF_DESC_LOG_FIRMWARE, 512 },
	{ NVMEOF_DESC_LOG_CHANGED_NS, 4 },
	{ NVMEOF_DESC_LOG_CMD_EFFECTS, 4096 },
	{ NVMEOF_DESC_LOG_ANA, 16 },
	{ NVMEOF_DESC_LOG_DISCOVERY, 1024 },
};

Test(truncated, every_kind_every_short_length)
{
	static uint8_t ff[4096];
	size_t k, l;
	char *s;

	memset(ff, 0xff, sizeof ff);
	for (k = 0; k < sizeof minimum / sizeof minimum[0]; k++) {
		for (l = 0; l < minimum[k].min; l++)
			expect_einval(minimum[k].kind, ff, l, l & 1 ? JSON : 0);
		/* NULL data is "too short" too, never a crash */
		errno = 0;
		cr_expect_null(nvmeof_describe(minimum[k].kind, NULL, 0, 0));
		cr_expect_eq(errno, EINVAL);
		/* at the minimum, an all-zero payload decodes */
		memset(ff, 0, minimum[k].min);
		s = describe_buf(minimum[k].kind, ff, minimum[k].min, 0);
		cr_expect_not_null(s, "kind %d at %zu bytes: %s", minimum[k].kind,
				   minimum[k].min, nvmeof_describe_error());
		cr_expect(s && text_clean(s));
		free(s);
		s = describe_buf(minimum[k].kind, ff, minimum[k].min, JSON);
		cr_expect(s && json_valid(s), "kind %d JSON:\n%s", minimum[k].kind, s);
		free(s);
		memset(ff, 0xff, sizeof ff);
	}
}

Test(truncated, unknown_kind)
{
	uint8_t b[4096] = { 0 };

	expect_einval((enum nvmeof_describe_kind)99, b, sizeof b, 0);
	expect_einval((enum nvmeof_describe_kind)-1, b, sizeof b, JSON);
}

/* ---- random payloads: an error or clean output, never a crash --------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

Test(fuzz, random_payloads)
{
	static uint8_t b[5120];
	unsigned iter, ok = 0;

	for (iter = 0; iter < 3000; iter++) {
		enum nvmeof_describe_kind kind = (enum nvmeof_describe_kind)(rng() % 11);
		size_t len = rng() % sizeof b, i;
		unsigned flags = rng() & 1 ? JSON : 0;
		bool sparse = rng() & 1;
		char *s;

		for (i = 0; i < len; i++)
			b[i] = sparse ? (rng() % 16 == 0 ? (uint8_t)rng() : 0) : (uint8_t)rng();
		if (kind == NVMEOF_DESC_LOG_DISCOVERY && len >= 16)
			le64_put(b + 8, rng() % 6); /* sometimes plausible numrec */
		if (kind == NVMEOF_DESC_LOG_ANA && len >= 16)
			le16_put(b + 8, (uint16_t)(rng() % 4));
		errno = 0;
		s = describe_buf(kind, b, len, flags);
		if (!s) {
			cr_assert_eq(errno, EINVAL, "kind %d len %zu errno %d", kind, len, errno);
			continue;
		}
		ok++;
		if (flags & JSON)
			cr_assert(json_valid(s), "kind %d len %zu:\n%s", kind, len, s);
		else
			cr_assert(text_clean(s), "kind %d len %zu:\n%s", kind, len, s);
		free(s);
	}
	cr_expect_gt(ok, 500u, "too few payloads decoded (%u): the fuzz tests little", ok);
}
