#!/bin/sh
# A subsystem NQN the target does not have: a clear message and exit 76.
. "$(dirname "$0")/lib.sh"
start_target
expect 76 identify "$ADDR" -n nqn.2026-11.org.example:no-such-subsystem
err_has "nqn.2026-11.org.example:no-such-subsystem"
grep -qi "connect" "$T/err" || fail "the message does not say Connect failed"
expect 76 perf "$ADDR" -n nqn.2026-11.org.example:no-such-subsystem -t 1
