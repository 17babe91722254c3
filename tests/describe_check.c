/* SPDX-License-Identifier: MIT */
/* The shared part of tests/test_describe: loading the fixtures, exact-length
 * copies for the decoder, reading text and JSON output, and what the
 * fixtures' README says the two captured targets hold. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe_check.h"

#ifndef TEST_DATA_DIR
#error "build with -DTEST_DATA_DIR=\"<srcdir>/tests/data\""
#endif

/* ---- helpers ------------------------------------------------------------ */

/* A copy of exactly len bytes (ASan red zone right after it). */
uint8_t *dup_exact(const void *p, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	cr_assert_not_null(b);
	if (len)
		memcpy(b, p, len);
	return b;
}

char *describe_buf(enum nvmeof_describe_kind kind, const void *p,
		   size_t len, unsigned flags)
{
	uint8_t *b = dup_exact(p, len);
	char *s = nvmeof_describe(kind, b, len, flags);

	free(b);
	return s;
}

char *describe_file(enum nvmeof_describe_kind kind, const char *name,
		    unsigned flags)
{
	size_t len;
	uint8_t *buf = load(name, &len);
	char *s = nvmeof_describe(kind, buf, len, flags);

	cr_assert_not_null(s, "describe %s: %s", name, nvmeof_describe_error());
	free(buf);
	return s;
}

/* Text output: the value of the nth (0-based) "name : value" line whose
 * name, with its padding removed, is field. */
bool text_get(const char *text, const char *field, unsigned nth,
	      char *out, size_t outlen)
{
	const char *line = text;
	size_t flen = strlen(field);

	while (*line) {
		const char *eol = strchr(line, '\n');
		const char *sep;
		size_t nlen;

		if (!eol)
			eol = line + strlen(line);
		sep = strstr(line, " : ");
		if (sep && sep < eol) {
			nlen = (size_t)(sep - line);
			while (nlen > 0 && line[nlen - 1] == ' ')
				nlen--;
			if (nlen == flen && !memcmp(line, field, flen) && nth-- == 0) {
				size_t vlen = (size_t)(eol - (sep + 3));

				if (vlen >= outlen)
					return false;
				memcpy(out, sep + 3, vlen);
				out[vlen] = '\0';
				return true;
			}
		}
		line = *eol ? eol + 1 : eol;
	}
	return false;
}

void expect_text_n(const char *text, const char *field, unsigned nth,
		   const char *want)
{
	char got[1024];

	cr_assert(text_get(text, field, nth, got, sizeof got),
		  "no line %u for field '%s' in:\n%s", nth, field, text);
	cr_expect_str_eq(got, want, "field '%s'[%u]: got '%s', want '%s'", field,
			 nth, got, want);
}

void expect_text(const char *text, const char *field, const char *want)
{
	expect_text_n(text, field, 0, want);
}

void expect_textf(const char *text, const char *field, const char *fmt, ...)
{
	char want[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof want, fmt, ap);
	va_end(ap);
	expect_text(text, field, want);
}

void expect_json_uint(const char *json, const char *key, uint64_t want)
{
	uint64_t got;

	cr_assert(json_get_uint(json, key, &got), "no integer '%s' in:\n%s", key, json);
	cr_expect_eq(got, want, "'%s': got %llu, want %llu", key,
		     (unsigned long long)got, (unsigned long long)want);
}

void expect_json_str(const char *json, const char *key, const char *want)
{
	char got[1024];

	cr_assert(json_get_string(json, key, got, sizeof got), "no string '%s' in:\n%s",
		  key, json);
	cr_expect_str_eq(got, want, "'%s': got '%s', want '%s'", key, got, want);
}

/* Text for people: printable ASCII and newlines; the only other bytes
 * allowed are our own "°" (C2 B0). */
bool text_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p == '\n' || (*p >= 0x20 && *p < 0x7f))
			continue;
		if (p[0] == 0xc2 && p[1] == 0xb0) {
			p++;
			continue;
		}
		return false;
	}
	return true;
}

void expect_einval(enum nvmeof_describe_kind kind, const void *p,
		   size_t len, unsigned flags)
{
	char *s;

	errno = 0;
	s = describe_buf(kind, p, len, flags);
	cr_expect_null(s, "kind %d len %zu flags %u: expected failure, got:\n%s",
		       kind, len, flags, s ? s : "");
	cr_expect_eq(errno, EINVAL, "kind %d len %zu: errno %d", kind, len, errno);
	cr_expect_neq(nvmeof_describe_error()[0], '\0', "no message for kind %d len %zu",
		      kind, len);
	free(s);
}

/* ---- what the README says the two targets hold -------------------------- */


const struct target nvmet = {
	.prefix = "linux-nvmet-6.1",
	.vid = 0x0000, .sn = "linuxnvmet0001", .mn = "Linux", .fr = "6.1.0-56",
	.mdts = 0, .ver = 0x10300, .nn = 1024,
	.subnqn = "nqn.2026-11.org.example:linux-nvmet",
	.ioccsz = 1028, .iorcsz = 1, .sgls = 0x100001, .kas = 10, .oncs = 0xc,
	.nsze = 16384, .lbads = 12,
	.genctr = 2, .nrec = 2, .subtype = { 3, 2 },
	.rec_subnqn = { NVMEOF_DISCOVERY_NQN, "nqn.2026-11.org.example:linux-nvmet" },
	.traddr = "127.0.0.1", .trsvcid = "24420", .treq = 4,
};

const struct target spdk = {
	.prefix = "spdk-23.01",
	.vid = 0x8086, .sn = "SPDK00000000000001", .mn = "SPDK_Controller1",
	.fr = "23.01.1", .mdts = 5, .ver = 0x10300, .nn = 32,
	.subnqn = "nqn.2016-06.io.spdk:cnode1",
	.ioccsz = 260, .iorcsz = 1, .sgls = 0x100005, .kas = 100, .oncs = 0x29,
	.nsze = 262144, .lbads = 12,
	.genctr = 2, .nrec = 1, .subtype = { 2 },
	.rec_subnqn = { "nqn.2016-06.io.spdk:cnode1" },
	.traddr = "127.0.0.1", .trsvcid = "4430", .treq = 2,
};

char *describe_target(const struct target *t, enum nvmeof_describe_kind kind,
		      const char *suffix, unsigned flags)
{
	char name[128];
	char *s;

	snprintf(name, sizeof name, "%s-%s", t->prefix, suffix);
	s = describe_file(kind, name, flags);
	if (flags & JSON)
		cr_assert(json_valid(s), "%s: invalid JSON:\n%s", name, s);
	else
		cr_assert(text_clean(s), "%s: unclean text:\n%s", name, s);
	return s;
}
