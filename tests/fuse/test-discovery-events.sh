#!/bin/sh
# A tree mount (several subsystems, no -n) keeps its discovery association
# and follows Discovery Log Change events: a subsystem added on the target
# appears as a directory with its data at once (each wait prints how long
# it took; its 10 s bound is a hang guard); one removed goes, and its open
# files and the I/O running on it fail with EIO instead of
# hanging; one that comes back reappears (old open files stay EIO).  When
# the target restarts with other subsystems, the discovery association
# reconnects and the tree follows what the log lists then.
. "$(dirname "$0")/lib.sh"
need timeout python3
# a failure must not leave fd 3 open on the mount (the unmount would wait)
trap 'r=$?; exec 3<&-; (exit $r); cleanup' EXIT

A=nqn.2026-11.org.example:fuse-a
B=nqn.2026-11.org.example:fuse-b
C=nqn.2026-11.org.example:fuse-c
start_target -n "$A" --ns ram:8M -n "$B" --ns ram:4M
NO_NQN=1 do_mount -c 1

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# within MS CMD...: CMD becomes true within MS milliseconds
within() {
	lim=$1
	shift
	t0=$(now_ms)
	while ! "$@" 2>/dev/null; do
		[ $(($(now_ms) - t0)) -lt "$lim" ] || return 1
		sleep 0.05
	done
	echo "$* after $(($(now_ms) - t0)) ms" >&2
}
has() { [ -e "$MNT/$1" ]; }
hasnt() { [ ! -e "$MNT/$1" ]; }
listed() { ls "$MNT" | grep -qxF "$1"; }
unlisted() { ! ls "$MNT" | grep -qxF "$1"; }

grep -q "^state *: live$" "$MNT/status" || fail "discovery status: $(cat "$MNT/status")"
grep -q "^log_events *: yes$" "$MNT/status" || fail "no log events: $(cat "$MNT/status")"
[ "$(live_associations)" -eq 3 ] || fail "expected A, B and the discovery association"

# --- a new subsystem: its directory appears, with the right data
ctl "ns-add $C auto ram:2M" || fail "ns-add: $(cat "$T/ctl.out")"
within 10000 listed "$C" || fail "$C did not appear within 10 s: $(ls "$MNT")"
[ "$(stat -c %s "$MNT/$C/n1")" -eq $((2 * 1024 * 1024)) ] || fail "$C/n1 has the wrong size"
grep -q "^subnqn *: $C$" "$MNT/$C/status" || fail "$C/status"
head -c 1048576 /dev/urandom >"$T/p"
dd if="$T/p" of="$MNT/$C/n1" bs=64k conv=notrunc status=none || fail "write $C/n1"
cmp -n 1048576 "$T/p" "$MNT/$C/n1" || fail "$C/n1 reads back wrong"
# The daemon counts the subsystem once its directory is there: wait for it.
within 10000 grep -q "^added *: 1$" "$MNT/status" || fail "root status: $(cat "$MNT/status")"
[ "$(live_associations)" -eq 4 ] || fail "expected 4 associations with $C"

# --- a subsystem removed: its directory goes, an open file and running
# I/O get EIO (not a hang)
dd if="$T/p" of="$MNT/$B/n1" bs=64k conv=notrunc status=none || fail "write $B/n1"
exec 3<"$MNT/$B/n1"
# a reader of one open file, O_DIRECT, round and round until it fails
python3 - "$MNT/$B/n1" "$T/reader.err" "$T/reader.end" "$T/reader.ready" <<'PYEOF' &
import mmap, os, sys, time
m = mmap.mmap(-1, 65536)
off = 0
try:
    fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
    os.preadv(fd, [m], 0)
    open(sys.argv[4], "w").close()
    while True:
        os.preadv(fd, [m], off)
        off = (off + 65536) % (4 << 20)
except OSError as e:
    open(sys.argv[2], "w").write(os.strerror(e.errno) + "\n")
