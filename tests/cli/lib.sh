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
