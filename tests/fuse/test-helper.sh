#!/bin/sh
# mount(8) and /etc/fstab: "mount -t fuse.nvmeof host:port dir -o nqn=..."
# runs /sbin/mount.fuse.nvmeof SOURCE DIR [-s] [-n] [-v] -o OPTIONS; the
# same program accepts that, drops mount(8)'s own options, and umount(8)
# undoes it.
. "$(dirname "$0")/lib.sh"
start_target
# The link must reach the program itself: a libtool wrapper script would
# exec the real binary under its own name.
real=$NVMEOF_MOUNT
if head -c 2 "$NVMEOF_MOUNT" | grep -q '#!' &&
	[ -x "$(dirname "$NVMEOF_MOUNT")/.libs/nvmeof-mount" ]; then
	real="$(cd "$(dirname "$NVMEOF_MOUNT")/.libs" && pwd)/nvmeof-mount"
	LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	export LD_LIBRARY_PATH
fi
ln -s "$real" "$T/mount.fuse.nvmeof"

opts="rw,nqn=$TEST_NQN,nr_io_queues=1,queue_size=64,keep_alive_tmo=10"
opts="$opts,defaults,_netdev,noauto,nofail,x-systemd.device-timeout=5s"
opts="$opts,nosuid,nodev,allow_other,pidfile=$T/mount.pid"
"$T/mount.fuse.nvmeof" "$ADDR" "$MNT" -s -n -v -o "$opts" >"$T/out" 2>"$T/err" ||
	fail "mount.fuse.nvmeof exited $?"
MPID=$(cat "$T/mount.pid")
is_mounted "$MNT" || fail "not mounted"
grep " $MNT " /proc/mounts | grep -q "fuse.nvmeof.*allow_other" || fail "allow_other not passed to FUSE"
grep -q "^io_queues *: 1$" "$MNT/status" || fail "nr_io_queues= not taken"
grep -q "^queue_size *: 64$" "$MNT/status" || fail "queue_size= not taken"
grep -q "^keep_alive_ms *: 10000$" "$MNT/status" || fail "keep_alive_tmo= not taken"
[ -f "$MNT/n1" ] || fail "no n1"
umount "$MNT" || fail "umount"
wait_gone "$MPID" 10 || fail "the daemon did not exit after umount"
MPID=

# ro, and fake mounts (mount -f) do nothing
"$T/mount.fuse.nvmeof" "$ADDR" "$MNT" -o "ro,nqn=$TEST_NQN,pidfile=$T/mount.pid" ||
	fail "mount -o ro"
MPID=$(cat "$T/mount.pid")
# read-only in the daemon (a kernel "ro" would refuse nvmeof disconnect)
grep -q "^read_only *: yes" "$MNT/status" || fail "not mounted read-only"
dd if=/dev/zero of="$MNT/n1" bs=4k count=1 conv=notrunc 2>/dev/null && fail "write on ro"
do_umount
"$T/mount.fuse.nvmeof" "$ADDR" "$MNT" -f -o "nqn=$TEST_NQN" || fail "mount -f"
is_mounted "$MNT" && fail "a fake mount mounted"

# a failure is one line and a non-zero status, as mount(8) expects
RC=0
"$T/mount.fuse.nvmeof" "$ADDR" "$MNT" -o "nqn=nqn.2026-11.org.example:nope" \
	>"$T/out" 2>"$T/err" || RC=$?
[ $RC -ne 0 ] || fail "a bad NQN mounted"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "not one line: $(cat "$T/err")"
is_mounted "$MNT" && fail "left mounted"
exit 0
