#!/bin/sh
# identify --ns decodes Identify Namespace: 64 MiB in 512-byte blocks by
# default; -o binary gives the 4096 raw bytes.
. "$(dirname "$0")/lib.sh"
start_target
expect 0 identify "$ADDR" -n "$TEST_NQN" --ns 1 -o json
nsze=$(json nsze) && ncap=$(json ncap)
blocks=$((64 * 1024 * 1024 / 512))
[ "$nsze" = "$blocks" ] || [ "$nsze" = $((64 * 1024 * 1024 / 4096)) ] || fail "nsze $nsze"
[ "$ncap" = "$nsze" ] || fail "ncap $ncap"
expect 0 identify "$ADDR" -n "$TEST_NQN" --ns 1 -o binary
[ "$(wc -c <"$T/out")" -eq 4096 ] || fail "binary Identify is $(wc -c <"$T/out") bytes"
# An inactive namespace is the controller's error, not a crash.
run identify "$ADDR" -n "$TEST_NQN" --ns 7
[ "$RC" -eq 0 ] || [ "$RC" -eq 76 ] || fail "inactive namespace: exit $RC"
