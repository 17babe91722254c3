# SPDX-License-Identifier: MIT
# Shared by tests/cli/test-*.sh: where the programs are, a target of our
# own on 127.0.0.1 (stopped by its pid only), and small assertions.
#
# Environment (all optional): NVMEOF_SRCDIR and NVMEOF_BUILDDIR (set by
# "make check"), NVMEOF (the tool), NVMEOF_TARGET (the target), JSON_QUERY
# (tests/cli/json_query).
set -u

top_srcdir=${NVMEOF_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${NVMEOF_BUILDDIR:-$(pwd)}
: "${NVMEOF:=$top_builddir/cli/nvmeof}"
: "${NVMEOF_TARGET:=$top_builddir/src/nvmeof-target}"
: "${JSON_QUERY:=$top_builddir/tests/cli/json_query}"
MAN8="$top_srcdir/man/nvmeof.8"
# The host's /etc/nvme/config.json (if any) changes nothing here; the
# tests of config.json set their own.
NVMEOF_CONFIG_JSON=none
export NVMEOF_CONFIG_JSON
# shellcheck source=../target-lib.sh
. "$top_srcdir/tests/target-lib.sh"

TEST_NQN="nqn.2026-11.org.example:cli-test"
TEST_SERIAL="CLISERIAL42"
TEST_MODEL="nvmeof cli test model"

T=$(mktemp -d "${TMPDIR:-/tmp}/nvmeof-cli.XXXXXX")
TPID=
TPORT=

cleanup() {
	if [ -n "$TPID" ]; then
		kill "$TPID" 2>/dev/null
		wait "$TPID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/out "$T"/err; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):" >&2; head -c 4000 "$f" >&2; }
	done
	exit 1
}

# skip REASON: exit 77 (automake: SKIP) for a missing prerequisite (a missing tool or target binary).
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

[ -x "$NVMEOF" ] || fail "the tool $NVMEOF is not built"

need_target() {
	[ -x "$NVMEOF_TARGET" ] || skip "no target binary at $NVMEOF_TARGET"
}

# start_target [extra target options]: a target on 127.0.0.1, port chosen
# by the kernel and read back from its port file; sets TPID and TPORT.
start_target() {
	need_target
	target_spawn -n "$TEST_NQN" --ns ram:64M --serial "$TEST_SERIAL" \
		--model "$TEST_MODEL" "$@"
}

# run CMD...: runs the tool, output in $T/out and $T/err, status in $RC.
run() {
	RC=0
	"$NVMEOF" "$@" >"$T/out" 2>"$T/err" || RC=$?
}

# expect STATUS CMD...: run and check the exit status.
expect() {
	want=$1
	shift
	run "$@"
	[ "$RC" -eq "$want" ] || fail "'nvmeof $*' exited $RC, expected $want"
}

# out_has TEXT / err_has TEXT: fixed-string match.
out_has() { grep -qF -- "$1" "$T/out" || fail "stdout lacks '$1'"; }
err_has() { grep -qF -- "$1" "$T/err" || fail "stderr lacks '$1'"; }

# json KEY...: validate stdout as JSON and print the values at KEYs.
json() {
	"$JSON_QUERY" "$@" <"$T/out" || fail "JSON check failed for $*"
}

# ctl COMMAND: one line to the control socket of a target started with
# --control "$T/ctl"; its answer in $T/ctl.out; true when it said "ok".
ctl() {
	if command -v socat >/dev/null 2>&1; then
		printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$T/ctl" >"$T/ctl.out" 2>&1
	else
		python3 - "$T/ctl" "$*" >"$T/ctl.out" 2>&1 <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
buf = b""
while not (buf.endswith(b"ok\n") or b"error:" in buf):
    d = s.recv(65536)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
PY
	fi
	tail -n 1 "$T/ctl.out" | grep -q '^ok$'
}

# now_ms: a monotonic-enough clock for hang guards (never for results).
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wait_io_association: until the target (started with --control) holds an
# association that has done I/O on an I/O queue, or fail after 20 s (a hang guard).
wait_io_association() {
	_i=0
	while :; do
		ctl stats || fail "control socket: stats failed: $(cat "$T/ctl.out")"
		# "state=live queues=2 io=517679": an I/O queue, I/O done
		grep -qE 'state=live queues=([2-9]|[1-9][0-9]+) io=[1-9]' "$T/ctl.out" && return 0
		_i=$((_i + 1))
		[ $_i -lt 400 ] || fail "no live I/O association at the target after 20 s: $(cat "$T/ctl.out")"
		sleep 0.05
	done
}
