#!/bin/sh
# -r (and -o ro), or a write-protected namespace: writes fail with EROFS
# and the file mode has no w bits; reads still work.
. "$(dirname "$0")/lib.sh"

check_ro() {
	[ "$(stat -c %A "$MNT/n1")" = "-r--r--r--" ] || fail "mode $(stat -c %A "$MNT/n1") ($1)"
	dd if=/dev/zero of="$MNT/n1" bs=4096 count=1 conv=notrunc 2>"$T/err" &&
		fail "a write succeeded ($1)"
	grep -q "Read-only file system" "$T/err" || fail "no EROFS ($1): $(cat "$T/err")"
	dd if="$MNT/n1" of=/dev/null bs=1M count=4 status=none || fail "read ($1)"
}

start_target
do_mount -r
check_ro "-r"
grep -q "^read_only *: yes" "$MNT/status" || fail "status does not say read-only"
do_umount
do_mount -o ro
check_ro "-o ro"
do_umount
kill "$TPID"
wait "$TPID" 2>/dev/null
TPID=

start_target -n "$TEST_NQN" --ns "ram:16M,ro"
do_mount
check_ro "write-protected namespace"
do_umount
exit 0
