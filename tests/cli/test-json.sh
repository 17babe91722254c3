#!/bin/sh
# Every subcommand's -o json is valid JSON (tests/json_check.h) and holds
# what the text says.
. "$(dirname "$0")/lib.sh"
start_target
n="-n $TEST_NQN"
expect 0 discover "$ADDR" -o json
json >/dev/null
[ "$(json records.0.subnqn)" = "$TEST_NQN" ] || fail "discover: records.0.subnqn"
[ "$(json records.0.trsvcid)" = "$TPORT" ] || fail "discover: records.0.trsvcid"
expect 0 identify "$ADDR" $n -o json
[ "$(json sn)" = "$TEST_SERIAL" ] || fail "identify: sn"
[ "$(json subnqn)" = "$TEST_NQN" ] || fail "identify: subnqn"
expect 0 identify "$ADDR" -o json
json >/dev/null
expect 0 list "$ADDR" $n -o json
json subsystems.0.namespaces.0.nsid >/dev/null
expect 0 log "$ADDR" $n --lid 2 -o json
json critical_warning >/dev/null
run log "$ADDR" $n --lid 0xc0 --len 16 -o json
[ "$RC" -ne 0 ] || json lid data >/dev/null
expect 0 get-feature "$ADDR" $n -f 7 -o json
json fid value >/dev/null
expect 0 perf "$ADDR" $n -t 1 -q 4 --output-format json
[ "$(json total.errors)" = 0 ] || fail "perf: errors"
json total.iops per_thread.0.lat_p99_us >/dev/null
expect 0 show-hostnqn -o json
json hostnqn hostid >/dev/null
expect 0 gen-hostnqn -o json
json hostnqn >/dev/null
