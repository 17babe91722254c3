#!/bin/sh
# The TLS handshake's error paths from the command line (tests/tls_fake):
# an answer that is no TLS, a server that closes during the handshake, one
# that never answers; each its message and its own exit status (76, 74,
# 69; a refused PSK is 78: test-tls-connect.sh), never a hang. The silent
# case waits the connect timeout (10 s) by design.
. "$(dirname "$0")/lib.sh"
FAKE="$top_builddir/tests/tls_fake"
[ -x "$FAKE" ] || fail "no $FAKE"
S=nqn.2026-12.org.example:tls-errors
(umask 077 && "$NVMEOF" gen-tls-key >"$T/key") || fail "gen-tls-key"
FPID=
trap '[ -n "$FPID" ] && kill "$FPID" 2>/dev/null; cleanup' EXIT
fake() {
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null && wait "$FPID" 2>/dev/null
	rm -f "$T/fport"
	"$FAKE" "$T/fport" "$1" 2>"$T/fake.log" &
	FPID=$!
	i=0
	until [ -s "$T/fport" ]; do
		kill -0 "$FPID" 2>/dev/null || fail "tls_fake exited: $(cat "$T/fake.log")"
		i=$((i + 1)); [ $i -lt 400 ] || fail "tls_fake wrote no port"
		sleep 0.05
	done
	F="127.0.0.1:$(cat "$T/fport")"
}

fake garbage
expect 76 identify "$F" -n "$S" --tls-key-file "$T/key"
err_has "TLS handshake with $F failed: the answer is not TLS"
fake close
expect 74 identify "$F" -n "$S" --tls-key-file "$T/key"
err_has "TLS handshake with $F failed: the target closed the connection"
# auto tried compat too, and says so
err_has "with the compat derivation too"
fake silent
expect 69 identify "$F" -n "$S" --tls-key-file "$T/key"
err_has "TLS handshake with $F failed: no answer within 10000 ms"
exit 0
