#!/bin/sh
# nvmeof reconnect MNT [HOST:PORT]: the association moves to a second
# target process serving the same subsystem NQN (a copy of the data with
# one block changed, so the reader can tell them apart); reads then see
# the second target's data, the first can go away, status names the new
# address and counts the reconnect.  A bare "reconnect" reconnects in place.
. "$(dirname "$0")/lib.sh"
: "${NVMEOF:=$top_builddir/cli/nvmeof}"
[ -x "$NVMEOF" ] || fail "nvmeof is not built at $NVMEOF"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$T/a.img"
cp "$T/a.img" "$T/b.img"
head -c 4096 /dev/urandom >"$T/mark"
dd if="$T/mark" of="$T/b.img" bs=4096 seek=5 conv=notrunc status=none
start_target -n "$TEST_NQN" --ns "$T/a.img"
PID_A=$TPID
do_mount
dd if="$MNT/n1" bs=4096 skip=5 count=1 iflag=direct status=none | cmp -s - "$T/mark" &&
	fail "the first target already shows the mark"

# the second target: same NQN, another port
"$NVMEOF_TARGET" -l 127.0.0.1:0 --port-file "$T/port2" -n "$TEST_NQN" \
	--ns "$T/b.img" >"$T/target2.log" 2>&1 &
PID_B=$!
i=0
until [ -s "$T/port2" ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "the second target wrote no port file"
	sleep 0.05
done
PORT_B=$(grep -o '[0-9][0-9]*' "$T/port2" | head -n 1)

"$NVMEOF" reconnect "$MNT" "127.0.0.1:$PORT_B" 2>"$T/err" ||
	fail "nvmeof reconnect to the second target exited $?: $(cat "$T/err")"
i=0
until [ "$(st address)" = "127.0.0.1:$PORT_B" ] && [ "$(st state)" = live ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "not live at 127.0.0.1:$PORT_B: $(cat "$MNT/status")"
	sleep 0.1
done
# the first target goes; the mount does not notice
kill "$PID_A"
wait "$PID_A" 2>/dev/null
TPID=$PID_B
dd if="$MNT/n1" bs=4096 skip=5 count=1 iflag=direct status=none | cmp -s - "$T/mark" ||
	fail "after the move a read does not see the second target's data"
cmp "$MNT/n1" "$T/b.img" || fail "the namespace differs from the second target's"
[ "$(st reconnect_asks)" = 1 ] || fail "reconnect_asks: $(st reconnect_asks)"
[ "$(st state)" = live ] || fail "state $(st state) with the first target gone"

# in place
r0=$(st reconnects)
"$NVMEOF" reconnect "$MNT" 2>"$T/err" || fail "nvmeof reconnect exited $?: $(cat "$T/err")"
i=0
until [ "$(st reconnects)" -gt "$r0" ] && [ "$(st state)" = live ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "no reconnect in place: $(cat "$MNT/status")"
	sleep 0.1
done
[ "$(st address)" = "127.0.0.1:$PORT_B" ] || fail "address after reconnect in place: $(st address)"
cmp "$MNT/n1" "$T/b.img" || fail "data after the reconnect in place"

# bad input
RC=0
"$NVMEOF" reconnect "$MNT" "127.0.0.1:99999:x" 2>"$T/err" || RC=$?
[ $RC -eq 64 ] || fail "a bad address exited $RC"
RC=0
"$NVMEOF" reconnect "$T" 2>"$T/err" || RC=$?
[ $RC -eq 64 ] || fail "reconnect of a plain directory exited $RC"
do_umount
exit 0
