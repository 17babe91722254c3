#!/bin/sh
# A target gone for good under a reader, with the default options (the
# association would try to reconnect for 10 minutes): "nvmeof disconnect
# MNT" returns the reader with an error at once and frees the mount point,
# and so do "umount -l MNT" and SIGTERM (EIO, not a connection abort);
# disconnect also works with a file merely
# open while reconnecting, and on a live mount.  The control attribute
# refuses other names and unknown verbs; the command says clearly what is
# not an nvmeof mount.
. "$(dirname "$0")/lib.sh"
: "${NVMEOF:=$top_builddir/cli/nvmeof}"
[ -x "$NVMEOF" ] || fail "nvmeof is not built at $NVMEOF"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# in_mountinfo DIR: DIR is a mount point in this namespace's table
in_mountinfo() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }

# reader_waits PID: wait until PID sleeps in a FUSE request (its wchan
# names fuse, or it sleeps in read(2)); 10 s at most.
reader_waits() {
	i=0
	while [ $i -lt 200 ]; do
		kill -0 "$1" 2>/dev/null || fail "the reader exited before the test"
		case "$(cat "/proc/$1/wchan" 2>/dev/null)" in
		*fuse*|*request_wait*) return 0 ;;
		esac
		# syscall 0 is read(2) on x86-64, 63 on arm64
		s=$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)
		[ "$(cut -d' ' -f3 "/proc/$1/stat")" = D ] && return 0
		[ "$s" = 0 ] || [ "$s" = 63 ] && return 0
		i=$((i + 1))
		sleep 0.05
	done
	fail "the reader never waited in the mount"
}

# released HOW: the reader of a dead target returns with an error soon
# after HOW runs, the daemon exits, the mount point is free.
released() {
	start_target
	do_mount
	dd if="$MNT/n1" of=/dev/null bs=1M count=1 iflag=direct status=none || fail "first read"
	kill -9 "$TPID"
	wait "$TPID" 2>/dev/null
	TPID=
	until_state reconnecting
	dd if="$MNT/n1" of=/dev/null bs=1M count=4 iflag=direct 2>"$T/dd.err" &
	reader=$!
	reader_waits $reader
	t0=$(now_ms)
	case $1 in
	disconnect) "$NVMEOF" disconnect "$MNT" 2>"$T/err" || fail "nvmeof disconnect exited $?" ;;
	umount) umount -l "$MNT" || fail "umount -l failed" ;;
	sigterm) kill -TERM "$MPID" || fail "kill -TERM failed" ;;
	esac
	rc=0
	wait $reader || rc=$?
	t1=$(now_ms)
	echo "$1: the reader returned (exit $rc) after $((t1 - t0)) ms"
	[ $rc -ne 0 ] || fail "$1: the read of a dead target succeeded"
	[ $rc -lt 128 ] || fail "$1: the reader was killed (exit $rc), not answered"
	[ $((t1 - t0)) -lt 5000 ] || fail "$1: the reader took $((t1 - t0)) ms to return"
	grep -q "Input/output error" "$T/dd.err" || fail "$1: not EIO: $(cat "$T/dd.err")"
	wait_gone "$MPID" 10 || fail "$1: the daemon still runs"
	MPID=
	in_mountinfo "$MNT" && fail "$1: $MNT is still in the mount table"
	return 0
}

released disconnect
released umount
released sigterm

# Disconnect while reconnecting with a file open (and idle): the daemon
# exits, the mount point is free, the open file fails.
start_target
do_mount
exec 3<"$MNT/n1"
kill -9 "$TPID"
wait "$TPID" 2>/dev/null
TPID=
until_state reconnecting
t0=$(now_ms)
"$NVMEOF" disconnect "$MNT" 2>"$T/err" || fail "disconnect with an open file exited $?"
echo "disconnect with an open file took $(($(now_ms) - t0)) ms"
wait_gone "$MPID" 10 || fail "the daemon still runs after disconnect with an open file"
MPID=
in_mountinfo "$MNT" && fail "$MNT still mounted after disconnect with an open file"
dd of=/dev/null bs=4k count=1 <&3 2>/dev/null && fail "a read through the open file succeeded"
exec 3<&-

# A live mount: disconnect --all ends it.  As root --all reaches every
# nvmeof mount of the machine, so it runs in a mount namespace of its own
# where the other mounts (other tests, other users) are detached first.
start_target
if command -v unshare >/dev/null 2>&1 && unshare -m --propagation private true 2>/dev/null; then
	cat >"$T/all.sh" <<'EOS'
