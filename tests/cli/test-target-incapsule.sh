#!/bin/sh
# Writes whose data arrives by R2T (in-capsule data smaller than the
# write), 4 KiB to 1 MiB, checked end to end by perf --verify: every
# block is written with an LBA-derived pattern and every read checks it.
# With --in-capsule 0 even the Connect data arrives by R2T, into the
# command slot's small buffer; a Write that later reused that slot
# overflowed it (heap-buffer-overflow under ASan).
. "$(dirname "$0")/lib.sh"

stop_target() {
	kill "$TPID"
	rc=0
	wait "$TPID" || rc=$?
	TPID=
	[ "$rc" -eq 0 ] || { cat "$T/target.log" >&2; fail "the target exited $rc"; }
	if grep -q 'ERROR: AddressSanitizer\|runtime error' "$T/target.log"; then
		cat "$T/target.log" >&2
		fail "sanitizer report from the target"
	fi
}

# perf with a hang guard: a host that waits forever for a target that
# crashed must not hang the test.
perf() {
	RC=0
	timeout 120 "$NVMEOF" perf "$@" >"$T/out" 2>"$T/err" || RC=$?
	[ "$RC" -eq 0 ] || { cat "$T/target.log" >&2; fail "'nvmeof perf $*' exited $RC"; }
}

for ic in 0 96; do
	# --mdts 8: 1 MiB per command
	start_target --in-capsule "$ic" --mdts 8
	for o in 4k 60k 1M; do
		perf "$ADDR" -n "$TEST_NQN" --verify -w rw -q 4 -o "$o" -t 1 --span 8M
		out_has "verify: 0 mismatched block reads"
	done
	# Two threads, each with its own queue, in parallel.
	perf "$ADDR" -n "$TEST_NQN" --verify -w randrw -q 8 -o 64k -t 1 -j 2 --span 8M
	out_has "verify: 0 mismatched block reads"
	if grep -q 'C2HTermReq' "$T/target.log"; then
		cat "$T/target.log" >&2
		fail "the target ended a connection with --in-capsule $ic"
	fi
	stop_target
done