open(sys.argv[3], "w").write("%d\n" % (time.time() * 1000))
PYEOF
RPID=$!
within 10000 test -e "$T/reader.ready" || fail "the reader on $B did not start: $(cat "$T/reader.err")"
sleep 0.2
t_rm=$(now_ms)
ctl "subsys-remove $B" || fail "subsys-remove: $(cat "$T/ctl.out")"
within 10000 unlisted "$B" || fail "$B still listed 10 s after its removal"
hasnt "$B" || fail "$B still there"
timeout 5 dd bs=4096 count=1 iflag=direct of=/dev/null <&3 2>"$T/err" && fail "reading a removed subsystem's file succeeded"
grep -q "Input/output error" "$T/err" || fail "reading a removed subsystem's open file: $(cat "$T/err")"
i=0
while [ ! -s "$T/reader.end" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { kill "$RPID"; fail "the reader on $B still runs 5 s after the removal"; }
	sleep 0.05
done
wait "$RPID"
grep -q "Input/output error" "$T/reader.err" || fail "the reader on $B: $(cat "$T/reader.err")"
echo "reader ended $(($(cat "$T/reader.end") - t_rm)) ms after the removal" >&2
grep -q "^removed *: 1$" "$MNT/status" || fail "root status: $(cat "$MNT/status")"
grep -q "^subsystems *: $A $C$" "$MNT/status" || fail "root status lists: $(cat "$MNT/status")"
cmp -n 1048576 "$T/p" "$MNT/$C/n1" || fail "$C/n1 unreadable after $B went"
[ "$(live_associations)" -eq 3 ] || fail "the association of $B was not ended"

# --- it comes back: the directory reappears; the old open file stays EIO
ctl "ns-add $B auto ram:4M" || fail "ns-add: $(cat "$T/ctl.out")"
within 10000 listed "$B" || fail "$B did not come back within 10 s"
[ "$(stat -c %s "$MNT/$B/n1")" -eq $((4 * 1024 * 1024)) ] || fail "$B/n1 has the wrong size"
cmp -n 4096 "$MNT/$B/n1" "$MNT/$B/n1" || fail "$B/n1 unreadable"
timeout 5 dd bs=4096 count=1 iflag=direct of=/dev/null <&3 2>"$T/err" && fail "a file opened before the removal reads again"
exec 3<&-

# --- churn: E comes and goes 10 times while A is read without a pause
# (each worker binds to every new association; old bindings must not
# push out A's)
E=nqn.2026-11.org.example:fuse-e
rm -f "$T/stop" "$T/reads" "$T/churn.err"
(
	while [ ! -e "$T/stop" ]; do
		dd if="$MNT/$A/n1" of=/dev/null bs=1M iflag=direct status=none 2>"$T/churn.err" || exit 1
		now_ms >>"$T/reads"
	done
	rm -f "$T/churn.err"
) &
RPID=$!
k=0
while [ $k -lt 10 ]; do
	k=$((k + 1))
	ctl "ns-add $E auto ram:1M" || fail "ns-add $E: $(cat "$T/ctl.out")"
	within 10000 listed "$E" || fail "$E did not appear (round $k)"
	cmp -n 4096 "$MNT/$E/n1" "$MNT/$E/n1" || fail "$E/n1 unreadable (round $k)"
	ctl "subsys-remove $E" || fail "subsys-remove $E: $(cat "$T/ctl.out")"
	within 10000 unlisted "$E" || fail "$E did not go (round $k)"
done 2>/dev/null
touch "$T/stop"
wait "$RPID" || fail "reading $A during the churn: $(cat "$T/churn.err" 2>/dev/null)"
gap=$(awk 'NR > 1 && $1 - p > m { m = $1 - p } { p = $1 } END { print m + 0 }' "$T/reads")
echo "$(wc -l <"$T/reads") reads of $A during the churn, longest gap $gap ms" >&2
[ "$gap" -lt 2000 ] || fail "reads of $A stalled for $gap ms during the churn"
grep -q "^removed *: 11$" "$MNT/status" || fail "root status: $(cat "$MNT/status")"

# --- the target restarts (same port) with A and a new D: once the
# discovery association has reconnected (-c 1), B and C are gone, D is there
D=nqn.2026-11.org.example:fuse-d
port=$TPORT
kill "$TPID"
wait "$TPID" 2>/dev/null
TPID=
"$NVMEOF_TARGET" -l "127.0.0.1:$port" --port-file "$T/port" --control "$T/ctl" \
	-n "$A" --ns ram:8M -n "$D" --ns ram:2M >"$T/target.log" 2>&1 &
TPID=$!
within 10000 listed "$D" || fail "$D did not appear after the restart: $(ls "$MNT")"
within 10000 unlisted "$C" || fail "$C still listed after the restart"
unlisted "$B" || fail "$B still listed after the restart"
grep -q "^reconnects *: 1$" "$MNT/status" || fail "root status: $(cat "$MNT/status")"
within 10000 grep -q "^state *: live$" "$MNT/$A/status" || fail "$A did not come back"
cmp -n 65536 "$MNT/$A/n1" "$MNT/$A/n1" || fail "$A/n1 unreadable after the restart"
[ "$(live_associations)" -eq 3 ] || fail "expected A, D and the discovery association"
do_umount
[ "$(live_associations)" -eq 0 ] || fail "associations left after unmount"
exit 0
