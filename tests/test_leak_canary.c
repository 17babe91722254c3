/* SPDX-License-Identifier: MIT */
/*
 * Leaks on purpose, in a Criterion worker, as a test would that forgot a
 * free(): tests/sanitizer-check.sh must turn LeakSanitizer's report at the
 * worker's exit into a failure.  Listed in XFAIL_TESTS (sanitizer builds
 * only): if this "passes", leaks in the real tests go unnoticed too.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

void *volatile canary_sink;

Test(leak_canary, forgotten_free)
{
	char *p = malloc(4242);

	cr_assert_not_null(p);
	memset(p, 0x5a, 4242);
	canary_sink = p;
	canary_sink = NULL; /* the only pointer is gone: a definite leak */
}