awk '$0 ~ / - fuse\.nvmeof / { print $5 }' /proc/self/mountinfo |
	while read -r m; do umount -l "$m"; done
"$NVMEOF_MOUNT" -n "$TEST_NQN" --pidfile "$T/all.pid" "$ADDR" "$MNT" 2>"$T/err" || exit 10
"$NVMEOF" disconnect --all >"$T/out" 2>>"$T/err" || { kill "$(cat "$T/all.pid")"; exit 11; }
grep -q " $MNT " /proc/self/mountinfo && exit 12
exit 0
EOS
	RC=0
	NVMEOF="$NVMEOF" NVMEOF_MOUNT="$NVMEOF_MOUNT" TEST_NQN="$TEST_NQN" ADDR="$ADDR" \
		MNT="$MNT" T="$T" unshare -m --propagation private sh "$T/all.sh" || RC=$?
	[ -s "$T/all.pid" ] && { wait_gone "$(cat "$T/all.pid")" 10 ||
		fail "the daemon still runs after disconnect --all"; }
	[ $RC -eq 0 ] || fail "disconnect --all in a namespace of its own: step $RC failed"
	grep -q "^disconnected $MNT\$" "$T/out" || fail "disconnect --all: $(cat "$T/out")"
	[ "$(wc -l <"$T/out")" -eq 1 ] || fail "disconnect --all reached other mounts: $(cat "$T/out")"
else
	echo "disconnect --all: not tested (no unshare -m here)"
fi

# The control attribute: other names ENOTSUP, unknown verbs EINVAL.
do_mount
if ! command -v python3 >/dev/null 2>&1; then
	echo "control attribute errors: not tested (no python3)"
else
python3 - "$MNT" <<'EOF' || fail "control attribute checks"
import errno, os, sys
m = sys.argv[1]
def expect(name, value, want):
    try:
        os.setxattr(m, name, value)
    except OSError as e:
        if e.errno != want:
            sys.exit("%s=%r: %s, expected %s" % (name, value, e, errno.errorcode[want]))
        return
    sys.exit("%s=%r: accepted" % (name, value))
expect("user.other", b"x", errno.ENOTSUP)
expect("user.nvmeof.control", b"explode", errno.EINVAL)
EOF
fi
is_mounted "$MNT" || fail "a refused verb ended the mount"
# the root is owner-writable for the attribute only: no name is created
touch "$MNT/x" 2>"$T/err" && fail "a file was created in the root"
grep -q "Operation not permitted" "$T/err" || fail "create: $(cat "$T/err")"
mkdir "$MNT/d" 2>/dev/null && fail "a directory was created in the root"
rm "$MNT/n1" 2>/dev/null && fail "n1 was removed"
[ -f "$MNT/n1" ] || fail "n1 is gone"

# Another user may not disconnect it (77), even with allow_other.
if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
	RC=0
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		"$NVMEOF" disconnect "$MNT" 2>"$T/err" || RC=$?
	[ $RC -eq 77 ] || fail "another user's disconnect exited $RC: $(cat "$T/err")"
	grep -q "only the user who mounted it, or root" "$T/err" || fail "another user: $(cat "$T/err")"
	is_mounted "$MNT" || fail "another user's disconnect ended the mount"
else
	echo "another user's disconnect: not tested (no setpriv or no user nobody)"
fi

# Clear errors for what is not an nvmeof mount.
RC=0
"$NVMEOF" disconnect "$T" 2>"$T/err" || RC=$?
[ $RC -eq 64 ] || fail "disconnect of a plain directory exited $RC"
grep -q "not a mount point" "$T/err" || fail "plain directory: $(cat "$T/err")"
RC=0
"$NVMEOF" disconnect /proc 2>"$T/err" || RC=$?
[ $RC -eq 64 ] || fail "disconnect of /proc exited $RC"
grep -q "not an nvmeof mount (a proc file system" "$T/err" || fail "/proc: $(cat "$T/err")"
RC=0
"$NVMEOF" disconnect "$T/nonexistent" 2>"$T/err" || RC=$?
[ $RC -eq 64 ] || fail "disconnect of a missing path exited $RC"
RC=0
"$NVMEOF" disconnect 2>"$T/err" || RC=$?
[ $RC -eq 64 ] || fail "disconnect without a mount point exited $RC"
do_umount
exit 0
