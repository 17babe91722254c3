#!/bin/sh
# dd at unaligned offsets and lengths (read-modify-write of the edge
# blocks) never disturbs the neighbouring bytes: every write is mirrored to
# a local shadow file, then the whole namespace and unaligned reads of it
# are compared with the shadow.  Both 4096- and 512-byte LBAs.
. "$(dirname "$0")/lib.sh"

run_case() {
	lba=$1
	start_target -n "$TEST_NQN" --ns "ram:16M,lba=$lba"
	do_mount
	[ "$(stat -c %o "$MNT/n1")" -eq "$lba" ] || fail "st_blksize is not $lba"
	head -c $((16 * 1024 * 1024)) /dev/urandom >"$T/shadow"
	dd if="$T/shadow" of="$MNT/n1" bs=1M conv=notrunc status=none || fail "initial fill"
	head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/src"
	# offset:length pairs: inside one block, across one boundary, head and
	# tail partial around whole blocks, single bytes at the very edges.
	cases="0:1 1:1 4095:1 4096:1 4097:1 511:2 100:200 4000:200 4095:4098
		8191:8194 12345:65536 1000000:1048577 3:1048576 65535:131073
		16777215:1 16777000:216 0:4097 7:513 513:511 1:16383"
	seed=1
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		seed=$(((seed * 1103515245 + 12345) % 2147483648))
		off=$((seed % 16777000))
		seed=$(((seed * 1103515245 + 12345) % 2147483648))
		len=$((seed % 70000 + 1))
		cases="$cases $off:$len"
	done
	src_off=0
	for c in $cases; do
		off=${c%:*}
		len=${c#*:}
		for dst in "$MNT/n1" "$T/shadow"; do
			dd if="$T/src" of="$dst" bs=64k skip="$src_off" seek="$off" \
				count="$len" iflag=skip_bytes,count_bytes \
				oflag=seek_bytes conv=notrunc status=none ||
				fail "dd of=$dst seek=$off count=$len (lba $lba)"
		done
		src_off=$(((src_off + 4099) % 1000000))
	done
	cmp "$MNT/n1" "$T/shadow" || fail "n1 differs from the shadow (lba $lba)"
	for c in 1:1 4095:2 100:10000 5000:1048576 16777210:100; do
		off=${c%:*}
		len=${c#*:}
		a=$(dd if="$MNT/n1" bs=64k skip="$off" count="$len" \
			iflag=skip_bytes,count_bytes status=none | sha256sum)
		b=$(dd if="$T/shadow" bs=64k skip="$off" count="$len" \
			iflag=skip_bytes,count_bytes status=none | sha256sum)
		[ "$a" = "$b" ] || fail "unaligned read at $off+$len differs (lba $lba)"
	done
	do_umount
	kill "$TPID"
	wait "$TPID" 2>/dev/null
	TPID=
}

run_case 4096
run_case 512
exit 0
