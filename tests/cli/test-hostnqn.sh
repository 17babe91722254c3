#!/bin/sh
# gen-hostnqn prints a fresh UUID host NQN each time; show-hostnqn prints
# the hostnqn file (here in NVMEOF_ETC_DIR) and, in JSON, the host ID.
. "$(dirname "$0")/lib.sh"
re='^nqn\.2014-08\.org\.nvmexpress:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
expect 0 gen-hostnqn
grep -Eq "$re" "$T/out" || fail "gen-hostnqn: $(cat "$T/out")"
first=$(cat "$T/out")
expect 0 gen-hostnqn
[ "$(cat "$T/out")" != "$first" ] || fail "gen-hostnqn twice gave the same NQN"
mkdir "$T/etc"
echo "$first" >"$T/etc/hostnqn"
NVMEOF_ETC_DIR="$T/etc" expect 0 show-hostnqn
[ "$(cat "$T/out")" = "$first" ] || fail "show-hostnqn: $(cat "$T/out"), not $first"
NVMEOF_ETC_DIR="$T/etc" expect 0 show-hostnqn -o json
[ "$(json hostnqn)" = "$first" ] || fail "show-hostnqn json hostnqn"
[ "$(json hostid)" = "${first#nqn.2014-08.org.nvmexpress:uuid:}" ] || fail "hostid from the UUID NQN"
# No identity at all: exit 78 (EX_CONFIG) with the reason.
mkdir "$T/empty"
NVMEOF_ETC_DIR="$T/empty" expect 78 show-hostnqn
err_has "no host ID"
