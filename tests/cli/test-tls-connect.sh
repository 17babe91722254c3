#!/bin/sh
# --tls against an independent TLS stack, openssl s_server with only a PSK:
# the target holds the compat-derived PSK of a key; auto derivation is
# refused with the RFC one and connects with the compat one, after which the
# ICReq arrives inside TLS; forced rfc fails with the message that names the
# identity and the other derivation; a plain NVMe/TCP target and a key file
# others can read are refused with their reasons; --tls without a key is a
# usage error.
. "$(dirname "$0")/lib.sh"
if ! command -v openssl >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && fail "CI=true and no openssl(1)"
	skip "openssl(1) is not installed"
fi
H=nqn.2026-12.org.example:tls-host
S=nqn.2026-12.org.example:tls-sub
(umask 077 && "$NVMEOF" gen-tls-key >"$T/key") || fail "gen-tls-key"
expect 0 check-tls-key "$(cat "$T/key")" --hostnqn "$H" --subnqn "$S"
cp "$T/out" "$T/tlsout"
PSK=$(sed -n 's/^TLS PSK (compat): //p' "$T/out")
ID=$(sed -n 's/^Identity (compat): //p' "$T/out")
[ -n "$PSK" ] && [ "$ID" = "NVMe0R01 $H $S" ] || fail "check-tls-key: $(cat "$T/out")"

SPID=
stop_server() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	SPID=
}
trap 'stop_server; cleanup' EXIT
# s_server with the compat PSK; stdin a FIFO held open so that it sends
# nothing of its own. Sets SPORT.
start_server() {
	rm -f "$T/ss" "$T/fifo"
	mkfifo "$T/fifo"
	openssl s_server -tls1_3 -nocert -psk "$PSK" -psk_identity "$ID" \
		-ciphersuites TLS_AES_128_GCM_SHA256 -accept 127.0.0.1:0 \
		<"$T/fifo" >"$T/ss" 2>&1 &
	SPID=$!
	exec 3>"$T/fifo"
	i=0
	until grep -q '^ACCEPT 127.0.0.1:' "$T/ss" 2>/dev/null; do
		kill -0 "$SPID" 2>/dev/null || fail "s_server exited: $(cat "$T/ss")"
		i=$((i + 1)); [ $i -lt 400 ] || fail "s_server did not start"
		sleep 0.05
	done
	SPORT=$(sed -n 's/^ACCEPT 127.0.0.1://p' "$T/ss")
}
# wait_icreq: until s_server has printed an ICReq (type 0, HLEN 128, PLEN 128).
wait_icreq() {
	i=0
	until od -An -v -tx1 "$T/ss" | tr -d ' \n' | grep -q 0000800080000000; do
		i=$((i + 1)); [ $i -lt 400 ] || fail "no ICReq reached s_server: $(cat "$T/ss")"
		sleep 0.05
	done
}

# auto: RFC refused (s_server: binder does not verify), then compat.
for how in "" "--tls-psk-derivation compat"; do
	start_server
	"$NVMEOF" identify "127.0.0.1:$SPORT" -n "$S" --hostnqn "$H" \
		--tls-key-file "$T/key" $how >"$T/out" 2>"$T/err" &
	NPID=$!
	wait_icreq
	stop_server # the ICResp never comes: the connection ends
	RC=0; wait "$NPID" || RC=$?
	[ "$RC" -ne 0 ] || fail "identify against s_server succeeded?"
	grep -q "TLS handshake" "$T/err" && fail "${how:-auto}: the handshake failed: $(cat "$T/err")"
	err_has "ICResp"
	exec 3>&-
done

# A TLS PSK already derived (--tls-psk-file), as check-tls-key prints it,
# bare hex or the whole line: the handshake completes with it alone.
for form in bare line; do
	if [ $form = bare ]; then
		(umask 077 && echo "$PSK" >"$T/psk")
	else
		(umask 077 && grep '^TLS PSK (compat): ' "$T/tlsout" >"$T/psk")
	fi
	start_server
	"$NVMEOF" identify "127.0.0.1:$SPORT" -n "$S" --hostnqn "$H" \
		--tls-psk-file "$T/psk" >"$T/out" 2>"$T/err" &
	NPID=$!
	wait_icreq
	stop_server
	RC=0; wait "$NPID" || RC=$?
	[ "$RC" -ne 0 ] || fail "identify against s_server succeeded?"
	grep -q "TLS handshake" "$T/err" && fail "--tls-psk-file ($form): $(cat "$T/err")"
	err_has "ICResp"
	exec 3>&-
