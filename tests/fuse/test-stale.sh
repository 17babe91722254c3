#!/bin/sh
# A daemon killed with SIGKILL leaves a stale FUSE mount (everything under
# it says "Transport endpoint is not connected").  nvmeof disconnect says
# what it is (exit 69); mounting there again clears a stale nvmeof mount of
# this user with a warning and mounts; a stale mount of another type is
# explained (fusermount3 -u) and left alone.
. "$(dirname "$0")/lib.sh"
: "${NVMEOF:=$top_builddir/cli/nvmeof}"
[ -x "$NVMEOF" ] || fail "nvmeof is not built at $NVMEOF"
start_target
do_mount
kill -9 "$MPID"
wait_gone "$MPID" 10 || fail "the daemon survived SIGKILL"
MPID=
stat "$MNT/n1" 2>"$T/err" && fail "a stale mount answered stat"
grep -q "Transport endpoint is not connected" "$T/err" || fail "not stale: $(cat "$T/err")"

RC=0
"$NVMEOF" disconnect "$MNT" 2>"$T/err" || RC=$?
[ $RC -eq 69 ] || fail "disconnect of a stale mount exited $RC: $(cat "$T/err")"
grep -q "stale mount.*fusermount3 -u" "$T/err" || fail "disconnect of a stale mount: $(cat "$T/err")"

do_mount
grep -q "warning: .* held a stale nvmeof mount .*: cleared it" "$T/err" ||
	fail "no warning about the stale mount: $(cat "$T/err")"
dd if="$MNT/n1" of=/dev/null bs=1M count=1 iflag=direct status=none ||
	fail "read after mounting over the stale mount"
[ "$(grep -c " $MNT " /proc/mounts)" = 1 ] || fail "more than one mount on $MNT"
do_umount

# Another type (subtype=other): explained, not touched.
do_mount -o subtype=other
kill -9 "$MPID"
wait_gone "$MPID" 10 || fail "the daemon survived SIGKILL"
MPID=
RC=0
"$NVMEOF_MOUNT" -n "$TEST_NQN" "$ADDR" "$MNT" >"$T/out" 2>"$T/err" || RC=$?
[ $RC -eq 1 ] || fail "mounting over a stale fuse.other mount exited $RC"
grep -q "a stale fuse.other mount whose daemon is gone" "$T/err" ||
	fail "stale fuse.other: $(cat "$T/err")"
grep -q "fusermount3 -u $MNT" "$T/err" || fail "no way out given: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "not one line: $(cat "$T/err")"
stat "$MNT" 2>/dev/null && fail "the stale fuse.other mount was touched"
fusermount3 -u "$MNT" || fail "fusermount3 -u of the stale mount"
exit 0
