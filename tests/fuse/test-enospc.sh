#!/bin/sh
# A namespace cannot grow: a write past its end fails with ENOSPC (a write
# that straddles the end is short), a read past the end returns 0 bytes,
# truncation leaves the size alone.
. "$(dirname "$0")/lib.sh"
start_target
do_mount
size=$((64 * 1024 * 1024))

dd if=/dev/zero of="$MNT/n1" bs=4096 seek=$((size / 4096)) count=1 conv=notrunc \
	2>"$T/err" && fail "a write past the end succeeded"
grep -q "No space left on device" "$T/err" || fail "no ENOSPC: $(cat "$T/err")"
dd if=/dev/zero of="$MNT/n1" bs=4096 seek=$((size / 4096)) count=1 conv=notrunc \
	oflag=direct 2>"$T/err" && fail "an O_DIRECT write past the end succeeded"
grep -q "No space left on device" "$T/err" || fail "no ENOSPC with O_DIRECT"
# straddling the end: what fits is written, then ENOSPC
head -c 8192 /dev/urandom >"$T/blk"
dd if="$T/blk" of="$MNT/n1" bs=8192 seek=$((size - 4096)) oflag=seek_bytes \
	conv=notrunc 2>"$T/err" && fail "a write straddling the end succeeded whole"
grep -q "No space left on device" "$T/err" || fail "no ENOSPC for the straddling write"
dd if="$MNT/n1" bs=4096 skip=$((size / 4096 - 1)) iflag=direct status=none | cmp - "$T/blk" -n 4096 ||
	fail "the part that fits was not written"

n=$(dd if="$MNT/n1" bs=4096 skip=$((size / 4096)) count=4 status=none | wc -c)
[ "$n" -eq 0 ] || fail "read past the end returned $n bytes"
n=$(dd if="$MNT/n1" bs=4096 skip=$((size / 4096)) count=4 iflag=direct status=none | wc -c)
[ "$n" -eq 0 ] || fail "O_DIRECT read past the end returned $n bytes"
n=$(dd if="$MNT/n1" bs=1M skip=$((size - 100)) iflag=skip_bytes status=none | wc -c)
[ "$n" -eq 100 ] || fail "read across the end returned $n bytes, expected 100"

# dd without conv=notrunc truncates: a no-op on a namespace
dd if=/dev/zero of="$MNT/n1" bs=4096 count=1 status=none || fail "dd with O_TRUNC"
[ "$(stat -c %s "$MNT/n1")" -eq $size ] || fail "the size changed after O_TRUNC"
truncate -s $((2 * size)) "$MNT/n1" 2>/dev/null && fail "truncate beyond the end succeeded"
[ "$(stat -c %s "$MNT/n1")" -eq $size ] || fail "the size changed"
do_umount
exit 0
