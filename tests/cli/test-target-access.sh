#!/bin/sh
# nvmeof-target --allow-host through the CLI: the listed host connects,
# another one gets Connect Invalid Host (exit 76, the status named), and
# discovery shows each host only the subsystems it may connect to.
. "$(dirname "$0")/lib.sh"
A=nqn.2014-08.org.example:access-host-a
B=nqn.2014-08.org.example:access-host-b
OPEN=nqn.2026-11.org.example:cli-test-open
start_target --allow-host "$A" -n "$OPEN" --ns ram:1M

expect 0 identify "$ADDR" -n "$TEST_NQN" --hostnqn "$A"
out_has "$TEST_SERIAL"
expect 76 identify "$ADDR" -n "$TEST_NQN" --hostnqn "$B"
err_has "Connect Invalid Host (SCT 1h SC 84h"
grep -qF "host '$B' is not allowed on $TEST_NQN" "$T/target.log" ||
	fail "the target did not log whom it refused"
expect 0 identify "$ADDR" -n "$OPEN" --hostnqn "$B"

# subnqn is the sixth column
has_sub() { awk -v n="$1" '$6 == n { ok = 1 } END { exit !ok }' "$T/out"; }
expect 0 discover "$ADDR" --hostnqn "$A"
has_sub "$TEST_NQN" || fail "host A is not shown $TEST_NQN"
has_sub "$OPEN" || fail "host A is not shown $OPEN"
expect 0 discover "$ADDR" --hostnqn "$B"
has_sub "$OPEN" || fail "host B is not shown $OPEN"
! has_sub "$TEST_NQN" || fail "host B is shown a subsystem it may not use"
