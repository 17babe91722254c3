#!/bin/sh
# list shows the namespaces the target serves, with and without -n.
. "$(dirname "$0")/lib.sh"
start_target --ns ram:16M
expect 0 list "$ADDR" -n "$TEST_NQN" -o json
[ "$(json '#subsystems')" = 1 ] || fail "one subsystem"
[ "$(json '#subsystems.0.namespaces')" = 2 ] || fail "two namespaces"
[ "$(json subsystems.0.subnqn)" = "$TEST_NQN" ] || fail "subnqn"
[ "$(json subsystems.0.namespaces.0.nsid)" = 1 ] || fail "nsid 1"
[ "$(json subsystems.0.namespaces.0.size)" = 67108864 ] || fail "size of ns 1"
[ "$(json subsystems.0.namespaces.1.size)" = 16777216 ] || fail "size of ns 2"
expect 0 list "$ADDR" -n "$TEST_NQN"
grep -E '^1 +64\.00 MiB' "$T/out" >/dev/null || fail "text row for ns 1"
grep -E '^2 +16\.00 MiB' "$T/out" >/dev/null || fail "text row for ns 2"
# Without -n: every NVM subsystem of the discovery log.
expect 0 list "$ADDR"
out_has "$TEST_NQN at 127.0.0.1:$TPORT"
grep -E '^2 +16\.00 MiB' "$T/out" >/dev/null || fail "ns 2 via discovery"
