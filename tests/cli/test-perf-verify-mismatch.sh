#!/bin/sh
# perf --verify catches data that does not read back: a run writes the
# pattern to a file-backed namespace, one block of the file is overwritten
# behind the target's back, and the read-back run (--no-prefill) reports
# that block and exits 74.
. "$(dirname "$0")/lib.sh"
need_target
dd if=/dev/zero of="$T/disk" bs=1M count=4 2>/dev/null || fail "cannot make $T/disk"
start_target --ns "$T/disk,lba=4096,nsid=2"
n="-n $TEST_NQN --ns 2"
# shellcheck disable=SC2086
expect 0 perf "$ADDR" $n -w write --verify -q 4 -t 1
out_has "verify: 0 mismatched block reads"
# shellcheck disable=SC2086
expect 0 perf "$ADDR" $n -w read --verify --no-prefill -q 4 -t 1
out_has "verify: 0 mismatched block reads"
# Block 5 (4096-byte LBAs): its bytes now say something else.
printf 'not the pattern' | dd of="$T/disk" bs=1 seek=$((5 * 4096 + 64)) conv=notrunc 2>/dev/null
# shellcheck disable=SC2086
expect 74 perf "$ADDR" $n -w read --verify --no-prefill -q 4 -t 1
grep -Eq "^verify: [1-9][0-9]* mismatched block read" "$T/out" || fail "no mismatch counted"
err_has "verify: LBA 5 byte 64: expected 0x"
err_has "did not match what was written"
[ "$(grep -c "verify: LBA" "$T/err")" -eq 1 ] || fail "LBA 5 not reported exactly once"
