#!/bin/sh
# discover lists the target's subsystem in its table, on the port given.
. "$(dirname "$0")/lib.sh"
start_target
expect 0 discover "$ADDR"
head -n 1 "$T/out" | grep -q '^trtype  *adrfam  *subtype  *traddr  *trsvcid  *subnqn  *portid  *cntlid  *sectype  *treq$' ||
	fail "no table header"
grep -E "^tcp +ipv4 +nvme +127\.0\.0\.1 +$TPORT +$TEST_NQN " "$T/out" >/dev/null ||
	fail "no row for $TEST_NQN"
# --referrals goes through nvmeof_discover_all and finds the same.
expect 0 discover "$ADDR" --referrals
out_has "$TEST_NQN"
