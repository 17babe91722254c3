#!/bin/sh
# nvmeof-target's secure channel (--tls): openssl s_client with the TLS PSK
# of check-tls-key completes the handshake and gets an ICResp for an ICReq;
# our host works over TLS against a required listener (identify, perf
# --verify) and, with --tls-psk-derivation auto, against a target that
# derives compat; a wrong key and an unknown host fail with the host's
# clear message (no hang); plaintext to a required listener is refused; a
# not-required listener takes both; the discovery log carries TREQ and
# SECTYPE per listener; keys from the configuration file and the control
# socket; DH-HMAC-CHAP inside TLS; key files others can read are refused.
. "$(dirname "$0")/lib.sh"
need_target
if ! command -v openssl >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && fail "CI=true and no openssl(1)"
	skip "openssl(1) is not installed"
fi
H=nqn.2026-12.org.example:tls-host
H2=nqn.2026-12.org.example:tls-other
(umask 077 && "$NVMEOF" gen-tls-key >"$T/key" && "$NVMEOF" gen-tls-key >"$T/key2" &&
	"$NVMEOF" gen-tls-key --hmac 2 >"$T/key384") || fail "gen-tls-key"
KEY=$(cat "$T/key")

# A key file others can read: refused at start with the reason, status 64.
cp "$T/key" "$T/key-open" && chmod 644 "$T/key-open"
RC=0
"$NVMEOF_TARGET" -l 127.0.0.1:0 --tls required -n "$TEST_NQN" --ns ram:1M \
	--tls-key-file "$H=$T/key-open" >"$T/out" 2>"$T/err" || RC=$?
[ "$RC" -eq 64 ] || fail "a 0644 key file: the target exited $RC, expected 64"
err_has "readable or writable by group or others"
RC=0
"$NVMEOF_TARGET" -n "$TEST_NQN" --ns ram:1M --tls required >"$T/out" 2>"$T/err" || RC=$?
[ "$RC" -eq 64 ] || fail "--tls without -l: exited $RC, expected 64"
err_has "give it after the -l"

# Listeners: required (first), not-required, plaintext; H's key from a
# file, H2's from the configuration file; the control socket for more.
cat >"$T/conf" <<EOF
tls-key $H2 $(cat "$T/key2")
EOF
start_target --tls required -l 127.0.0.1:0 --tls not-required -l 127.0.0.1:0 \
	--tls-key-file "$H=$T/key" -c "$T/conf" --control "$T/ctl" --login-timeout 5 -v
P1=$TPORT
P2=$(sed -n 2p "$T/port")
P3=$(sed -n 3p "$T/port")
[ -n "$P2" ] && [ -n "$P3" ] || fail "port file: $(cat "$T/port")"

# (a) openssl s_client: the handshake with the RFC-derived TLS PSK, then
# an ICReq inside TLS gets the 128-byte ICResp (PDU type 1).
expect 0 check-tls-key "$KEY" --hostnqn "$H" --subnqn "$TEST_NQN"
PSK=$(sed -n 's/^TLS PSK (rfc): //p' "$T/out")
[ -n "$PSK" ] || fail "check-tls-key printed no TLS PSK"
{ printf '\000\000\200\000\200\000\000\000'; head -c 120 /dev/zero; } >"$T/icreq"
timeout 60 openssl s_client -connect "127.0.0.1:$P1" -tls1_3 -psk "$PSK" \
	-psk_identity "NVMe0R01 $H $TEST_NQN" -ciphersuites TLS_AES_128_GCM_SHA256 \
	-quiet <"$T/icreq" >"$T/icresp" 2>"$T/sc.err"
[ "$(wc -c <"$T/icresp")" -eq 128 ] ||
	fail "s_client: $(wc -c <"$T/icresp") bytes back, expected an ICResp of 128: $(cat "$T/sc.err")"
[ "$(od -An -tx1 -N 4 "$T/icresp" | tr -d ' \n')" = 01008000 ] ||
	fail "s_client: not an ICResp: $(od -An -tx1 -N 8 "$T/icresp")"
