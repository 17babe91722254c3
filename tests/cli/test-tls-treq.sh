#!/bin/sh
# TSAS/TREQ end to end against nvmeof-target with TLS: a plaintext
# listener (discovery) and a second one with --tls required. discover shows
# the second port as sectype tls1.3, treq required; connect-all without a
# key mounts the plaintext port and refuses the TLS one with "the port
# requires TLS (TREQ): give --tls-key" and exit 78; with a key it mounts the
# TLS port over TLS (--dry-run shows both). Needs nvmeof-target's --tls
# (contract: --tls applies to the last -l): without it the test is skipped,
# saying so.
. "$(dirname "$0")/lib.sh"
need_target
"$NVMEOF_TARGET" --help 2>&1 | grep -q -- '--tls-key' ||
	{ echo "SKIP: this nvmeof-target has no --tls/--tls-key (TLS in the target)" >&2; exit 77; }
H=nqn.2026-12.org.example:tls-treq-host
(umask 077 && "$NVMEOF" gen-tls-key >"$T/key") || fail "gen-tls-key"
start_target -l 127.0.0.1:0 --tls required --tls-key "$H=$(cat "$T/key")"
P2=$(grep -o '[0-9][0-9]*' "$T/port" | sed -n 2p)
[ -n "$P2" ] || fail "no second port in the port file: $(cat "$T/port")"

expect 0 discover "$ADDR" --hostnqn "$H"
grep -E "^tcp +ipv4 +nvme +127\.0\.0\.1 +$P2 +$TEST_NQN .* tls1\.3 +required$" "$T/out" \
	>/dev/null || fail "no row for the TLS port with tls1.3, required"
grep -E "^tcp +ipv4 +nvme +127\.0\.0\.1 +$TPORT +$TEST_NQN .* none +" "$T/out" \
	>/dev/null || fail "no row for the plaintext port"

NVMEOF_RUN_DIR="$T/run" expect 78 connect-all "$ADDR" --hostnqn "$H" --dry-run
err_has "$TEST_NQN at 127.0.0.1:$P2: the port requires TLS (TREQ): give --tls-key"
out_has "127.0.0.1:$TPORT"
NVMEOF_RUN_DIR="$T/run" expect 0 connect-all "$ADDR" --hostnqn "$H" --tls-key-file "$T/key" \
	--dry-run
grep -q -- "-o tls,tls_key_file=$T/key 127.0.0.1:$P2 " "$T/out" ||
	fail "the TLS port not over TLS: $(cat "$T/out")"
grep "127.0.0.1:$TPORT " "$T/out" | grep -q -- '-o tls' &&
	fail "the plaintext port over TLS: $(cat "$T/out")"
# and the TLS port itself answers over TLS with the key
expect 0 identify "127.0.0.1:$P2" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key"
out_has "$TEST_SERIAL"
exit 0
