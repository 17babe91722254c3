#!/bin/sh
# wake-ups: a FUSE request wakes one sleeping worker, the first in line,
# not every worker.  dd reads 2000 blocks with O_DIRECT, one request at a
# time, through a mount of 2 worker threads on 2 I/O queues; at unmount
# each worker logs (-d) how many requests it took.  When the workers
# watched the device with poll(), each request woke both, and they took
# the requests about half and half (1130/885 and 1114/901 in two runs), so
# that consecutive requests went to different I/O queues and neither queue
# of the target stayed warm (with a busy-polling target, 45 us per read
# instead of 20).  Now a worker waits with EPOLLEXCLUSIVE on the device:
# one worker takes nearly all of them (2014/1).
. "$(dirname "$0")/lib.sh"
need dd
start_target

N=2000
"$NVMEOF_MOUNT" -d -n "$TEST_NQN" --threads 2 -i 2 "$ADDR" "$MNT" \
	>"$T/dbg" 2>&1 &
MPID=$!
i=0
until is_mounted "$MNT" && [ -e "$MNT/n1" ]; do
	kill -0 "$MPID" 2>/dev/null || fail "nvmeof-mount -d exited: $(tail -n 5 "$T/dbg")"
	i=$((i + 1))
	[ $i -le 200 ] || fail "not mounted after 10 s"
	sleep 0.05
done
[ "$(st workers)" = 2 ] || fail "workers: $(st workers)"

dd if="$MNT/n1" of=/dev/null bs=4k count=$N iflag=direct 2>"$T/err" ||
	fail "dd of $N blocks failed"
do_umount

# "worker 0: 1234 requests, 1300 wake-ups (0 by timeout, 3 lost races)"
sed -n 's/.*worker [0-9]*: \([0-9]*\) requests, [0-9]* wake-ups ([0-9]* by timeout, \([0-9]*\) lost races).*/\1 \2/p' \
	"$T/dbg" >"$T/workers"
[ "$(wc -l <"$T/workers")" -eq 2 ] ||
	fail "expected 2 worker summaries in the debug log, got: $(cat "$T/workers")"
read -r reqs lost top <<EOF
$(awk '{ r += $1; l += $2; if ($1 > m) m = $1 } END { print r, l, m }' "$T/workers")
EOF
[ "$reqs" -ge $N ] || fail "the workers counted $reqs requests for $N reads"
echo "$N reads one at a time, 2 workers: requests (lost races) per worker:" \
	"$(awk '{ printf "%s%s (%s)", (NR > 1 ? ", " : ""), $1, $2 }' "$T/workers")"
[ $((top * 100)) -ge $((reqs * 80)) ] ||
	fail "the busiest worker took $top of $reqs requests: each request woke every worker"
[ "$lost" -lt $((N / 10)) ] ||
	fail "$lost of $N requests woke a worker that found nothing"
exit 0
