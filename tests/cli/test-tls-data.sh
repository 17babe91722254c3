#!/bin/sh
# Real NVMe/TCP over TLS: nvmeof-target behind a TLS 1.3 PSK front
# (tests/tls_proxy, libssl on the other side), both hashes and identity
# versions: identify, and
# perf --verify with several queues, reads and writes of 8K to 128K, so that
# PDUs cross TLS records and the writes fill the socket.
. "$(dirname "$0")/lib.sh"
PROXY="$top_builddir/tests/tls_proxy"
[ -x "$PROXY" ] || fail "no $PROXY"
H=nqn.2026-12.org.example:tls-data-host
start_target
PPID_=
trap '[ -n "$PPID_" ] && kill "$PPID_" 2>/dev/null; cleanup' EXIT
# hash 1 and 2 with identity version 0, hash 2 with version 1 (the PSK
# digest in the identity and the derivation)
for spec in "1 0" "2 0" "2 1"; do
	set -- $spec
	hmac=$1 idv=$2
	(umask 077 && "$NVMEOF" gen-tls-key --hmac "$hmac" >"$T/key") || fail "gen-tls-key"
	expect 0 check-tls-key "$(cat "$T/key")" --hostnqn "$H" --subnqn "$TEST_NQN" -I "$idv"
	PSK=$(sed -n 's/^TLS PSK (rfc): //p' "$T/out")
	ID=$(sed -n 's/^Identity (rfc): //p' "$T/out")
	rm -f "$T/pport"
	"$PROXY" "$T/pport" "$TPORT" "$ID" "$PSK" 2>"$T/proxy.log" &
	PPID_=$!
	i=0
	until [ -s "$T/pport" ]; do
		kill -0 "$PPID_" 2>/dev/null || fail "tls_proxy exited: $(cat "$T/proxy.log")"
		i=$((i + 1)); [ $i -lt 400 ] || fail "tls_proxy wrote no port"
		sleep 0.05
	done
	P="127.0.0.1:$(cat "$T/pport")"
	expect 0 identify "$P" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
		--tls-identity "$idv"
	out_has "$TEST_SERIAL"
	expect 0 perf "$P" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
		--tls-identity "$idv" --verify -w randrw -M 50 -q 8 -o 8k -t 1 -j 2 -i 2 --span 8M
	[ "$(grep -c '^tls handshake: [0-9][0-9]*\.[0-9][0-9] ms$' "$T/out")" = 1 ] ||
		fail "perf: no one 'tls handshake: N.NN ms' line: $(cat "$T/out")"
	expect 0 perf "$P" -n "$TEST_NQN" --hostnqn "$H" --tls-key-file "$T/key" \
		--tls-identity "$idv" --verify -w rw -M 50 -q 16 -o 128k -t 1 --span 16M
	# the plain port still works, and TLS to it does not
	expect 0 identify "$ADDR" -n "$TEST_NQN" --hostnqn "$H"
	expect 0 perf "$ADDR" -n "$TEST_NQN" --hostnqn "$H" -w read -q 4 -o 4k -t 1 --span 1M
	grep -q '^tls handshake' "$T/out" && fail "perf without TLS printed a handshake time"
	kill "$PPID_"; wait "$PPID_" 2>/dev/null; PPID_=
done
exit 0
