#!/bin/sh
# Without root: a user who is not root mounts a namespace and uses it, on
# a stock Debian system, where /dev/fuse is 0666 and fusermount3 is
# set-uid root.  The test makes such a system for its run: a user of its
# own (useradd, removed after) and /dev/fuse 0666 (its mode restored
# after).  As that user: nvmeof-mount against nvmeof-target, dd a random
# block in with O_DIRECT, read it back, cmp, and a clean fusermount3 -u
# (the daemon exits).  Without allow_other, no other user (not even root)
# may look inside the user's mount.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to create a user and open /dev/fuse to users"
need useradd userdel setpriv dd cmp
fm=$(command -v fusermount3)
[ -u "$fm" ] || skip "$fm is not set-uid root (Debian's fuse3 package makes it so)"

USER_NAME="nvmeoft$$"
FUSE_MODE=
U=
# Undo what this test did to the machine, then lib.sh's cleanup.
undo() {
	rc_=$?
	if [ -n "$U" ] && grep -q " $U/mnt " /proc/mounts; then
		setpriv --reuid "$USER_NAME" --regid "$USER_NAME" --clear-groups \
			"$fm" -u "$U/mnt" 2>/dev/null || umount -l "$U/mnt"
	fi
	[ -n "$UPID" ] && wait_gone "$UPID" 10
	[ -n "$FUSE_MODE" ] && chmod "$FUSE_MODE" /dev/fuse
	id "$USER_NAME" >/dev/null 2>&1 && userdel "$USER_NAME" 2>/dev/null
	[ -n "$U" ] && rm -rf "$U"
	(exit $rc_)
	cleanup
}
UPID=
trap undo EXIT
start_target

# Two runs at once (two build trees) would restore each other's /dev/fuse
# mode wrongly: one at a time.
need flock
exec 9>/run/lock/nvmeof-fuse-test-user.lock || fail "cannot open the lock file"
flock -w 300 9 || fail "another test-user.sh held the lock for 300 s"
id "$USER_NAME" >/dev/null 2>&1 && fail "user $USER_NAME exists already"
useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$USER_NAME" ||
	fail "useradd $USER_NAME"
FUSE_MODE=$(stat -c %a /dev/fuse)
chmod 0666 /dev/fuse || fail "chmod /dev/fuse"
U=$(mktemp -d "${TMPDIR:-/tmp}/nvmeof-user.XXXXXX")
chmod 0755 "$U"
mkdir "$U/mnt" "$U/log"
chown "$USER_NAME:$USER_NAME" "$U/mnt" "$U/log"
head -c 65536 /dev/urandom >"$U/blk"
chmod 0644 "$U/blk"

as_user() {
	setpriv --reuid "$USER_NAME" --regid "$USER_NAME" --clear-groups \
		env HOME="$U/log" ASAN_OPTIONS="log_path=$U/log/asan" \
		UBSAN_OPTIONS="print_stacktrace=1:log_path=$U/log/ubsan" \
		LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}print_suppressions=0" "$@"
}

as_user "$NVMEOF_MOUNT" -n "$TEST_NQN" --pidfile "$U/log/mount.pid" "$ADDR" "$U/mnt" \
	>"$T/out" 2>"$T/err" || fail "nvmeof-mount as $USER_NAME exited $?"
UPID=$(cat "$U/log/mount.pid")
line=$(grep " $U/mnt " /proc/self/mountinfo)
echo "$line" | grep -q ' - fuse.nvmeof ' || fail "not a fuse.nvmeof mount: $line"
uid=$(id -u "$USER_NAME")
grep " $U/mnt " /proc/mounts | grep -q "user_id=$uid" ||
	fail "the mount is not the user's: $(grep " $U/mnt " /proc/mounts)"
[ "$(stat -c %U "/proc/$UPID")" = "$USER_NAME" ] || fail "the daemon does not run as $USER_NAME"

as_user dd if="$U/blk" of="$U/mnt/n1" bs=64k seek=3 conv=notrunc oflag=direct status=none ||
	fail "dd write as $USER_NAME"
as_user dd if="$U/mnt/n1" of="$U/log/got" bs=64k skip=3 count=1 iflag=direct status=none ||
	fail "dd read as $USER_NAME"
cmp "$U/blk" "$U/log/got" || fail "what the user read back differs from what it wrote"
# Without allow_other the kernel lets no other user in, root included.
stat "$U/mnt/n1" >/dev/null 2>&1 && fail "root could look inside the user's mount (no allow_other)"

as_user "$fm" -u "$U/mnt" || fail "fusermount3 -u as $USER_NAME"
wait_gone "$UPID" 10 || fail "the daemon still runs after fusermount3 -u"
UPID=
grep -q " $U/mnt " /proc/mounts && fail "still mounted after fusermount3 -u"
for f in "$U"/log/asan.* "$U"/log/ubsan.*; do
	[ -e "$f" ] && { head -c 4000 "$f" >&2; fail "sanitizer report of the user's daemon"; }
done
echo "user $USER_NAME (uid $uid): mounted, wrote and read back 64 KiB, unmounted with fusermount3 -u"
exit 0
