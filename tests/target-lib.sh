# SPDX-License-Identifier: MIT
# Shared by tests/cli/lib.sh and tests/fuse/lib.sh: start nvmeof-target on
# 127.0.0.1 with a port the kernel chooses.  Needs $T (a scratch
# directory), $NVMEOF_TARGET and a fail() that exits.

# target_spawn [target options]: the target in the background, its output in
# $T/target.log; returns once it has written its port file.  Sets TPID,
# TPORT (its first listener) and ADDR.  TARGET_HOST (default 127.0.0.1)
# is the address it listens on, e.g. '[::1]' for IPv6 loopback.
target_spawn() {
	rm -f "$T/port"
	"$NVMEOF_TARGET" -l "${TARGET_HOST:-127.0.0.1}:0" --port-file "$T/port" "$@" \
		>"$T/target.log" 2>&1 &
	TPID=$!
	_i=0
	while [ ! -s "$T/port" ]; do
		kill -0 "$TPID" 2>/dev/null || { cat "$T/target.log" >&2; fail "the target exited"; }
		_i=$((_i + 1))
		[ $_i -lt 200 ] || fail "the target wrote no port file in 10 s"
		sleep 0.05
	done
	TPORT=$(grep -o '[0-9][0-9]*' "$T/port" | head -n 1)
	[ -n "$TPORT" ] || fail "no port in $(cat "$T/port")"
	ADDR="${TARGET_HOST:-127.0.0.1}:$TPORT"
}
