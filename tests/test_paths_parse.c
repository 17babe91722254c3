/* SPDX-License-Identifier: MIT */
/*
 * The parser of nvmeof-mount's "paths" lines (cli/paths.c), on sample
 * text: every field of a good line lands where list-subsys prints it, and
 * every malformed line is refused with the field at fault named.  Lines
 * are copied into buffers of their exact length so that ASan catches a
 * read past the end.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

static int parse(const char *text, struct path_line *p, char *err, size_t n)
{
	size_t len = strlen(text) + 1;
	char *b = malloc(len);
	int rc;

	cr_assert_not_null(b);
	memcpy(b, text, len);
	rc = path_line_parse(b, p, err, n);
	free(b);
	return rc;
}

Test(paths_parse, live_path_with_two_groups)
{
	struct path_line p;
	char err[256] = "";

	cr_assert_eq(parse("0 127.0.0.1:4420 cntlid=7 state=live ana=1:optimized,2:non-optimized "
			   "reads=12 writes=34 inflight=5 errors=0 last_error=-\n", &p, err, sizeof err),
		     0, "%s", err);
	cr_assert_eq(p.id, 0);
	cr_assert_str_eq(p.addr, "127.0.0.1:4420");
	cr_assert_eq(p.cntlid, 7);
	cr_assert_str_eq(p.state, "live");
	cr_assert_eq(p.nana, 2);
	cr_assert_eq(p.ana[0].grp, 1);
	cr_assert_str_eq(p.ana[0].state, "optimized");
	cr_assert_eq(p.ana[1].grp, 2);
	cr_assert_str_eq(p.ana[1].state, "non-optimized");
	cr_assert_eq(p.reads, 12);
	cr_assert_eq(p.writes, 34);
	cr_assert_eq(p.inflight, 5);
	cr_assert_eq(p.errors, 0);
	cr_assert_null(p.last_error);
	path_line_free(&p);
}

Test(paths_parse, failed_ipv6_path_without_ana_and_an_error_with_blanks)
{
	struct path_line p;
	char err[256] = "";

	cr_assert_eq(parse("3 [::1]:4421 cntlid=65535 state=failed ana=- reads=18446744073709551615 "
			   "writes=0 inflight=0 errors=2 last_error=keep-alive timed out after 2000 ms",
			   &p, err, sizeof err), 0, "%s", err);
	cr_assert_eq(p.id, 3);
	cr_assert_str_eq(p.addr, "[::1]:4421");
	cr_assert_eq(p.cntlid, 65535);
	cr_assert_str_eq(p.state, "failed");
	cr_assert_eq(p.nana, 0);
	cr_assert_eq(p.reads, UINT64_MAX);
	cr_assert_eq(p.errors, 2);
	cr_assert_str_eq(p.last_error, "keep-alive timed out after 2000 ms");
	path_line_free(&p);
}

Test(paths_parse, every_ana_state_and_a_crlf)
{
	struct path_line p;
	char err[256] = "";

	cr_assert_eq(parse("1 host.example:4420 cntlid=1 state=connecting ana=1:optimized,"
			   "2:non-optimized,3:inaccessible,4:persistent-loss,5:change,4294967295:unknown "
			   "reads=0 writes=0 inflight=0 errors=0 last_error=-\r\n", &p, err, sizeof err),
		     0, "%s", err);
	cr_assert_eq(p.nana, 6);
	cr_assert_str_eq(p.ana[2].state, "inaccessible");
	cr_assert_str_eq(p.ana[3].state, "persistent-loss");
	cr_assert_str_eq(p.ana[4].state, "change");
	cr_assert_eq(p.ana[5].grp, 4294967295u);
	cr_assert_str_eq(p.ana[5].state, "unknown");
	cr_assert_null(p.last_error);
	path_line_free(&p);
}

struct bad_case {
	const char *line;
	const char *says;   /* a part of the error message */
};

Test(paths_parse, malformed_lines_are_refused_with_the_field_named)
{
	static const struct bad_case cases[] = {
		{ "", "an empty line" },
		{ "0", "1 field, expected 10" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live", "4 fields, expected 10" },
		{ "0  127.0.0.1:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 2 is empty" },
		{ "x 127.0.0.1:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 1: expected a path ID" },
		{ "-1 127.0.0.1:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 1" },
		{ "4294967296 127.0.0.1:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 1" },
		{ "0 127.0.0.1 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 2: expected HOST:PORT" },
		{ "0 127.0.0.1:0 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 2" },
		{ "0 127.0.0.1:65536 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 2" },
		{ "0 ::1:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 2" },
		{ "0 []:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 2" },
		{ "0 :4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 2" },
		{ "0 127.0.0.1:4420 cntl=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 3: expected cntlid=VALUE" },
		{ "0 127.0.0.1:4420 cntlid=65536 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 3: cntlid '65536' is not a number 0..65535" },
		{ "0 127.0.0.1:4420 cntlid= state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 3" },
		{ "0 127.0.0.1:4420 cntlid=1 state=reconnecting ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 4: unknown path state 'reconnecting'" },
		{ "0 127.0.0.1:4420 cntlid=1 ana=- state=live reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 4: expected state=VALUE" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana= reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 5: ana= is empty" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=1 reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 5: expected ana=GROUP:STATE" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=0:optimized reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 5" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=1:optimised reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 5: unknown ANA state 'optimised' of group 1" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=1:optimized, reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 5: ana= ends with ','" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=1:optimized,,2:change reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "field 5" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=- reads=-1 writes=0 inflight=0 errors=0 last_error=-",
		  "field 6: reads '-1' is not a count" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=- reads=0 writes=18446744073709551616 inflight=0 errors=0 last_error=-",
		  "field 7: writes" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=x errors=0 last_error=-",
		  "field 8: inflight" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errs=0 last_error=-",
		  "field 9: expected errors=VALUE" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=",
		  "field 10: last_error is empty" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 error=-",
		  "field 10: expected last_error=VALUE" },
		{ "0 127.0.0.1:4420 cntlid=1 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-\n"
		  "1 127.0.0.1:4421 cntlid=2 state=live ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-",
		  "more than one line" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct path_line p;
		char err[256] = "";
		int rc = parse(cases[i].line, &p, err, sizeof err);

		cr_expect_eq(rc, -EINVAL, "line %zu accepted: %s", i, cases[i].line);
		if (rc == 0) {
			path_line_free(&p);
			continue;
		}
		cr_expect(strstr(err, cases[i].says) != NULL,
			  "line %zu: error '%s' does not say '%s'", i, err, cases[i].says);
		/* nothing left to free after a refusal */
		cr_expect_null(p.ana);
		cr_expect_null(p.last_error);
	}
}

Test(paths_parse, a_long_address_is_refused_not_cut)
{
	char line[1024], host[600];
	struct path_line p;
	char err[256] = "";

	memset(host, 'h', sizeof host - 1);
	host[sizeof host - 1] = 0;
	snprintf(line, sizeof line, "0 %s:4420 cntlid=1 state=live ana=- reads=0 writes=0 "
		 "inflight=0 errors=0 last_error=-", host);
	cr_assert_eq(parse(line, &p, err, sizeof err), -EINVAL);
	cr_assert(strstr(err, "field 2") != NULL, "%s", err);
}
