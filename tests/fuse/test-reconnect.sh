#!/bin/sh
# The target restarts while mounted: status says "reconnecting", a read
# waits instead of failing, and once the target is back (same port, same
# backing file) the association is live again, the read completes with
# the right data and status counts the reconnect.  With
# --fast-io-fail-tmo, I/O fails with EIO while the target is away.
. "$(dirname "$0")/lib.sh"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$T/ns.img"
cp "$T/ns.img" "$T/expect"
start_target -n "$TEST_NQN" --ns "$T/ns.img"
port=$TPORT
do_mount -c 1 -k 2 --io-timeout 5
# O_DIRECT: no readahead still in flight when the target goes (it would
# hold page locks that the reader below then waits for outside FUSE).
dd if="$MNT/n1" bs=1M count=1 iflag=direct status=none | cmp -n 1048576 - "$T/expect" ||
	fail "first read"

kill "$TPID"
wait "$TPID" 2>/dev/null
TPID=
until_state reconnecting
dd if="$MNT/n1" of="$T/got" bs=1M skip=3 count=2 iflag=direct status=none &
reader=$!
# The reader's request has reached the mount and waits there (not merely:
# dd started).
until_fuse_wait $reader "$MNT/n1"
echo "the reader's read waits in the mount (wchan $(cat /proc/$reader/wchan 2>&1))"
[ "$(st state)" = reconnecting ] || fail "state while the read waits: $(st state)"
# the target listens again on the same port
"$NVMEOF_TARGET" -l "127.0.0.1:$port" --port-file "$T/port" --control "$T/ctl" \
	-n "$TEST_NQN" --ns "$T/ns.img" >"$T/target.log" 2>&1 &
TPID=$!
until_state live
wait $reader || fail "the read that waited for the reconnect failed"
dd if="$T/expect" bs=1M skip=3 count=2 status=none | cmp - "$T/got" ||
	fail "the read that waited returned wrong data"
[ "$(st reconnects)" = 1 ] || fail "reconnects: $(st reconnects)"
head -c 65536 /dev/urandom >"$T/blk"
dd if="$T/blk" of="$MNT/n1" bs=64k seek=7 conv=notrunc oflag=direct status=none ||
	fail "write after the reconnect"
dd if="$MNT/n1" bs=64k skip=7 count=1 iflag=direct status=none | cmp - "$T/blk" ||
	fail "read back after the reconnect"
do_umount

# fast-io-fail: I/O gives up after 1 s while reconnecting goes on
do_mount -c 1 -k 2 --fast-io-fail-tmo 1
kill "$TPID"
wait "$TPID" 2>/dev/null
TPID=
until_state reconnecting
timeout 20 dd if="$MNT/n1" of=/dev/null bs=4k count=1 iflag=direct 2>"$T/err" &&
	fail "a read succeeded with the target away"
grep -q "Input/output error" "$T/err" || fail "fast-io-fail: $(cat "$T/err")"
# unmounting while the association reconnects is prompt
t0=$(date +%s)
do_umount
[ $(($(date +%s) - t0)) -le 15 ] || fail "unmount took too long while reconnecting"
exit 0
