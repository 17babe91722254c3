/* SPDX-License-Identifier: MIT */
/* tests/test_describe: nvmeof_describe() and friends on payloads captured
 * from Linux nvmet 6.1 and SPDK 23.01 (tests/data, see
 * /work/shared/fixtures/README.md for the values), and on hostile ones built
 * in the tests.  Every buffer handed to the decoder is malloc()ed to its
 * exact length so that ASan catches a read past len.  One program, a file
 * per behaviour: test_describe_id.c (Identify), test_describe_logs.c (log
 * pages), test_describe_disc.c (discovery log), test_describe_features.c
 * (Get Features values), test_describe_errors.c (hostile, short and random
 * payloads), test_describe_json.c (every fixture in both forms, and the JSON
 * checker itself); the helpers below are in describe_check.c. */
#ifndef NVMEOF_TESTS_DESCRIBE_CHECK_H
#define NVMEOF_TESTS_DESCRIBE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "describe.h"
#include "json_check.h"
#include "nvme_spec.h"
#include "nvmeof.h"

#define JSON NVMEOF_DESCRIBE_JSON

#include "fixture.h"
/* a copy of exactly len bytes (ASan red zone right after it) */
uint8_t *dup_exact(const void *p, size_t len);
/* nvmeof_describe() on an exact-length copy of p */
char *describe_buf(enum nvmeof_describe_kind kind, const void *p, size_t len,
		   unsigned flags);
/* nvmeof_describe() on a fixture; asserts success */
char *describe_file(enum nvmeof_describe_kind kind, const char *name,
		    unsigned flags);
/* text output: the value of the nth (0-based) "name : value" line */
bool text_get(const char *text, const char *field, unsigned nth, char *out,
	      size_t outlen);
void expect_text_n(const char *text, const char *field, unsigned nth,
		   const char *want);
void expect_text(const char *text, const char *field, const char *want);
void expect_textf(const char *text, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void expect_json_uint(const char *json, const char *key, uint64_t want);
void expect_json_str(const char *json, const char *key, const char *want);
/* printable ASCII and newlines, and our own degree sign */
bool text_clean(const char *s);
/* the decoder refuses p: NULL, errno EINVAL, a message */
void expect_einval(enum nvmeof_describe_kind kind, const void *p, size_t len,
		   unsigned flags);

/* what the fixtures' README says the two targets hold */
struct target {
	const char *prefix;
	unsigned vid;
	const char *sn, *mn, *fr;
	unsigned mdts;
	uint32_t ver, nn;
	const char *subnqn;
	uint32_t ioccsz, iorcsz, sgls;
	unsigned kas, oncs;
	uint64_t nsze;
	unsigned lbads;
	uint64_t genctr;
	unsigned nrec;
	unsigned subtype[2];
	const char *rec_subnqn[2];
	const char *traddr, *trsvcid;
	unsigned treq;
};

extern const struct target nvmet, spdk;

/* fixture "<t->prefix>-<suffix>" described; asserts clean text or valid JSON */
char *describe_target(const struct target *t, enum nvmeof_describe_kind kind,
		      const char *suffix, unsigned flags);

#endif
