/* SPDX-License-Identifier: MIT */
/* nvmeof_disc_log_decode() on discovery log pages captured from Linux nvmet
 * 6.1 and SPDK 23.01, and on hostile ones.  Buffers are malloc()ed to their
 * exact length so that ASan catches a read past len. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_spec.h"
#include "nvmeof.h"
#include "fixture.h"

#ifndef TEST_DATA_DIR
#error "build with -DTEST_DATA_DIR=\"<srcdir>/tests/data\""
#endif

#define HDR 1024u
#define ENT 1024u

/* Decode a copy of exactly len bytes. */
static int decode_exact(const void *p, size_t len, struct nvmeof_disc_log **log)
{
	uint8_t *b = malloc(len ? len : 1);
	int rc;

	cr_assert_not_null(b);
	if (len)
		memcpy(b, p, len);
	rc = nvmeof_disc_log_decode(b, len, log);
	free(b);
	return rc;
}

static void expect_einval(const void *p, size_t len)
{
	struct nvmeof_disc_log *log = (void *)0x1;
	int rc = decode_exact(p, len, &log);

	cr_expect_eq(rc, -EINVAL, "len %zu: rc %d", len, rc);
	cr_expect_null(log, "len %zu: *logp must be NULL on failure", len);
	cr_expect_eq(nvmeof_get_errno(), EINVAL);
	cr_expect_neq(nvmeof_get_error()[0], '\0', "len %zu: no message", len);
	nvmeof_disc_log_free(log);
}

Test(disc_decode, nvmet)
{
	size_t len;
	uint8_t *b = load("linux-nvmet-6.1-disc-log.bin", &len);
	struct nvmeof_disc_log *log;
	const struct nvmeof_disc_entry *e;

	cr_assert_eq(decode_exact(b, len, &log), 0, "%s", nvmeof_get_error());
	cr_expect_eq(log->genctr, 2);
	cr_assert_eq(log->numrec, 2);
	cr_expect_eq(log->recfmt, 0);
	e = &log->entries[0];
	cr_expect_eq(e->subtype, NVMF_SUBTYPE_CURRENT_DISC);
	cr_expect_eq(e->trtype, NVMF_TRTYPE_TCP);
	cr_expect_eq(e->adrfam, NVMF_ADRFAM_IPV4);
	cr_expect_eq(e->treq, 4);
	cr_expect_eq(e->portid, 1);
	cr_expect_eq(e->cntlid, 0xffff);
	cr_expect_eq(e->asqsz, 32);
	cr_expect_eq(e->sectype, 0);
	cr_expect_str_eq(e->traddr, "127.0.0.1");
	cr_expect_str_eq(e->trsvcid, "24420");
	cr_expect_str_eq(e->subnqn, NVMEOF_DISCOVERY_NQN);
	e = &log->entries[1];
	cr_expect_eq(e->subtype, NVMF_SUBTYPE_NVME);
	cr_expect_eq(e->trtype, NVMF_TRTYPE_TCP);
	cr_expect_eq(e->adrfam, NVMF_ADRFAM_IPV4);
	cr_expect_eq(e->treq, 4);
	cr_expect_str_eq(e->traddr, "127.0.0.1");
	cr_expect_str_eq(e->trsvcid, "24420");
	cr_expect_str_eq(e->subnqn, "nqn.2026-11.org.example:linux-nvmet");
	nvmeof_disc_log_free(log);
	free(b);
}

/* SPDK pads trsvcid and traddr with spaces, not NULs. */
Test(disc_decode, spdk_space_padding)
{
	size_t len;
	uint8_t *b = load("spdk-23.01-disc-log.bin", &len);
	struct nvmeof_disc_log *log;
	const struct nvmeof_disc_entry *e;

	cr_assert_eq(b[1024 + 32 + 4], ' ', "fixture: trsvcid space-padded");
	cr_assert_eq(decode_exact(b, len, &log), 0, "%s", nvmeof_get_error());
	cr_expect_eq(log->genctr, 2);
	cr_assert_eq(log->numrec, 1);
	e = &log->entries[0];
	cr_expect_eq(e->subtype, NVMF_SUBTYPE_NVME);
	cr_expect_eq(e->trtype, NVMF_TRTYPE_TCP);
	cr_expect_eq(e->adrfam, NVMF_ADRFAM_IPV4);
	cr_expect_eq(e->treq, 2);
	cr_expect_eq(e->portid, 0);
	cr_expect_eq(e->asqsz, 128);
	cr_expect_str_eq(e->traddr, "127.0.0.1");
	cr_expect_str_eq(e->trsvcid, "4430");
	cr_expect_str_eq(e->subnqn, "nqn.2016-06.io.spdk:cnode1");
	nvmeof_disc_log_free(log);
	free(b);
}

