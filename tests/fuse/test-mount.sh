#!/bin/sh
# Mount, list the tree, read identify (serial, model, subsystem NQN shown),
# check the raw .bin sizes; unmount: the daemon exits and the target holds
# no association any more.
. "$(dirname "$0")/lib.sh"
start_target
do_mount

ls "$MNT" >"$T/ls" || fail "ls $MNT"
for f in identify identify.bin status log n1 n1.identify n1.identify.bin; do
	grep -qx "$f" "$T/ls" || fail "no $f in the tree: $(cat "$T/ls")"
done
ls "$MNT/log" >"$T/ls" || fail "ls $MNT/log"
for f in error smart firmware changed-ns cmd-effects; do
	grep -qx "$f" "$T/ls" || fail "no log/$f"
	grep -qx "$f.bin" "$T/ls" || fail "no log/$f.bin"
done

cat "$MNT/identify" >"$T/id" || fail "cat identify"
grep -q "^sn  *: $TEST_SERIAL *$" "$T/id" || fail "serial not in identify: $(head -5 "$T/id")"
grep -q "^mn  *: $TEST_MODEL *$" "$T/id" || fail "model not in identify"
grep -q "^subnqn  *: $TEST_NQN *$" "$T/id" || fail "subnqn not in identify"
grep -q "^nsze  *: 0x4000" "$MNT/n1.identify" || fail "n1.identify: nsze is not 16384 blocks"

size() { stat -c %s "$1"; }
[ "$(size "$MNT/identify.bin")" -eq 4096 ] || fail "identify.bin is not 4096 bytes"
[ "$(wc -c <"$MNT/identify.bin")" -eq 4096 ] || fail "reading identify.bin gave not 4096 bytes"
[ "$(wc -c <"$MNT/n1.identify.bin")" -eq 4096 ] || fail "n1.identify.bin"
[ "$(wc -c <"$MNT/log/smart.bin")" -eq 512 ] || fail "log/smart.bin is not 512 bytes"
[ "$(wc -c <"$MNT/log/firmware.bin")" -eq 512 ] || fail "log/firmware.bin"
[ "$(wc -c <"$MNT/log/changed-ns.bin")" -eq 4096 ] || fail "log/changed-ns.bin"
[ "$(wc -c <"$MNT/log/cmd-effects.bin")" -eq 4096 ] || fail "log/cmd-effects.bin"
# error log: (ELPE + 1) entries of 64 bytes
elpe=$(sed -n 's/^elpe  *: *//p' "$T/id")
[ -n "$elpe" ] || fail "no elpe in identify"
[ "$(wc -c <"$MNT/log/error.bin")" -eq $(((elpe + 1) * 64)) ] || fail "log/error.bin size"
# The .bin is the raw page: the serial sits at bytes 4..23.
dd if="$MNT/identify.bin" bs=1 skip=4 count=20 2>/dev/null | grep -q "^$TEST_SERIAL" ||
	fail "identify.bin does not hold the serial at offset 4"
# the size of a namespace file: NSZE x LBA size, st_blksize the LBA size
[ "$(size "$MNT/n1")" -eq $((64 * 1024 * 1024)) ] || fail "n1 size $(size "$MNT/n1")"
[ "$(stat -c %o "$MNT/n1")" -eq 4096 ] || fail "n1 st_blksize $(stat -c %o "$MNT/n1")"
grep -q " $MNT fuse.nvmeof " /proc/mounts || fail "not listed as fuse.nvmeof in /proc/mounts"

[ "$(live_associations)" -eq 1 ] || fail "the target does not see one live association"
pid=$MPID
do_umount
kill -0 "$pid" 2>/dev/null && fail "daemon $pid still alive"
[ "$(live_associations)" -eq 0 ] || fail "an association is still live after unmount: $(cat "$T/ctl.out")"
grep -q 'state=ended' "$T/ctl.out" || fail "the target saw no association end"
exit 0
