#!/bin/sh
# Each change of the association's state is logged once, in words: in the
# foreground on stderr (a daemon logs to syslog).  The target goes away
# and comes back on the same port: one "reconnecting" line with the reason,
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
sleep 2 # several failed attempts: still one line
"$NVMEOF_TARGET" -l "127.0.0.1:$port" --port-file "$T/port" -n "$TEST_NQN" \
	--ns ram:16M >"$T/target.log" 2>&1 &
TPID=$!
until_state live
sleep 0.5
n_rec=$(grep -c ': reconnecting: ' "$T/log")
n_live=$(grep -c ': live: reconnected ' "$T/log")
[ "$n_rec" = 1 ] || fail "$n_rec 'reconnecting' lines: $(cat "$T/log")"
[ "$n_live" = 1 ] || fail "$n_live 'live' lines: $(cat "$T/log")"
grep ': reconnecting: ' "$T/log" | grep -q 'association lost (' ||
	fail "the reason is not given: $(cat "$T/log")"
cat "$T/log"
fusermount3 -u "$MNT" || fail "fusermount3 -u"
wait "$MPID" 2>/dev/null
MPID=
exit 0
