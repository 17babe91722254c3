#!/bin/sh
# SPDX-License-Identifier: MIT
# Record the tgt_conn seeds (tests/fuzz/corpus/tgt_conn/): real sessions of
# the CLI against nvmeof-target, through a recording relay
# (tgt_capture.py), each connection's host bytes cut to 16 KiB and headed
# by the harness's 4 settings bytes (those the target ran with; bit 7 of
# byte 3 for I/O queues).  Run from a configured build directory:
#   ../tests/fuzz/record-tgt-seeds.sh
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$src/tests/fuzz/corpus/tgt_conn
NQN=nqn.2026-11.org.example:fuzz
T=$(mktemp -d)
trap 'kill $TPID $RPID 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$out"

# record NAME SETTINGS(4 hex bytes) TARGET-OPTIONS -- CLI-COMMAND...
record() {
	name=$1 set=$2
	shift 2
	topts=
	while [ "$1" != -- ]; do topts="$topts $1"; shift; done
	shift
	rm -rf "$T/rec" "$T/port" "$T/rport" "$T/stop"
	mkdir "$T/rec"
	# shellcheck disable=SC2086
	src/nvmeof-target -l 127.0.0.1:0 --port-file "$T/port" -n "$NQN" \
		--ns ram:1M --ns null:1G --ns ram:64K,lba=512,ro $topts \
		2>"$T/target.log" &
	TPID=$!
	while [ ! -s "$T/port" ]; do sleep 0.05; done
	python3 "$src/tests/fuzz/tgt_capture.py" "$(cat "$T/port")" "$T/rport" \
		"$T/rec" "$T/stop" &
	RPID=$!
	while [ ! -s "$T/rport" ]; do sleep 0.05; done
	"$@" "127.0.0.1:$(cat "$T/rport")" >/dev/null
	touch "$T/stop"
	wait $RPID
	kill $TPID
	wait $TPID || true
	for f in "$T"/rec/conn-*.bin; do
		i=${f##*conn-}
		i=${i%.bin}
		s=$set
		# connection 0 is the admin queue, the others I/O queues
		[ "$i" = 0 ] || s=$(printf '%s' "$set" | sed 's/..$//')$(printf '%02x' $((0x${set#??????} | 0x80)))
		{ printf '%s' "$s" | xxd -r -p; head -c 16384 "$f"; } >"$out/$name-conn$i"
	done
	echo "$name: $(ls "$T"/rec | wc -l) connection(s)"
}

# the host the harness makes its association as (fuzz_tgt_conn.c)
H=f0220000-0000-4000-8000-000000000001
nv() {
	sub=$1
	shift
	cli/nvmeof "$sub" --hostnqn "nqn.2014-08.org.nvmexpress:uuid:$H" --hostid "$H" "$@"
}
record identify 03030502 -- nv identify -n "$NQN" --
record identify-ns 03030502 -- nv identify -n "$NQN" --ns 3 --
record discover 03030502 -- nv discover --
record log-smart 03030502 -- nv log -n "$NQN" --lid 2 --
record perf-r2t 00030502 --in-capsule 0 -- nv perf -n "$NQN" -q 4 -o 8k -w randrw -t 1 --span 1M --
record perf-incapsule-digests 03030502 -- nv perf -n "$NQN" -q 2 -o 4k -w randrw -t 1 --span 1M -g -G --
record perf-512-small-h2c 01000202 --max-h2c-data 8192 --mdts 2 --in-capsule 96 -- nv perf -n "$NQN" --ns 3 -q 2 -o 16k -w randread -t 1 --
