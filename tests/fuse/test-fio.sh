#!/bin/sh
# fio writes with crc32c verification, 4 jobs at once: O_DIRECT libaio at
# queue depth, mixed block sizes; then buffered writes of unaligned sizes.
. "$(dirname "$0")/lib.sh"
need fio
start_target
do_mount

fio --name=direct --filename="$MNT/n1" --size=16M --offset_increment=16M \
	--numjobs=4 --rw=randwrite --bsrange=4k-256k --ioengine=libaio \
	--iodepth=16 --direct=1 --verify=crc32c --verify_fatal=1 \
	--do_verify=1 --group_reporting >"$T/out" 2>"$T/err" ||
	fail "fio (libaio, O_DIRECT) failed or did not verify"
grep -q "err= 0" "$T/out" || fail "fio reported errors"
fio --name=buffered --filename="$MNT/n1" --size=8M --offset_increment=16M \
	--numjobs=4 --rw=randwrite --bs=3000 --ioengine=psync --direct=0 \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting \
	>"$T/out" 2>"$T/err" || fail "fio (psync, 3000-byte blocks) failed or did not verify"
grep -q "err= 0" "$T/out" || fail "fio reported errors"
do_umount
exit 0
