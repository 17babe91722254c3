#!/bin/sh
# perf --verify writes an LBA pattern, then every read checks it: a mixed
# random workload with two threads sharing one queue passes clean.
. "$(dirname "$0")/lib.sh"
start_target
expect 0 perf "$ADDR" -n "$TEST_NQN" --verify -w randrw -M 70 -q 8 -o 8k -t 2 -j 2 -i 1 --span 8M
out_has "verify: 0 mismatched block reads"
iops=$(awk '$1 == "total" { print int($2) }' "$T/out")
[ "${iops:-0}" -gt 0 ] || fail "IOPS is ${iops:-empty}"
# Sequential reads of the whole namespace, checked.
expect 0 perf "$ADDR" -n "$TEST_NQN" --verify -w read -q 4 -o 64k -t 1
out_has "verify: 0 mismatched block reads"
