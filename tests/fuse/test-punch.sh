#!/bin/sh
# fallocate --punch-hole (Deallocate, or Write Zeroes) and --zero-range
# (Write Zeroes): the range reads as zeros, unaligned edges included, and
# not one byte beside it changes.  Both 4096- and 512-byte LBAs.
. "$(dirname "$0")/lib.sh"
need fallocate

zero_shadow() { # OFF LEN: zero that range of the shadow
	dd if=/dev/zero of="$T/shadow" bs=64k seek="$1" count="$2" \
		oflag=seek_bytes iflag=count_bytes conv=notrunc status=none
}

for lba in 4096 512; do
	start_target -n "$TEST_NQN" --ns "ram:16M,lba=$lba"
	do_mount
	head -c $((16 * 1024 * 1024)) /dev/urandom >"$T/shadow"
	dd if="$T/shadow" of="$MNT/n1" bs=1M conv=notrunc status=none || fail "fill"
	for c in 0:4096 8192:65536 4000:10000 100:200 1048577:3000000 \
		 16777000:216 5000000:1; do
		off=${c%:*}
		len=${c#*:}
		fallocate --punch-hole --keep-size -o "$off" -l "$len" "$MNT/n1" ||
			fail "punch $off+$len (lba $lba)"
		zero_shadow "$off" "$len"
	done
	for c in 6000000:1048576 7000001:12345 9000000:1; do
		off=${c%:*}
		len=${c#*:}
		fallocate --zero-range --keep-size -o "$off" -l "$len" "$MNT/n1" ||
			fail "zero-range $off+$len (lba $lba)"
		zero_shadow "$off" "$len"
	done
	# past the end, with --keep-size: clamped
	fallocate --punch-hole --keep-size -o $((16 * 1024 * 1024 - 10)) -l 4096 "$MNT/n1" ||
		fail "punch across the end"
	zero_shadow $((16 * 1024 * 1024 - 10)) 10
	dd if="$MNT/n1" bs=1M iflag=direct status=none | cmp - "$T/shadow" ||
		fail "after punch/zero n1 differs from the shadow (lba $lba)"
	# growing is not possible
	fallocate -o 0 -l $((32 * 1024 * 1024)) "$MNT/n1" 2>/dev/null &&
		fail "fallocate beyond the end succeeded"
	do_umount
	kill "$TPID"
	wait "$TPID" 2>/dev/null
	TPID=
done
exit 0