grep -q "TLS: TLSv1.3 TLS_AES_128_GCM_SHA256, identity 'NVMe0R01 $H $TEST_NQN'" "$T/target.log" ||
	fail "the target did not log the TLS session: $(cat "$T/target.log")"
# the same with a PSK that is not the key's: no ICResp, the host is told
timeout 60 openssl s_client -connect "127.0.0.1:$P1" -tls1_3 \
	-psk 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff \
	-psk_identity "NVMe0R01 $H $TEST_NQN" -ciphersuites TLS_AES_128_GCM_SHA256 \
	-quiet <"$T/icreq" >"$T/icresp" 2>"$T/sc.err"
[ ! -s "$T/icresp" ] || fail "a wrong PSK got an answer"

# (b) our host: identify and perf --verify over TLS (required listener).
expect 0 identify "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key"
out_has "$TEST_SERIAL"
expect 0 perf "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
	--verify -w randrw -M 50 -q 16 -o 4k -t 1 -j 2 --span 8M
expect 0 perf "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
	--verify -w rw -M 50 -q 8 -o 128k -t 1 --span 16M
# the version 1 identity (NVMe1R01 ... with the PSK digest)
expect 0 identify "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
	--tls-identity 1
grep -q "identity 'NVMe1R01 $H $TEST_NQN " "$T/target.log" ||
	fail "no version 1 identity: $(cat "$T/target.log")"
# the key from the configuration file
expect 0 identify "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H2" --tls-key-file "$T/key2"
# a wrong key: the host's message, non-zero, and the target says why
t0=$(now_ms)
run identify "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key2" \
	--tls-psk-derivation rfc
[ "$RC" -ne 0 ] || fail "a wrong key connected"
err_has "TLS handshake"
[ $(($(now_ms) - t0)) -lt 30000 ] || fail "a wrong key took more than 30 s"
# an unknown host: refused, the target names the identity
run identify "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn nqn.2026-12.org.example:nobody \
	--tls-key-file "$T/key" --tls-psk-derivation rfc
[ "$RC" -ne 0 ] || fail "a host without a key connected"
err_has "TLS handshake"
grep -q "no key for host nqn.2026-12.org.example:nobody (identity 'NVMe0R01 " "$T/target.log" ||
	fail "the target did not name the unknown identity: $(cat "$T/target.log")"
# plaintext to the required listener: refused, said on both sides
run identify "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H"
[ "$RC" -ne 0 ] || fail "plaintext connected to a TLS-required listener"
grep -q "requires TLS but the host sent a plaintext ICReq" "$T/target.log" ||
	fail "the target did not say why: $(cat "$T/target.log")"
# not-required: both; plaintext listener: plaintext
expect 0 identify "127.0.0.1:$P2" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key"
expect 0 identify "127.0.0.1:$P2" -n "$TEST_NQN" --hostnqn "$H"
expect 0 perf "127.0.0.1:$P2" -n "$TEST_NQN" --hostnqn "$H" --verify -q 4 -o 4k -t 1 --span 4M
expect 0 identify "127.0.0.1:$P3" -n "$TEST_NQN" --hostnqn "$H"

# (c) the discovery log: TREQ and SECTYPE per listener (over TLS).
expect 0 discover "127.0.0.1:$P1" --hostnqn "$H" --tls-key-file "$T/key" -o json
json_sec() {
	"$JSON_QUERY" records <"$T/out" >/dev/null 2>&1
	python3 - "$T/out" "$1" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["records"]:
    if r["trsvcid"] == sys.argv[2]:
        print(r["treq"].split(",")[0] + "/" + r.get("sectype", "-"))
PY
}
[ "$(json_sec "$P1")" = "required/tls13" ] || fail "port $P1: $(json_sec "$P1")"
[ "$(json_sec "$P2")" = "not required/tls13" ] || fail "port $P2: $(json_sec "$P2")"
[ "$(json_sec "$P3")" = "not specified/none" ] || fail "port $P3: $(json_sec "$P3")"

