#!/bin/sh
# SIGTERM to the daemon unmounts and disconnects; so does fusermount3 -u
# in the foreground (-f), where the program then exits 0.
. "$(dirname "$0")/lib.sh"
start_target
do_mount
kill -TERM "$MPID"
wait_gone "$MPID" 10 || fail "the daemon ignored SIGTERM"
MPID=
is_mounted "$MNT" && fail "still mounted after SIGTERM"
[ "$(live_associations)" -eq 0 ] || fail "association left after SIGTERM"

"$NVMEOF_MOUNT" -f -n "$TEST_NQN" --pidfile "$T/mount.pid" "$ADDR" "$MNT" \
	>"$T/out" 2>"$T/err" &
fg=$!
MPID=$fg
i=0
until is_mounted "$MNT"; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "-f did not mount"
	kill -0 $fg 2>/dev/null || fail "-f exited"
	sleep 0.05
done
[ "$(cat "$T/mount.pid")" = "$fg" ] || fail "-f forked"
ls "$MNT" >/dev/null || fail "ls"
fusermount3 -u "$MNT" || fail "fusermount3 -u"
RC=0
wait $fg || RC=$?
MPID=
[ $RC -eq 0 ] || fail "-f exited $RC after unmount"
[ "$(live_associations)" -eq 0 ] || fail "association left after -f unmount"
exit 0
