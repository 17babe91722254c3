#!/bin/sh
# A closed port: exit 69 (EX_UNAVAILABLE) and a message naming the address.
. "$(dirname "$0")/lib.sh"
port=1
if [ -x "$NVMEOF_TARGET" ]; then
	# a port that was just ours and is closed now
	start_target
	port=$TPORT
	kill "$TPID"
	wait "$TPID" 2>/dev/null
	TPID=
fi
for cmd in "discover 127.0.0.1:$port" "identify 127.0.0.1:$port -n $TEST_NQN" \
	   "list 127.0.0.1:$port" "perf 127.0.0.1:$port -n $TEST_NQN -t 1"; do
	# shellcheck disable=SC2086
	expect 69 $cmd
	err_has "127.0.0.1:$port"
	grep -qi "refused" "$T/err" || fail "$cmd: no 'refused' in the message"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "$cmd: more than one line on stderr"
done