# Control socket: remove H's key (refused from then on), add a SHA-384 one.
ctl tls-keys || fail "tls-keys: $(cat "$T/ctl.out")"
grep -q "^$H hash=sha256 from=command line" "$T/ctl.out" || fail "tls-keys: $(cat "$T/ctl.out")"
grep -q "^$H2 hash=sha256 from=config" "$T/ctl.out" || fail "tls-keys: $(cat "$T/ctl.out")"
ctl tls-key-remove "$H" || fail "tls-key-remove: $(cat "$T/ctl.out")"
ctl tls-key-remove "$H" && fail "tls-key-remove twice said ok"
run identify "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
	--tls-psk-derivation rfc
[ "$RC" -ne 0 ] || fail "a removed key still connects"
ctl tls-key-add "$H" "$(cat "$T/key384")" || fail "tls-key-add: $(cat "$T/ctl.out")"
grep -q "NVMeTLSkey" "$T/target.log" && fail "the target logged a key"
ctl tls-key-add "$H" NVMeTLSkey-1:01:bogus: && fail "a bogus key was taken"
expect 0 identify "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key384"
grep -q "TLS_AES_256_GCM_SHA384, identity 'NVMe0R02 $H" "$T/target.log" ||
	fail "no SHA-384 session: $(cat "$T/target.log")"
# The configuration file's keys go with it on reload; a key from a file.
echo "# no keys" >"$T/conf"
ctl reload || fail "reload: $(cat "$T/ctl.out")"
ctl tls-keys || fail "tls-keys: $(cat "$T/ctl.out")"
grep -q "^$H2 " "$T/ctl.out" && fail "the key of $H2 outlived its line: $(cat "$T/ctl.out")"
run identify "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H2" --tls-key-file "$T/key2" \
	--tls-psk-derivation rfc
[ "$RC" -ne 0 ] || fail "$H2 connects without a key"
ctl tls-key-add "$H2" "$T/key-open" && fail "tls-key-add took a 0644 file"
grep -q "readable or writable by group or others" "$T/ctl.out" || fail "tls-key-add: $(cat "$T/ctl.out")"
ctl tls-key-add "$H2" "$T/key2" || fail "tls-key-add FILE: $(cat "$T/ctl.out")"
expect 0 identify "127.0.0.1:$P1" -n "$TEST_NQN" --hostnqn "$H2" --tls-key-file "$T/key2"
kill "$TPID"; wait "$TPID" 2>/dev/null; TPID=

# A target that derives compat: auto connects (RFC refused, then compat).
start_target --tls required --tls-key "$H=$KEY" --tls-psk-derivation compat -v
grep -q NVMeTLSkey "/proc/$TPID/cmdline" && fail "the key is visible in the command line"
expect 0 identify "$ADDR" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
	--tls-psk-derivation auto
out_has "$TEST_SERIAL"
grep -q "(compat derivation)" "$T/target.log" || fail "not compat: $(cat "$T/target.log")"
run identify "$ADDR" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
	--tls-psk-derivation rfc
[ "$RC" -ne 0 ] || fail "rfc connected to a compat target"
err_has "compat"
kill "$TPID"; wait "$TPID" 2>/dev/null; TPID=

# (e) DH-HMAC-CHAP inside TLS (bidirectional).
DK=$("$NVMEOF" gen-dhchap-key --hmac 1 --nqn "$H") || fail "gen-dhchap-key"
DC=$("$NVMEOF" gen-dhchap-key --hmac 2 --nqn "$TEST_NQN") || fail "gen-dhchap-key"
start_target --tls required --tls-key-file "$H=$T/key" --allow-host "$H" \
	--dhchap-key "$DK" --dhchap-ctrl-key "$DC" -v
expect 0 identify "$ADDR" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
	--dhchap-secret "$DK" --dhchap-ctrl-secret "$DC"
out_has "$TEST_SERIAL"
grep -q "TLS: TLSv1.3" "$T/target.log" || fail "no TLS: $(cat "$T/target.log")"
grep -qi "authenticated" "$T/target.log" || fail "no DH-HMAC-CHAP: $(cat "$T/target.log")"
run identify "$ADDR" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
	--dhchap-secret "$DC"
[ "$RC" -ne 0 ] || fail "a wrong DH-HMAC-CHAP secret connected inside TLS"
exit 0
