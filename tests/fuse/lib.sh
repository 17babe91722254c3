# SPDX-License-Identifier: MIT
# Shared by tests/fuse/test-*.sh: where the programs are, a target of our
# own on 127.0.0.1 and a mount under a fresh temporary directory.  The trap
# always unmounts what was mounted and stops what was started, by pid.
#
# Environment (all optional): NVMEOF_MOUNT, NVMEOF_TARGET, top_srcdir,
# top_builddir.
set -u

: "${top_srcdir:=${NVMEOF_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}}"
: "${top_builddir:=${NVMEOF_BUILDDIR:-$(pwd)}}"
: "${NVMEOF_MOUNT:=$top_builddir/fuse/nvmeof-mount}"
: "${NVMEOF_TARGET:=$top_builddir/src/nvmeof-target}"
# shellcheck source=../target-lib.sh
. "$top_srcdir/tests/target-lib.sh"

TEST_NQN="nqn.2026-11.org.example:fuse-test"
TEST_SERIAL="FUSESERIAL42"
TEST_MODEL="nvmeof fuse test model"

T=$(mktemp -d "${TMPDIR:-/tmp}/nvmeof-fuse.XXXXXX")
MNT="$T/mnt"
mkdir "$MNT"
TPID=
TPORT=
MPID=

# Sanitizer reports of the daemon (whose stderr is /dev/null) land here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$T/ubsan"
[ -f "$top_srcdir/tests/lsan.supp" ] &&
	export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$top_srcdir/tests/lsan.supp"

is_mounted() {
	# /proc/mounts escapes nothing in our paths (mktemp: no spaces)
	grep -q " $1 " /proc/mounts
}

# wait_gone PID SECONDS: true once PID has exited.
wait_gone() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $(($2 * 20)) ] || return 1
		sleep 0.05
	done
	return 0
}

sanitizer_reports() {
	for f in "$T"/asan.* "$T"/ubsan.*; do
		[ -e "$f" ] || continue
		echo "--- sanitizer report $f:" >&2
		head -c 6000 "$f" >&2
		return 0
	done
	return 1
}

# A test's background fio (its pid in FIO): stopped by the test when it is
# done with it, and by cleanup() before the unmount on a failure (fio must
# not hold the mount's files open then: the daemon would go with them).
FIO=
stop_fio() {
	if [ -n "$FIO" ] && kill -0 "$FIO" 2>/dev/null; then
		kill "$FIO" 2>/dev/null
		wait "$FIO" 2>/dev/null
	fi
	FIO=
}

cleanup() {
	rc=$?
	trap - EXIT
	stop_fio
	# A guest using a namespace file holds it open: stop it first.
	if [ -n "${VMSTATE:-}" ]; then
		"$top_srcdir/tests/interop/nvmet-vm" stop "$VMSTATE" >/dev/null 2>&1
	fi
	if is_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	fi
	for m in "$T"/mnt*; do
		[ -d "$m" ] && is_mounted "$m" && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }
	done
	if [ -n "$MPID" ] && ! wait_gone "$MPID" 10; then
		echo "nvmeof-mount (pid $MPID) still running 10 s after unmount" >&2
		kill "$MPID" 2>/dev/null
		wait_gone "$MPID" 5 || kill -9 "$MPID" 2>/dev/null
		rc=1
	fi
	if [ -n "$TPID" ]; then
		kill "$TPID" 2>/dev/null
		wait "$TPID" 2>/dev/null
	fi
	if [ $rc -ne 77 ] && sanitizer_reports; then
		rc=1
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/out "$T"/err; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):" >&2; head -c 4000 "$f" >&2; }
	done
	[ -s "$T/target.log" ] && { echo "--- target log (tail):" >&2; tail -n 20 "$T/target.log" >&2; }
	exit 1
}

# skip REASON: exit 77 (automake: SKIP) for a missing prerequisite (missing /dev/fuse, fusermount3, root or a tool).
# Under CI=true a missing prerequisite is a failure of the CI machine,
# never a skip, as in tests/interop/nvmet-vm.
skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $* (CI=true: a missing prerequisite is a failure, not a skip)" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

[ -c /dev/fuse ] || skip "no /dev/fuse"
command -v fusermount3 >/dev/null 2>&1 || skip "no fusermount3 (apt-get install fuse3)"
[ -x "$NVMEOF_MOUNT" ] || fail "nvmeof-mount is not built at $NVMEOF_MOUNT"
[ -x "$NVMEOF_TARGET" ] || skip "no target binary at $NVMEOF_TARGET"
# Mounting needs CAP_SYS_ADMIN or a set-uid fusermount3 that lets us.
if [ "$(id -u)" -ne 0 ] && [ ! -u "$(command -v fusermount3)" ]; then
	skip "not root and fusermount3 is not set-uid"
fi

need() {
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || skip "$p is not installed"
	done
}

