#!/bin/sh
# mount(8) and /etc/fstab: "mount -t fuse.nvmeof host:port dir -o nqn=..."
# runs /sbin/mount.fuse.nvmeof SOURCE DIR [-s] [-n] [-v] -o OPTIONS; the
# same program accepts that, drops mount(8)'s own options, and umount(8)
# undoes it.  Then mount(8) itself, with -t and with an fstab line.
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

# mount(8) itself: "mount -t fuse.nvmeof" and an fstab line (mount -T reads
# another fstab) find /sbin/mount.fuse.nvmeof, which make install puts
# there.  Without it mount(8) would run /sbin/mount.fuse, and mount.fuse3
# "/bin/sh -c 'nvmeof' SOURCE DIR -o ...": our command-line tool.  As root
# and when no install has put one there, the link to this build's daemon
# lives there for this test only (removed by the trap).
helper=/sbin/mount.fuse.nvmeof
if [ "$(id -u)" = 0 ]; then
	# one run at a time places and removes the link (two build trees)
	exec 9>/run/lock/nvmeof-fuse-test-helper.lock || fail "cannot open the lock file"
	flock -w 300 9 || fail "another test-helper.sh held the lock for 300 s"
fi
if [ "$(id -u)" != 0 ]; then
	echo "mount -t fuse.nvmeof: not tested (needs root to place $helper)"
elif [ -e "$helper" ] || [ -L "$helper" ]; then
	echo "mount -t fuse.nvmeof: not tested ($helper is an installed one: $(readlink "$helper"))"
else
	# mount(8) clears LD_LIBRARY_PATH: an uninstalled build's daemon then
	# needs a wrapper that sets it again (argv[0] stays mount.fuse.nvmeof,
	# which selects mount(8)'s argument convention).
	if [ -n "${LD_LIBRARY_PATH:-}" ]; then
		printf '#!/bin/bash\nLD_LIBRARY_PATH=%s exec -a "$0" %s "$@"\n' \
			"'$LD_LIBRARY_PATH'" "'$real'" >"$T/mount.fuse.nvmeof.sh"
		chmod +x "$T/mount.fuse.nvmeof.sh"
		ln -s "$T/mount.fuse.nvmeof.sh" "$helper" || fail "cannot place $helper"
	else
		ln -s "$real" "$helper" || fail "cannot place $helper"
	fi
	trap 'rc_=$?; rm -f "$helper"; (exit $rc_); cleanup' EXIT
	mount -t fuse.nvmeof "$ADDR" "$MNT" \
		-o "nqn=$TEST_NQN,nr_io_queues=2,pidfile=$T/mount.pid" >"$T/out" 2>"$T/err" ||
		fail "mount -t fuse.nvmeof exited $?"
	MPID=$(cat "$T/mount.pid")
	grep " $MNT " /proc/self/mountinfo | grep -q ' - fuse.nvmeof ' ||
		fail "mount -t fuse.nvmeof: not a fuse.nvmeof mount: $(grep " $MNT " /proc/self/mountinfo)"
	grep -q "^io_queues *: 2$" "$MNT/status" || fail "mount -t: nr_io_queues= not taken"
	dd if="$MNT/n1" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null || fail "mount -t: read n1"
	umount "$MNT" || fail "umount after mount -t"
	wait_gone "$MPID" 10 || fail "the daemon did not exit after umount"
	MPID=
	# nvmeof-mount(8)'s fstab line, with this test's address and directory
	printf '%s %s fuse.nvmeof nqn=%s,_netdev,allow_other,pidfile=%s 0 0\n' \
		"$ADDR" "$MNT" "$TEST_NQN" "$T/mount.pid" >"$T/fstab"
	mount -T "$T/fstab" "$MNT" >"$T/out" 2>"$T/err" || fail "mount -T fstab exited $?"
	MPID=$(cat "$T/mount.pid")
	grep " $MNT " /proc/mounts | grep -q "fuse.nvmeof.*allow_other" ||
		fail "fstab: not mounted with allow_other: $(grep " $MNT " /proc/mounts)"
	[ -f "$MNT/n1" ] || fail "fstab: no n1"
	umount "$MNT" || fail "umount after the fstab mount"
	wait_gone "$MPID" 10 || fail "the daemon did not exit after umount"
	MPID=
	rm -f "$helper"
	echo "mount -t fuse.nvmeof and an fstab line ran $helper"
fi
exit 0
