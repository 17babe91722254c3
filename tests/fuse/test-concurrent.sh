#!/bin/sh
# Several processes write different byte ranges of the same blocks at once
# (read-modify-write of shared LBAs) while another rewrites a whole block
# nearby: no byte is lost.  Writes to one FUSE file overlap only as
# asynchronous O_DIRECT (aio_writers uses io_submit); plain write(2)s from
# several processes are checked too.
. "$(dirname "$0")/lib.sh"
: "${AIO_WRITERS:=$top_builddir/tests/fuse/aio_writers}"
[ -x "$AIO_WRITERS" ] || fail "$AIO_WRITERS is not built"

for lba in 4096 512; do
	start_target -n "$TEST_NQN" --ns "ram:16M,lba=$lba"
	for round in 1 2 3; do
		do_mount
		"$AIO_WRITERS" "$MNT/n1" >"$T/out" 2>"$T/err" ||
			fail "concurrent writers lost bytes (lba $lba, round $round)"
		do_umount
	done
	kill "$TPID"
	wait "$TPID" 2>/dev/null
	TPID=
done

# write(2) from several processes, each its own interleaved byte ranges
start_target
do_mount
i=0
while [ $i -lt 8 ]; do
	(
		r=0
		while [ $r -lt 20 ]; do
			j=$i
			while [ $j -lt 96 ]; do
				printf "%02d%02d%02d%02d%02d%02d%02d%02d" $i $r $i $r $i $r $i $r |
					dd of="$MNT/n1" bs=16 seek=$((4000 + j * 16)) \
					oflag=seek_bytes conv=notrunc status=none || exit 1
				j=$((j + 8))
			done
			r=$((r + 1))
		done
	) &
	eval "w$i=\$!"
	i=$((i + 1))
done
i=0
while [ $i -lt 8 ]; do
	eval "wait \$w$i" || fail "writer $i failed"
	i=$((i + 1))
done
j=0
while [ $j -lt 96 ]; do
	i=$((j % 8))
	want=$(printf "%02d19%02d19%02d19%02d19" $i $i $i $i)
	got=$(dd if="$MNT/n1" bs=16 skip=$((4000 + j * 16)) count=1 iflag=skip_bytes,direct status=none)
	[ "$got" = "$want" ] || fail "piece $j: '$got', expected '$want'"
	j=$((j + 1))
done
do_umount
exit 0
