#!/bin/sh
# wake-ups: a FUSE request wakes one sleeping worker, not every worker.
# Each worker waits with epoll_wait() and registers the FUSE device with
# EPOLLEXCLUSIVE, so the kernel wakes one waiter per request (with poll()
# every request woke every worker, and at queue depth 1 consecutive
# requests went to different I/O queues).  Checked here deterministically:
#  - the mechanism: under strace, each of the 2 workers adds the same
#    /dev/fuse descriptor to its own epoll set with EPOLLEXCLUSIVE;
#  - the function: 2000 O_DIRECT reads one at a time through 2 workers on
#    2 I/O queues all complete, and the workers' counts add up to them.
# How the requests spread over the workers depends on the scheduler (an
# idle machine: 2014/1; a loaded one: 1500/515 was seen), so that figure
# is a measurement: bench/wakeups.sh.
. "$(dirname "$0")/lib.sh"
need dd strace
start_target

N=2000
# -y: descriptors with their paths; only epoll_ctl is traced (seccomp
# filter), so the daemon runs at its usual speed otherwise.  LeakSanitizer
# cannot run under ptrace: leaks of the daemon are the other tests' job.
ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" strace -f -y --seccomp-bpf -e trace=epoll_ctl -o "$T/strace" \
	"$NVMEOF_MOUNT" -d -n "$TEST_NQN" --threads 2 -i 2 "$ADDR" "$MNT" \
	>"$T/dbg" 2>&1 &
MPID=$!
i=0
until is_mounted "$MNT" && [ -e "$MNT/n1" ]; do
	kill -0 "$MPID" 2>/dev/null || fail "nvmeof-mount -d exited: $(tail -n 5 "$T/dbg")"
	i=$((i + 1))
	[ $i -le 400 ] || fail "not mounted after 20 s"
	sleep 0.05
done
[ "$(st workers)" = 2 ] || fail "workers: $(st workers)"

dd if="$MNT/n1" of=/dev/null bs=4k count=$N iflag=direct 2>"$T/err" ||
	fail "dd of $N blocks failed"
do_umount

# 1234  epoll_ctl(7<anon_inode:[eventpoll]>, EPOLL_CTL_ADD, 5</dev/fuse>,
#       {events=EPOLLIN|EPOLLEXCLUSIVE, data=...}) = 0
grep 'EPOLL_CTL_ADD, [0-9]*</dev/fuse>' "$T/strace" >"$T/adds" ||
	fail "no epoll_ctl(EPOLL_CTL_ADD) of /dev/fuse in the trace: $(head -c 2000 "$T/strace")"
sed -n 's/^\([0-9]*\) *epoll_ctl(\([0-9]*\)<.*EPOLL_CTL_ADD, \([0-9]*\)<\/dev\/fuse>.*/\1 \2 \3/p' \
	"$T/adds" | sort -u >"$T/regs"
[ "$(wc -l <"$T/regs")" -eq 2 ] ||
	fail "expected 2 registrations of /dev/fuse (one per worker), got: $(cat "$T/adds")"
[ "$(cut -d' ' -f1 "$T/regs" | sort -u | wc -l)" -eq 2 ] ||
	fail "the 2 registrations are not from 2 threads: $(cat "$T/adds")"
[ "$(cut -d' ' -f2 "$T/regs" | sort -u | wc -l)" -eq 2 ] ||
	fail "the 2 workers share one epoll set: $(cat "$T/adds")"
[ "$(cut -d' ' -f3 "$T/regs" | sort -u | wc -l)" -eq 1 ] ||
	fail "the workers watch different descriptors: $(cat "$T/adds")"
n=$(grep -c 'EPOLLEXCLUSIVE' "$T/adds")
[ "$n" -eq 2 ] ||
	fail "$n of 2 registrations of /dev/fuse have EPOLLEXCLUSIVE: $(cat "$T/adds")"

# "worker 0: 1234 requests, 1300 wake-ups (0 by timeout, 3 lost races)"
sed -n 's/.*worker [0-9]*: \([0-9]*\) requests, [0-9]* wake-ups.*/\1/p' "$T/dbg" >"$T/workers"
[ "$(wc -l <"$T/workers")" -eq 2 ] ||
	fail "expected 2 worker summaries in the debug log, got: $(cat "$T/workers")"
reqs=$(awk '{ r += $1 } END { print r }' "$T/workers")
[ "$reqs" -ge $N ] || fail "the workers counted $reqs requests for $N reads"
echo "2 workers registered /dev/fuse with EPOLLEXCLUSIVE; $N reads, $reqs requests" \
	"(per worker: $(paste -sd/ "$T/workers"); the split is bench/wakeups.sh's)"
exit 0
