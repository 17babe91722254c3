#!/bin/sh
# Start-up failures: one clear line, a non-zero status, nothing mounted and
# no daemon left behind.
. "$(dirname "$0")/lib.sh"
start_target

# a closed port (ours a moment ago)
"$NVMEOF_TARGET" -l 127.0.0.1:0 --port-file "$T/port2" -n "$TEST_NQN" --ns ram:1M \
	>/dev/null 2>&1 &
p2=$!
i=0
while [ ! -s "$T/port2" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
closed=$(grep -o '[0-9][0-9]*' "$T/port2" | head -n 1)
kill "$p2"
wait "$p2" 2>/dev/null
expect_mount_fail 69 "127.0.0.1:$closed" -n "$TEST_NQN" "127.0.0.1:$closed" "$MNT"
grep -qi "refused" "$T/err" || fail "no 'refused' in: $(cat "$T/err")"
expect_mount_fail 69 "127.0.0.1:$closed" "127.0.0.1:$closed" "$MNT"

# an NQN the target does not have: Connect refused, 76 as in nvmeof(8)
expect_mount_fail 76 "$ADDR" -n nqn.2026-11.org.example:no-such "$ADDR" "$MNT"
[ "$(live_associations)" -eq 0 ] || fail "a failed mount left an association"

# mount point missing, not a directory, busy
expect_mount_fail 1 "$T/nowhere" -n "$TEST_NQN" "$ADDR" "$T/nowhere"
grep -q "No such file or directory" "$T/err" || fail "missing mount point: $(cat "$T/err")"
: >"$T/file"
expect_mount_fail 1 "Not a directory" -n "$TEST_NQN" "$ADDR" "$T/file"
do_mount
before=$(grep -c " $MNT " /proc/mounts)
RC=0
"$NVMEOF_MOUNT" -n "$TEST_NQN" "$ADDR" "$MNT" >"$T/out" 2>"$T/err" || RC=$?
[ $RC -ne 0 ] || fail "mounting on a busy mount point succeeded"
grep -q "busy" "$T/err" || fail "busy mount point: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "busy: not one line"
[ "$(grep -c " $MNT " /proc/mounts)" -eq "$before" ] || fail "a second mount was stacked"
do_umount

# usage errors: the problem, then a hint; status 64
usage_fail() {
	text=$1
	shift
	RC=0
	"$NVMEOF_MOUNT" "$@" >"$T/out" 2>"$T/err" || RC=$?
	[ "$RC" -eq 64 ] || fail "nvmeof-mount $* exited $RC, expected 64"
	head -n 1 "$T/err" | grep -qF -- "$text" || fail "nvmeof-mount $*: no '$text' in: $(cat "$T/err")"
	sed -n 2p "$T/err" | grep -q "^Try 'nvmeof-mount --help' for more information\.$" ||
		fail "nvmeof-mount $*: no usage hint"
	is_mounted "$MNT" && fail "a usage error mounted something"
	return 0
}
usage_fail "expected host[:port] and a mount point" "$ADDR"
usage_fail "unknown option" --frobnicate "$ADDR" "$MNT"
usage_fail "subsystem NQN" -n "not an nqn" "$ADDR" "$MNT"
usage_fail "expected a number" -i 0 "$ADDR" "$MNT"
usage_fail "expected a number" -Q 5000 "$ADDR" "$MNT"
usage_fail "expected seconds" -k 0.0001 "$ADDR" "$MNT"
usage_fail "expected seconds" -n "$TEST_NQN" -o keep_alive_tmo=1.5s "$ADDR" "$MNT"
usage_fail "expected host[:port]" -n "$TEST_NQN" "127.0.0.1:99999" "$MNT"
# a FUSE option libfuse does not know: a usage error too, before connecting
usage_fail "unknown option" -n "$TEST_NQN" -o no_such_fuse_option "$ADDR" "$MNT"
[ "$(live_associations)" -eq 0 ] || fail "a failed mount left an association: $(cat "$T/ctl.out")"
# no nvmeof-mount of ours survives (the failed ones ran as children)
exit 0
