#!/bin/sh
# Where the daemon's messages go.  With -o log=stderr a daemon keeps its
# standard error: the target goes away and comes back, and the
# "reconnecting" and "live" lines are there (what a machine without
# /dev/log gets by default).  -o log=syslog leaves standard error empty;
# a bad value is a usage error (64).
. "$(dirname "$0")/lib.sh"
start_target -n "$TEST_NQN" --ns ram:16M
port=$TPORT

# wait_line TEXT FILE: up to 10 s for TEXT to appear in FILE
wait_line() {
	i=0
	until grep -q "$1" "$2"; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "no '$1' in $2: $(cat "$2")"
		sleep 0.05
	done
}

restart_target() {
	kill "$TPID"
	wait "$TPID" 2>/dev/null
	TPID=
	until_state reconnecting
	"$NVMEOF_TARGET" -l "127.0.0.1:$port" --port-file "$T/port" -n "$TEST_NQN" \
		--ns ram:16M >"$T/target.log" 2>&1 &
	TPID=$!
	until_state live
}

rm -f "$T/mount.pid"
"$NVMEOF_MOUNT" -n "$TEST_NQN" -o log=stderr --pidfile "$T/mount.pid" "$ADDR" "$MNT" \
	2>"$T/daemon.err" || fail "mount with -o log=stderr: $(cat "$T/daemon.err")"
MPID=$(cat "$T/mount.pid")
restart_target
wait_line "^nvmeof-mount: 127.0.0.1:$port: reconnecting: " "$T/daemon.err"
wait_line "^nvmeof-mount: 127.0.0.1:$port: live: reconnected " "$T/daemon.err"
cat "$T/daemon.err"
do_umount

"$NVMEOF_MOUNT" -n "$TEST_NQN" -o log=syslog --pidfile "$T/mount.pid" "$ADDR" "$MNT" \
	2>"$T/daemon.err" || fail "mount with -o log=syslog: $(cat "$T/daemon.err")"
MPID=$(cat "$T/mount.pid")
restart_target
[ -s "$T/daemon.err" ] && fail "-o log=syslog wrote to stderr: $(cat "$T/daemon.err")"
do_umount

RC=0
"$NVMEOF_MOUNT" -n "$TEST_NQN" -o log=bogus "$ADDR" "$MNT" 2>"$T/err" || RC=$?
[ $RC -eq 64 ] || fail "-o log=bogus exited $RC"
grep -q "log 'bogus': expected auto, stderr or syslog" "$T/err" || fail "-o log=bogus: $(cat "$T/err")"
is_mounted "$MNT" && fail "-o log=bogus mounted"
exit 0
