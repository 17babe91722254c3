/* SPDX-License-Identifier: MIT */
/*
 * libnvmeof's check of an ANA log page (log 0Ch) before it keeps it for
 * nvmeof_ana_state(): the pages recorded from nvmeof-target and Linux nvmet
 * pass, and every descriptor or NSID list that runs past the bytes read is
 * refused with an error that says so.  Each buffer is malloc()ed to its
 * exact length so that ASan catches a read past it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "fixture.h"

static int check_exact(const uint8_t *p, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);
	int rc;

	cr_assert_not_null(b);
	memcpy(b, p, len);
	rc = ana_log_check(b, len);
	free(b);
	return rc;
}

Test(ana_log, recorded_pages_pass)
{
	static const char *const names[] = {
		"nvmeof-target-log-ana.bin", "nvmeof-target-log-ana-rgo.bin",
		"linux-nvmet-6.1-log-ana.bin", "linux-nvmet-6.1-log-ana-rgo.bin",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t len;
		uint8_t *b = load(names[i], &len);

		cr_expect_eq(ana_log_check(b, len), 0, "%s: %s", names[i],
			     nvmeof_get_error());
		free(b);
	}
}

/* header, group 1 with NSIDs 1 2, group 2 with NSID 5: 16 + 40 + 36 */
static size_t build(uint8_t *b)
{
	memset(b, 0, 92);
	le16_put(b + 8, 2);
	le32_put(b + 16, 1);
	le32_put(b + 20, 2);
	b[32] = 1;
	le32_put(b + 48, 1);
	le32_put(b + 52, 2);
	le32_put(b + 56, 2);
	le32_put(b + 60, 1);
	b[72] = 3;
	le32_put(b + 88, 5);
	return 92;
}

Test(ana_log, hostile_lengths_refused)
{
	uint8_t b[92];
	size_t len = build(b);

	cr_assert_eq(check_exact(b, len), 0, "%s", nvmeof_get_error());
	for (size_t l = 0; l < len; l++)
		cr_expect_eq(check_exact(b, l), -EPROTO, "%zu bytes", l);
	cr_expect(strstr(nvmeof_get_error(), "ANA log: group descriptor 1 lists 1 namespaces"),
		  "%s", nvmeof_get_error());
	cr_expect_eq(check_exact(b, 8), -EPROTO);
	cr_expect(strstr(nvmeof_get_error(), "less than its header"), "%s",
		  nvmeof_get_error());
	/* NNSIDS FFFFFFFFh must not wrap around into "fits" */
	le32_put(b + 20, 0xffffffff);
	cr_expect_eq(check_exact(b, len), -EPROTO);
	/* 65535 groups in 92 bytes */
	build(b);
	le16_put(b + 8, 0xffff);
	cr_expect_eq(check_exact(b, len), -EPROTO);
	cr_expect(strstr(nvmeof_get_error(), "group descriptor 2 of 65535 runs past"),
		  "%s", nvmeof_get_error());
}