Test(disc_decode, numrec_beyond_buffer)
{
	size_t len, l;
	uint8_t *b = load("linux-nvmet-6.1-disc-log.bin", &len);

	cr_assert_eq(len, HDR + 2 * ENT);
	for (l = 0; l < len; l++)
		expect_einval(b, l);
	/* one record more than the bytes hold */
	le64_put(b + 8, 3);
	expect_einval(b, len);
	free(b);
}

Test(disc_decode, numrec_huge_no_overflow)
{
	static const uint64_t huge[] = {
		1ULL << 63,
		UINT64_MAX,
		UINT64_MAX / ENT + 1,      /* numrec * 1024 wraps to 0 */
		(UINT64_MAX / ENT) + 3,    /* wraps to 2048: "fits" if multiplied */
		1ULL << 54,                /* * 1024 = 2^64: wraps to 0 */
	};
	size_t len, i;
	uint8_t *b = load("linux-nvmet-6.1-disc-log.bin", &len);

	for (i = 0; i < sizeof huge / sizeof huge[0]; i++) {
		le64_put(b + 8, huge[i]);
		expect_einval(b, len);
	}
	free(b);
}

Test(disc_decode, bad_arguments)
{
	uint8_t hdr[HDR] = { 0 };
	struct nvmeof_disc_log *log = (void *)0x1;

	cr_expect_eq(nvmeof_disc_log_decode(NULL, 4096, &log), -EINVAL);
	cr_expect_null(log);
	cr_expect_eq(nvmeof_disc_log_decode(hdr, sizeof hdr, NULL), -EINVAL);
	nvmeof_disc_log_free(NULL); /* a no-op */
}

Test(disc_decode, empty_and_trailing_bytes)
{
	uint8_t *b = calloc(1, HDR + ENT + 500);
	struct nvmeof_disc_log *log;

	cr_assert_not_null(b);
	le64_put(b, 7);
	/* numrec 0: valid, no entries */
	cr_assert_eq(decode_exact(b, HDR, &log), 0);
	cr_expect_eq(log->genctr, 7);
	cr_expect_eq(log->numrec, 0);
	nvmeof_disc_log_free(log);
	/* 1 record and a partial one after it: the partial is ignored */
	le64_put(b + 8, 1);
	cr_assert_eq(decode_exact(b, HDR + ENT + 500, &log), 0);
	cr_expect_eq(log->numrec, 1);
	nvmeof_disc_log_free(log);
	/* 2 records announced, 1.5 present */
	le64_put(b + 8, 2);
	expect_einval(b, HDR + ENT + 500);
	free(b);
}

Test(disc_decode, unterminated_strings)
{
	uint8_t *b = calloc(1, HDR + ENT);
	uint8_t *e = b + HDR;
	struct nvmeof_disc_log *log;
	size_t i;

	cr_assert_not_null(b);
	le64_put(b + 8, 1);
	e[0] = NVMF_TRTYPE_TCP;
	memset(e + 32, '9', 32);          /* trsvcid: no NUL anywhere */
	for (i = 0; i < 256; i++)         /* subnqn: control bytes, 0xff */
		e[256 + i] = (uint8_t)(i % 2 ? 0xff : 0x01);
	memset(e + 512, 'a', 256);        /* traddr: no NUL */
	e[512 + 255] = ' ';               /* ...and a trailing space */
	e[768] = 1;                       /* TSAS: sectype TLS 1.2 */
	cr_assert_eq(decode_exact(b, HDR + ENT, &log), 0, "%s", nvmeof_get_error());
	cr_expect_eq(strlen(log->entries[0].trsvcid), 32u);
	cr_expect_eq(log->entries[0].trsvcid[31], '9');
	cr_expect_eq(strlen(log->entries[0].subnqn), 256u);
	cr_expect_eq((uint8_t)log->entries[0].subnqn[255], 0xff);
	cr_expect_eq(strlen(log->entries[0].traddr), 255u, "trailing space trimmed");
	cr_expect_eq(log->entries[0].sectype, 1);
	nvmeof_disc_log_free(log);

	/* TSAS means something else for other transports: no sectype */
	e[0] = NVMF_TRTYPE_RDMA;
	cr_assert_eq(decode_exact(b, HDR + ENT, &log), 0);
	cr_expect_eq(log->entries[0].sectype, 0);
	nvmeof_disc_log_free(log);

	/* NUL in the middle ends the string; bytes after it are ignored */
	e[512 + 3] = '\0';
	cr_assert_eq(decode_exact(b, HDR + ENT, &log), 0);
	cr_expect_str_eq(log->entries[0].traddr, "aaa");
	nvmeof_disc_log_free(log);
	free(b);
}