done
# the RFC-derived PSK is the wrong one here: refused, no fallback to try
sed -n 's/^TLS PSK (rfc): //p' "$T/tlsout" >"$T/psk-rfc"; chmod 600 "$T/psk-rfc"
start_server
expect 78 identify "127.0.0.1:$SPORT" -n "$S" --hostnqn "$H" --tls-psk-file "$T/psk-rfc"
err_has "no PSK matches identity 'NVMe0R01 $H $S' (wrong TLS PSK in --tls-psk-file"
stop_server
exec 3>&-
# its mode, its length, its digits; with a key; with identity 1
chmod 644 "$T/psk"
run identify "127.0.0.1:1" -n "$S" --hostnqn "$H" --tls-psk-file "$T/psk"
[ "$RC" -ne 0 ] || fail "a PSK file of mode 644 was used"
err_has "chmod 600"
rm -f "$T/psk"; (umask 077 && echo "${PSK}00" >"$T/psk")
run identify "127.0.0.1:1" -n "$S" --hostnqn "$H" --tls-psk-file "$T/psk"
[ "$RC" -ne 0 ] || fail "a 33-byte PSK was used"
err_has "66 hex digits; a TLS PSK has 64"
(umask 077 && echo "${PSK%??}zz" >"$T/psk")
run identify "127.0.0.1:1" -n "$S" --hostnqn "$H" --tls-psk-file "$T/psk"
[ "$RC" -ne 0 ] || fail "a PSK with 'z' was used"
err_has "'z' at 62 is not a hex digit"
expect 64 identify "127.0.0.1:1" -n "$S" --tls-psk-file "$T/psk" --tls-key-file "$T/key"
err_has "not both"
expect 64 identify "127.0.0.1:1" -n "$S" --tls-psk-file "$T/psk" --tls-identity 1
err_has "identity 0"

# rfc only: refused, with the identity and the hint.
start_server
expect 78 identify "127.0.0.1:$SPORT" -n "$S" --hostnqn "$H" --tls-key-file "$T/key" \
	--tls-psk-derivation rfc
err_has "TLS handshake with 127.0.0.1:$SPORT failed: no PSK matches identity 'NVMe0R01 $H $S'"
err_has "try --tls-psk-derivation compat"
# a key that is not this one, in auto: both refused
(umask 077 && "$NVMEOF" gen-tls-key >"$T/key2")
expect 78 identify "127.0.0.1:$SPORT" -n "$S" --hostnqn "$H" --tls-key-file "$T/key2"
err_has "no PSK matches identity"
err_has "with the compat derivation neither"
stop_server
exec 3>&-

# A plain NVMe/TCP target: the ClientHello is no ICReq.
start_target
run identify "$ADDR" -n "$TEST_NQN" --tls-key-file "$T/key"
[ "$RC" -ne 0 ] || fail "TLS to a plain target succeeded"
err_has "TLS handshake with $ADDR failed"

# Key files others can read; no key; two keys; bad derivation.
cp "$T/key" "$T/key-open" && chmod 644 "$T/key-open"
run identify "$ADDR" -n "$TEST_NQN" --tls-key-file "$T/key-open"
[ "$RC" -ne 0 ] || fail "a key file of mode 644 was used"
err_has "chmod 600"
expect 64 identify "$ADDR" -n "$TEST_NQN" --tls
err_has "--tls needs --tls-key-file"
expect 64 identify "$ADDR" -n "$TEST_NQN" --tls-key "$(cat "$T/key")" --tls-key-file "$T/key"
err_has "not both"
expect 64 identify "$ADDR" -n "$TEST_NQN" --tls-key-file "$T/key" --tls-psk-derivation best
err_has "not auto, rfc or compat"
run identify "$ADDR" -n "$TEST_NQN" --tls-key 'NVMeTLSkey-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdv:'
[ "$RC" -ne 0 ] || fail "a key with a bad CRC was used"
err_has "CRC mismatch"
# and without TLS the target still answers
expect 0 identify "$ADDR" -n "$TEST_NQN"
exit 0
