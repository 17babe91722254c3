#!/bin/sh
# perf runs 2 s with DEPTH in flight and reports IOPS > 0, per thread and
# in total, with latency percentiles and host CPU per I/O.
. "$(dirname "$0")/lib.sh"
start_target
expect 0 perf "$ADDR" -n "$TEST_NQN" -q 16 -o 4096 -w randread -t 2 -j 2
grep -E '^ +total +[0-9.]+ ' "$T/out" >/dev/null || fail "no total row"
iops=$(awk '$1 == "total" { print int($2) }' "$T/out")
[ "${iops:-0}" -gt 0 ] || fail "IOPS is ${iops:-empty}"
for t in 0 1; do
	grep -E "^ +$t +[0-9.]+ " "$T/out" >/dev/null || fail "no row for thread $t"
done
out_has "p99.9(us)"
out_has "host CPU per I/O"
echo "perf: $(awk '$1 == "total"' "$T/out")"