/* TSAS/TREQ: Linux nvmet 6.1's log with its entries made into the four
 * kinds of port a TLS-capable nvmet or nvmeof-target lists (TSAS byte 0
 * SECTYPE at entry offset 768, TREQ at 3), and what a host does with each,
 * with and without a key. */
Test(disc_decode, tls_tsas_treq)
{
	static const struct {
		uint8_t treq, sectype;
		int with_key, without_key;
	} cases[] = {
		{ NVMEOF_TREQ_REQUIRED, NVMEOF_SECTYPE_TLS13, 1, -ENOKEY },
		{ NVMEOF_TREQ_NOT_REQUIRED, NVMEOF_SECTYPE_TLS13, 1, 0 },
		{ NVMEOF_TREQ_NOT_SPECIFIED, NVMEOF_SECTYPE_NONE, 0, 0 },
		/* SQ flow control disable (bit 2) set beside "required" */
		{ NVMEOF_TREQ_REQUIRED | 4, NVMEOF_SECTYPE_TLS13, 1, -ENOKEY },
		{ NVMEOF_TREQ_NOT_SPECIFIED, NVMEOF_SECTYPE_TLS13, 1, 0 },
	};
	size_t len;
	uint8_t *b = load("linux-nvmet-6.1-disc-log.bin", &len);

	cr_assert_geq(len, HDR + ENT);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct nvmeof_disc_log *log;
		const struct nvmeof_disc_entry *e;

		b[HDR + 3] = cases[i].treq;
		b[HDR + 768] = cases[i].sectype;
		b[HDR + 769] = 0xff; /* the rest of TSAS is not SECTYPE */
		cr_assert_eq(decode_exact(b, len, &log), 0, "%s", nvmeof_get_error());
		e = &log->entries[0];
		cr_assert_eq(e->trtype, NVMEOF_TRTYPE_TCP);
		cr_expect_eq(e->treq, cases[i].treq, "case %zu", i);
		cr_expect_eq(e->sectype, cases[i].sectype, "case %zu", i);
		cr_expect_eq(nvmeof_disc_entry_tls(e, true), cases[i].with_key, "case %zu", i);
		cr_expect_eq(nvmeof_disc_entry_tls(e, false), cases[i].without_key,
			     "case %zu", i);
		if (cases[i].without_key < 0)
			cr_expect(strstr(nvmeof_get_error(), "requires TLS (TREQ)"), "%s",
				  nvmeof_get_error());
		cr_expect_str_eq(nvmeof_treq_str(e->treq),
				 (cases[i].treq & 3) == 1 ? "required" :
				 (cases[i].treq & 3) == 2 ? "not required" : "not specified");
		nvmeof_disc_log_free(log);
	}
	/* not TCP: TSAS means something else, never TLS */
	b[HDR + 0] = NVMEOF_TRTYPE_RDMA;
	b[HDR + 3] = NVMEOF_TREQ_REQUIRED;
	b[HDR + 768] = NVMEOF_SECTYPE_TLS13;
	{
		struct nvmeof_disc_log *log;

		cr_assert_eq(decode_exact(b, len, &log), 0);
		cr_expect_eq(log->entries[0].sectype, 0);
		cr_expect_eq(nvmeof_disc_entry_tls(&log->entries[0], false), 0);
		nvmeof_disc_log_free(log);
	}
	free(b);
}
