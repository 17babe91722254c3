#!/bin/sh
# memory: the daemon's data buffers follow the queue depth, not the amount
# of I/O.  fio at queue depth 8 (reads and writes of 4 KiB to 1 MiB, each
# checked) through a mount of 2 threads: the status file must count at most
# one receive buffer per request in flight plus two per thread (the one it
# receives into, and one whose reply is sent but not yet back on the free
# list), after one run and after a second (free lists per thread would
# each grow to their own peak, and the sum past that bound; issue 7).
. "$(dirname "$0")/lib.sh"
need fio
start_target
do_mount -i 2

QD=8
run_fio() {
	fio --name=mem --filename="$MNT/n1" --size=32M --rw=randrw \
		--bsrange=4k-1m --ioengine=libaio --iodepth=$QD --direct=1 \
		--verify=crc32c --verify_fatal=1 --io_size=256m \
		>"$T/out" 2>"$T/err" || fail "fio failed: $(head -n 3 "$T/err")"
	grep -q "err= 0" "$T/out" || fail "fio reported errors"
}

workers=$(st workers)
[ "$workers" = 2 ] || fail "workers: $workers"
b0=$(st buffers)
[ -n "$b0" ] && [ "$b0" -le "$workers" ] || fail "buffers when idle: $b0"
run_fio
b1=$(st buffers)
k1=$(st buffer_kib)
[ "$b1" -le $((QD + 2 * workers)) ] ||
	fail "$b1 receive buffers after fio at queue depth $QD with $workers threads"
# Each is 1 MiB and a page; the size-class pools hold little beside.
[ "$k1" -ge $((b1 * 1028)) ] && [ "$k1" -le $((b1 * 1040 + 4096)) ] ||
	fail "buffer_kib $k1 for $b1 buffers"
run_fio
b2=$(st buffers)
[ "$b2" -le $((QD + 2 * workers)) ] ||
	fail "$b2 receive buffers after a second run (first: $b1)"
echo "receive buffers: idle $b0, after fio $b1, after another $b2 ($k1 KiB)"
do_umount
exit 0
