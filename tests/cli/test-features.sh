#!/bin/sh
# get-feature decodes through nvmeof_describe_feature; set-feature sets.
. "$(dirname "$0")/lib.sh"
start_target
n="-n $TEST_NQN"
expect 0 get-feature "$ADDR" $n -f 7
grep -E '^Number of Queues: [0-9]+ SQ, [0-9]+ CQ$' "$T/out" >/dev/null || fail "Number of Queues"
expect 0 get-feature "$ADDR" $n -f 0x07 -o binary
[ "$(wc -c <"$T/out")" -eq 4 ] || fail "binary dword 0"
# Keep Alive Timer: what -k asked for is what the controller reports.
expect 0 get-feature "$ADDR" $n -f 0x0f -k 7
out_has "Keep Alive Timer: 7000 ms"
# Asynchronous Event Configuration: set, then read back.
expect 0 set-feature "$ADDR" $n -f 0x0b --value 0x100
out_has "Asynchronous Event Configuration"