# start_target [target options]: a target on 127.0.0.1 (port from its port
# file) with a control socket; default one subsystem with a 64 MiB RAM
# namespace.  Sets TPID, TPORT, ADDR.
start_target() {
	if [ $# -eq 0 ]; then
		set -- -n "$TEST_NQN" --ns ram:64M
	fi
	target_spawn --control "$T/ctl" --serial "$TEST_SERIAL" \
		--model "$TEST_MODEL" "$@"
}

# st FIELD: a field of the mount's status file (MNT/status).
st() { sed -n "s/^$1 *: //p" "$MNT/status"; }

# until_state STATE: wait up to 30 s until status says STATE.
until_state() {
	i=0
	until [ "$(st state)" = "$1" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || fail "state is '$(st state)', waited for '$1'"
		sleep 0.1
	done
}

# in_fuse_wait PID [FILE]: PID sleeps in the kernel waiting for the answer
# to a FUSE request (its wchan is FUSE's request_wait_answer or
# fuse_direct_IO, or another FUSE function where those are inlined): the
# request reached a mount and waits there.  With FILE: and the system call
# it sleeps in works on its descriptor of FILE (/proc/PID/syscall's first
# argument), i.e. it is the read or write itself, not an OPEN on the way.
in_fuse_wait() {
	case $(cat "/proc/$1/wchan" 2>/dev/null) in
	request_wait_answer | *fuse*) ;;
	*) return 1 ;;
	esac
	[ $# -lt 2 ] && return 0
	_sc=$(cat "/proc/$1/syscall" 2>/dev/null) || return 1
	_fd=$(echo "$_sc" | cut -d' ' -f2)
	case $_fd in 0x*) ;; *) return 1 ;; esac
	[ "$(readlink "/proc/$1/fd/$((_fd))" 2>/dev/null)" = "$2" ]
}

# until_fuse_wait PID [FILE]: wait up to 30 s until in_fuse_wait PID [FILE];
# fails if PID ends first.
until_fuse_wait() {
	i=0
	until in_fuse_wait "$@"; do
		kill -0 "$1" 2>/dev/null || fail "pid $1 ended instead of waiting in the mount"
		i=$((i + 1))
		[ $i -lt 600 ] ||
			fail "pid $1 is not waiting on a FUSE request${2:+ on $2} after 30 s (wchan $(cat "/proc/$1/wchan" 2>&1), syscall $(cut -d' ' -f1-2 "/proc/$1/syscall" 2>&1))"
		sleep 0.05
	done
}

# ctl COMMAND: one line to the target's control socket; output in $T/ctl.out.
ctl() {
	if command -v socat >/dev/null 2>&1; then
		printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$T/ctl" >"$T/ctl.out" 2>&1
	else
		python3 - "$T/ctl" "$*" >"$T/ctl.out" 2>&1 <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
buf = b""
while not (buf.endswith(b"ok\n") or b"error:" in buf):
    d = s.recv(65536)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
EOF
	fi
	tail -n 1 "$T/ctl.out" | grep -q '^ok$'
}

# live_associations: how many associations the target holds now.
live_associations() {
	ctl stats || fail "control socket: stats failed: $(cat "$T/ctl.out")"
	grep -c 'state=live' "$T/ctl.out" || true
}

# do_mount [nvmeof-mount options]: mount ADDR (with -n TEST_NQN unless
# NO_NQN=1) on MNT; sets MPID from --pidfile.
do_mount() {
	nqn_opt=
	[ "${NO_NQN:-0}" = 1 ] || nqn_opt="-n $TEST_NQN"
	rm -f "$T/mount.pid"
	# shellcheck disable=SC2086
	"$NVMEOF_MOUNT" $nqn_opt --pidfile "$T/mount.pid" "$@" "$ADDR" "$MNT" \
		>"$T/out" 2>"$T/err" || fail "nvmeof-mount $* exited $?"
	MPID=$(cat "$T/mount.pid")
	is_mounted "$MNT" || fail "nvmeof-mount returned but $MNT is not mounted"
}

# do_umount: unmount MNT; the daemon must exit and the association end.
do_umount() {
	fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
	wait_gone "$MPID" 10 || fail "nvmeof-mount (pid $MPID) still running after unmount"
	MPID=
	is_mounted "$MNT" && fail "$MNT still mounted"
	return 0
}

# expect_mount_fail STATUS TEXT [args...]: nvmeof-mount must exit STATUS,
# say TEXT on one line, and leave nothing mounted.
expect_mount_fail() {
	want=$1
	text=$2
	shift 2
	RC=0
	"$NVMEOF_MOUNT" "$@" >"$T/out" 2>"$T/err" || RC=$?
	[ "$RC" -eq "$want" ] || fail "nvmeof-mount $* exited $RC, expected $want"
	grep -qF -- "$text" "$T/err" || fail "nvmeof-mount $*: no '$text' in: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "nvmeof-mount $*: not one line on stderr"
	is_mounted "$MNT" && fail "nvmeof-mount $* failed but left $MNT mounted"
	return 0
}
