#!/bin/sh
# SPDX-License-Identifier: MIT
# LOG_COMPILER of `make check`: run one test so that a sanitizer report of
# ANY process it starts fails it.
#
# Two things hid leaks before:
#  - tests/lsan.supp suppresses "leak:libcriterion.so", and LeakSanitizer
#    matches a suppression against EVERY frame of the allocation's stack.
#    Every allocation a test makes runs under Criterion's frames, so that
#    line suppressed every leak of every Criterion test, ours included.
#  - Criterion runs each test in a worker process; what it prints as it
#    exits does not change the test's result.
# So here: sanitizer reports go to files (log_path, one per process), the
# LSAN_OPTIONS suppressions are taken out, and after the test each leak is
# judged by where it was ALLOCATED: the first frame that is not the
# sanitizer's allocator or libc.  A leak allocated there by a module that
# tests/lsan.supp names (Criterion's runner) is Criterion's own and is
# ignored; any other leak, any ASan error and any UBSan "runtime error"
# fails the test, and the report is printed in its log.
# tests/test_leak_canary leaks on purpose and must fail (XFAIL).
# Without sanitizers no report is ever written: this only runs the test.
set -u
dir=$(mktemp -d "${TMPDIR:-/tmp}/sancheck.XXXXXX") || exit 99
supp=$(printf '%s\n' "${LSAN_OPTIONS:-}" | tr ':' '\n' | sed -n 's/^suppressions=//p' | tail -1)
LSAN_OPTIONS=$(printf '%s\n' "${LSAN_OPTIONS:-}" | tr ':' '\n' |
	grep -v -e '^suppressions=' -e '^$' | paste -sd: -)
# exitcode 0: a report never changes a process's exit status (Criterion's
# runner keeps its own, pass or fail, when only its own allocations
# leaked); the reports themselves decide, below.
ASAN_OPTIONS="log_path=$dir/asan:exitcode=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="log_path=$dir/ubsan:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# ThreadSanitizer (configure --enable-tsan): the same, every report is a
# failure; its suppressions (tests/tsan.supp, each with its reason) come
# in TSAN_OPTIONS from the Makefile.
TSAN_OPTIONS="log_path=$dir/tsan:exitcode=0:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS
"$@"
rc=$?

# The module patterns of tests/lsan.supp ("leak:PATTERN" lines).
pats=
if [ -n "$supp" ] && [ -f "$supp" ]; then
	pats=$(sed -n 's/^leak:\(.*\)$/\1/p' "$supp" | paste -sd'|' -)
fi

found=0
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	verdict=$(awk -v pats="$pats" '
		function own(line,   n, i, p) {
			if (pats == "") return 0
			n = split(pats, p, "|")
			for (i = 1; i <= n; i++)
				if (p[i] != "" && index(line, p[i])) return 1
			return 0
		}
		/ERROR: AddressSanitizer/ { bad = 1 }
		/WARNING: ThreadSanitizer|ERROR: ThreadSanitizer|FATAL: ThreadSanitizer/ { bad = 1 }
		/runtime error:/ { bad = 1 }
		/^(Direct|Indirect) leak of/ { inleak = 1; decided = 0; next }
		inleak && /^ *#[0-9]+ / {
			if (decided) next
			if ($0 ~ /libsanitizer|asan_|lsan_|libasan|liblsan|libubsan|libc\.so|libc_|\/libc-|glibc|__interceptor_/) next
			decided = 1
			if (!own($0)) { bad = 1; ours++ }
			next
		}
		/^$/ { if (inleak && !decided) { bad = 1; ours++ } inleak = 0 }
		END { print bad ? "bad" : "ok" }' "$f")
	if [ "$verdict" = bad ]; then
		found=1
		echo "sanitizer-check: report in $(basename "$f"):"
		cat "$f"
	fi
done
rm -rf "$dir"
if [ $found = 1 ]; then
	echo "sanitizer-check: FAIL: $*: a sanitizer reported an error or a leak of ours (exit status was $rc)"
	exit 1
fi
exit $rc
