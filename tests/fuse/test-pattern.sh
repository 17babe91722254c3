#!/bin/sh
# A known pattern written to n1 reads back the same: cmp and sha256, through
# the page cache and with O_DIRECT, in several request sizes.
. "$(dirname "$0")/lib.sh"
start_target
do_mount

head -c $((64 * 1024 * 1024)) /dev/urandom >"$T/pattern"
dd if="$T/pattern" of="$MNT/n1" bs=1M conv=notrunc,fsync status=none || fail "dd write"
cmp "$MNT/n1" "$T/pattern" || fail "n1 differs from the pattern after a write"
want=$(sha256sum <"$T/pattern" | cut -d' ' -f1)
for args in "bs=4k" "bs=1M" "bs=4k iflag=direct" "bs=1M iflag=direct" "bs=3000"; do
	# shellcheck disable=SC2086
	got=$(dd if="$MNT/n1" $args status=none | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "sha256 with dd $args: $got, expected $want"
done

# O_DIRECT writes too (at byte 64: FUSE asks no alignment, the daemon does
# read-modify-write), then a fresh mount (no page cache) reads them back.
head -c $((8 * 1024 * 1024)) /dev/urandom >"$T/p2"
dd if="$T/p2" of="$MNT/n1" bs=128k seek=64 oflag=direct,seek_bytes conv=notrunc status=none ||
	fail "dd oflag=direct"
dd if="$T/p2" of="$T/pattern" bs=128k seek=64 oflag=seek_bytes conv=notrunc status=none
do_umount
do_mount
cmp "$MNT/n1" "$T/pattern" || fail "after a remount n1 differs from the pattern"
do_umount
exit 0
