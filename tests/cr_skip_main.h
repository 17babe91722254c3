/* SPDX-License-Identifier: MIT */
/* Included ONCE (after <criterion/criterion.h>) by a Criterion test program
 * whose cases can skip for a missing prerequisite (root, ip(8), IPv6 on lo).
 * Criterion exits 0 when a case skips, and automake then counts a PASS for
 * a test that did not run.  This main() says what happened instead:
 *   - a failure: exit 1 (as Criterion's own main);
 *   - otherwise, one or more skipped cases: exit 77 (automake: SKIP, and
 *     run-tests' "N skipped"), or 1 under CI=true, where a prerequisite
 *     that is missing is a failure of the CI machine, never a skip;
 *   - otherwise 0.
 * The reasons are in the log (cr_skip_test's message, and the line below). */
#ifndef CR_SKIP_MAIN_H
#define CR_SKIP_MAIN_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t cr_skip_main_skipped;

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	cr_skip_main_skipped = stats->tests_skipped;
}

int main(int argc, char *argv[])
{
	struct criterion_test_set *tests = criterion_initialize();
	const char *ci = getenv("CI");
	int rc = 0;

	if (criterion_handle_args(argc, argv, true))
		rc = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	if (rc == 0 && cr_skip_main_skipped > 0) {
		if (ci && !strcmp(ci, "true")) {
			fprintf(stderr, "%s: ERROR: %zu case(s) skipped for a missing "
				"prerequisite (CI=true: a skip is a failure)\n",
				argv[0], cr_skip_main_skipped);
			rc = 1;
		} else {
			fprintf(stderr, "SKIP: %s: %zu case(s) skipped (reasons above)\n",
				argv[0], cr_skip_main_skipped);
			rc = 77;
		}
	}
	return rc;
}
#endif
