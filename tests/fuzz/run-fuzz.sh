#!/bin/sh
# SPDX-License-Identifier: MIT
# Run one libFuzzer harness for a while, from its seed corpus:
#   run-fuzz.sh BINARY SEED_DIR SECONDS [libFuzzer options...]
# New inputs go to a scratch corpus (the seeds are not touched); a crash,
# leak, timeout or failed oracle leaves its input in FUZZ_OUT (default
# ./fuzz-findings/<harness>/) and fails, with the way to make it a
# regression test.  Prints the executions per second at the end.
set -u
bin=$1 seeds=$2 secs=$3
shift 3
name=$(basename "$bin")
name=${name#fuzz_}
out=${FUZZ_OUT:-fuzz-findings}/$name
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$name.XXXXXX") || exit 1
mkdir -p "$out"
log="$out/fuzz.log"
echo "fuzz $name: $secs s from $(ls "$seeds" | wc -l) seeds"
# Leaks per input, as in make check; no core dumps of the whole corpus.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
dict=
[ -f "$(dirname "$0")/$name.dict" ] && dict="-dict=$(dirname "$0")/$name.dict"
# shellcheck disable=SC2086
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-max_len=262144 -print_final_stats=1 -artifact_prefix="$out/" $dict "$@" \
	"$work" "$seeds" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
echo "fuzz $name: ${execs:-?} executions, ${rate:-?} exec/s, ${cov:-cov: ?}, $(ls "$work" | wc -l) new inputs"
rm -rf "$work"
if [ $rc != 0 ]; then
	tail -60 "$log"
	for a in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*; do
		[ -f "$a" ] || continue
		echo "fuzz $name: FINDING $a"
		echo "  make it a regression test: cp '$a' tests/fuzz/regressions/$name/ (then fix it)"
	done
	echo "fuzz $name: FAILED (exit $rc), log in $log"
	exit 1
fi
exit 0
