#!/bin/sh
# perf with 4 threads on 4 I/O queues (one TCP connection each), a mixed
# random workload checked block by block (--verify): every thread reports
# I/O, nothing mismatches, and the association reports 4 I/O queues.
# Also the multi-threaded library test that run-tests' ThreadSanitizer
# stage runs (configure --enable-tsan).  The namespace is a file: the
# target then reads and writes it with pread/pwrite, whereas with a RAM
# namespace two queues' commands on the same blocks memcpy into one buffer
# at once, which NVMe allows (no order between queues) and ThreadSanitizer
# would report.
. "$(dirname "$0")/lib.sh"
need_target
truncate -s 64M "$T/ns.img" || fail "truncate"
target_spawn -n "$TEST_NQN" --ns "$T/ns.img"
expect 0 perf "$ADDR" -n "$TEST_NQN" --verify -w randrw -M 60 -q 8 -o 4k -t 2 \
	-j 4 -i 4 --span 8M
out_has "verify: 0 mismatched block reads"
for t in 0 1 2 3; do
	iops=$(awk -v t=$t '$1 == t { print int($2) }' "$T/out")
	[ "${iops:-0}" -gt 0 ] || fail "thread $t: IOPS is ${iops:-empty}"
done
out_has "4 threads, 4 I/O queues"
echo "perf -j 4 -i 4: $(awk '$1 == "total"' "$T/out")"
