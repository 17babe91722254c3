#!/bin/sh
# The discovery controller over TLS (nvmeof-target behind tests/tls_proxy
# with the PSK of the discovery NQN's identity): discover --tls-key-file
# reads the log and shows TSAS/TREQ per entry (table and JSON); connect-all
# through it honours the entries: the target's port says sectype none, so
# the subsystem is mounted without TLS even though a key was given (shown by
# --dry-run); against a discovery port without TLS, connect-all warns and
# reads the log without it. Without the key the TLS port cannot be read.
. "$(dirname "$0")/lib.sh"
PROXY="$top_builddir/tests/tls_proxy"
[ -x "$PROXY" ] || fail "no $PROXY"
H=nqn.2026-12.org.example:tls-disc-host
D=nqn.2014-08.org.nvmexpress.discovery
start_target
(umask 077 && "$NVMEOF" gen-tls-key >"$T/key") || fail "gen-tls-key"
expect 0 check-tls-key "$(cat "$T/key")" --hostnqn "$H" --subnqn "$D"
PSK=$(sed -n 's/^TLS PSK (rfc): //p' "$T/out")
ID=$(sed -n 's/^Identity (rfc): //p' "$T/out")
PXPID=
trap '[ -n "$PXPID" ] && kill "$PXPID" 2>/dev/null; cleanup' EXIT
"$PROXY" "$T/pport" "$TPORT" "$ID" "$PSK" 2>"$T/proxy.log" &
PXPID=$!
i=0
until [ -s "$T/pport" ]; do
	kill -0 "$PXPID" 2>/dev/null || fail "tls_proxy exited: $(cat "$T/proxy.log")"
	i=$((i + 1)); [ $i -lt 400 ] || fail "tls_proxy wrote no port"
	sleep 0.05
done
P="127.0.0.1:$(cat "$T/pport")"

expect 0 discover "$P" --hostnqn "$H" --tls-key-file "$T/key"
head -n 1 "$T/out" | grep -q ' sectype  *treq$' || fail "no treq column"
grep -E "^tcp +ipv4 +nvme +127\.0\.0\.1 +$TPORT +$TEST_NQN .* none +unspecified$" "$T/out" \
	>/dev/null || fail "no row for $TEST_NQN with sectype none, treq unspecified"
grep -q 'handshake' "$T/proxy.log" || fail "discover did not go through TLS"
expect 0 discover "$P" --hostnqn "$H" --tls-key-file "$T/key" -o json
case $(json records.0.treq) in "not specified"*) ;; *) fail "JSON treq: $(json records.0.treq)" ;; esac
[ "$(json records.0.sectype)" = "none" ] || fail "JSON sectype: $(json records.0.sectype)"

# connect-all: the entry offers no TLS: nvmeof-mount without -o tls
NVMEOF_RUN_DIR="$T/run" expect 0 connect-all "$P" --hostnqn "$H" --tls-key-file "$T/key" \
	--dry-run
out_has "-n $TEST_NQN"
out_has "127.0.0.1:$TPORT"
grep -q -- '-o tls' "$T/out" && fail "TLS asked of a port whose entry says none: $(cat "$T/out")"
# connect: the key file goes by path, never the key
NVMEOF_RUN_DIR="$T/run" expect 0 connect "$P" -n "$TEST_NQN" --hostnqn "$H" \
	--tls-key-file "$T/key" --tls-psk-derivation compat -m "$T/m" --dry-run
out_has "-o tls,tls_key_file=$T/key,tls_psk_derivation=compat"
NVMEOF_RUN_DIR="$T/run" expect 0 connect "$P" -n "$TEST_NQN" --hostnqn "$H" \
	--tls-key "$(cat "$T/key")" -m "$T/m" --dry-run
grep -q 'NVMeTLSkey' "$T/out" && fail "the key is on nvmeof-mount's command line"
out_has "-o tls,tls_key_file=$T/run/.dhchap/"

# a key given, a discovery port without TLS (the target's own): the log is
# read without TLS after a warning, and the entries decide
NVMEOF_RUN_DIR="$T/run" expect 0 connect-all "$ADDR" --hostnqn "$H" --tls-key-file "$T/key" \
	--dry-run
err_has "reading the discovery log without TLS"
out_has "127.0.0.1:$TPORT"
grep -q -- '-o tls' "$T/out" && fail "TLS asked of a port whose entry says none: $(cat "$T/out")"
# but discover, asked for TLS, does not fall back
run discover "$ADDR" --hostnqn "$H" --tls-key-file "$T/key"
[ "$RC" -ne 0 ] || fail "discover --tls-key-file of a plaintext port succeeded"
err_has "TLS handshake with $ADDR failed"

# the TLS port without TLS: the ICReq is no ClientHello
run discover "$P" --hostnqn "$H"
[ "$RC" -ne 0 ] || fail "discover without TLS through the TLS port succeeded"
exit 0
