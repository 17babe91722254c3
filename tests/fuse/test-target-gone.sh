#!/bin/sh
# The target goes away while mounted (no reconnect: --ctrl-loss-tmo 0):
# status says "failed", I/O fails with
# EIO instead of hanging, the daemon does not spin on the dead socket, and
# unmounting still ends it.
. "$(dirname "$0")/lib.sh"
start_target
do_mount -k 2 --io-timeout 5 --ctrl-loss-tmo 0
dd if="$MNT/n1" of=/dev/null bs=1M count=1 iflag=direct status=none || fail "read"
kill "$TPID"
wait "$TPID" 2>/dev/null
TPID=
i=0
until grep -q "^state *: failed" "$MNT/status"; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "status does not say failed: $(grep state "$MNT/status")"
	sleep 0.1
done
timeout 20 dd if="$MNT/n1" of=/dev/null bs=4k count=1 iflag=direct 2>"$T/err" &&
	fail "a read after the target died succeeded"
[ $? -ne 124 ] || fail "a read after the target died hung"
grep -q "Input/output error" "$T/err" || fail "not EIO: $(cat "$T/err")"
timeout 20 dd if=/dev/zero of="$MNT/n1" bs=4k count=1 oflag=direct conv=notrunc 2>"$T/err" &&
	fail "a write after the target died succeeded"
grep -q "Input/output error" "$T/err" || fail "write: not EIO: $(cat "$T/err")"
ticks() { awk '{ print $14 + $15 }' "/proc/$MPID/stat"; }
a=$(ticks)
sleep 1
b=$(ticks)
[ $((b - a)) -lt $(($(getconf CLK_TCK) / 5)) ] ||
	fail "the daemon used $((b - a)) ticks of CPU in 1 s with a failed association"
do_umount
exit 0
