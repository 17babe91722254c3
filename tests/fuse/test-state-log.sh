#!/bin/sh
# Each change of the association's state is logged once, in words: in the
# foreground on stderr (a daemon logs to syslog).  The target goes away
# and comes back on the same port after at least 3 failed reconnect
# attempts (status's "attempts"): one "reconnecting" line with the reason,
# one "live" line saying it reconnected.
. "$(dirname "$0")/lib.sh"
start_target -n "$TEST_NQN" --ns ram:16M
port=$TPORT
"$NVMEOF_MOUNT" -f -n "$TEST_NQN" -c 1 -k 2 "$ADDR" "$MNT" 2>"$T/log" &
MPID=$!
i=0
until is_mounted "$MNT"; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "not mounted: $(cat "$T/log")"
	sleep 0.05
done
kill "$TPID"
wait "$TPID" 2>/dev/null
TPID=
until_state reconnecting
# Several failed attempts (status counts them), and still one line.
i=0
until [ "$(st attempts)" -ge 3 ] 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 600 ] || fail "attempts: '$(st attempts)' after 60 s, waited for 3"
	sleep 0.1
done
attempts=$(st attempts)
"$NVMEOF_TARGET" -l "127.0.0.1:$port" --port-file "$T/port" -n "$TEST_NQN" \
	--ns ram:16M >"$T/target.log" 2>&1 &
TPID=$!
until_state live
i=0
until grep -q ': live: reconnected ' "$T/log"; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "no 'live' line 10 s after the state went live: $(cat "$T/log")"
	sleep 0.05
done
n_rec=$(grep -c ': reconnecting: ' "$T/log")
n_live=$(grep -c ': live: reconnected ' "$T/log")
[ "$n_rec" = 1 ] || fail "$n_rec 'reconnecting' lines: $(cat "$T/log")"
[ "$n_live" = 1 ] || fail "$n_live 'live' lines: $(cat "$T/log")"
n=$(sed -n 's/.*: live: reconnected.* after \([0-9]*\) attempts\{0,1\} .*/\1/p' "$T/log")
[ "${n:-0}" -gt "$attempts" ] ||
	fail "the 'live' line counts ${n:-no} attempts, status counted $attempts failed ones: $(cat "$T/log")"
grep ': reconnecting: ' "$T/log" | grep -q 'association lost (' ||
	fail "the reason is not given: $(cat "$T/log")"
echo "after $attempts failed attempts:"
cat "$T/log"
fusermount3 -u "$MNT" || fail "fusermount3 -u"
wait "$MPID" 2>/dev/null
MPID=
exit 0
