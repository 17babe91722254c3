#!/bin/sh
# identify decodes the serial, model and subsystem NQN the target was given.
. "$(dirname "$0")/lib.sh"
start_target
expect 0 identify "$ADDR" -n "$TEST_NQN"
grep -E "^sn +: $TEST_SERIAL\$" "$T/out" >/dev/null || fail "serial number"
grep -E "^mn +: $TEST_MODEL\$" "$T/out" >/dev/null || fail "model number"
grep -E "^subnqn +: $TEST_NQN\$" "$T/out" >/dev/null || fail "subsystem NQN"
