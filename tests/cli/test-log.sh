#!/bin/sh
# log decodes the pages it knows, dumps the others in hex, and gives the
# raw bytes with -o binary.
. "$(dirname "$0")/lib.sh"
start_target
n="-n $TEST_NQN"
expect 0 log "$ADDR" $n --lid 2
out_has "critical_warning"
out_has "data_units_read"
expect 0 log "$ADDR" $n --lid 0x02 -o binary
[ "$(wc -c <"$T/out")" -eq 512 ] || fail "SMART log is not 512 bytes"
expect 0 log "$ADDR" $n --lid 1 -o json
json >/dev/null
expect 0 log "$ADDR" $n --lid 3
out_has "afi"
expect 0 log "$ADDR" $n --lid 5 -o json
json >/dev/null
# The discovery log from the discovery controller (no -n).
expect 0 log "$ADDR" --lid 0x70
out_has "$TEST_NQN"
out_has "=====Discovery Log Entry 0======"
# A log page without a decoder: a hex dump, or the controller's refusal.
run log "$ADDR" $n --lid 0xc0 --len 64
if [ "$RC" -eq 0 ]; then
	out_has "no decoder"
	grep -q '^00000000: ' "$T/out" || fail "no hex dump"
else
	[ "$RC" -eq 76 ] || fail "unknown log page: exit $RC"
	err_has "log page 0xc0"
fi
