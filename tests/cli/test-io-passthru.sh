#!/bin/sh
# io-passthru sends any I/O command as built (nvmeof_io_cmd): a raw Read and
# Write are checked against the namespace's backing file itself, read and
# written beside the target; an opcode the controller does not know gets
# the controller's status (exit 76); a length above MDTS is refused before
# anything is sent (exit 64).
. "$(dirname "$0")/lib.sh"
need_target
# 1 MiB of random data behind namespace 1; 4 KiB blocks; MDTS 2: 16 KiB
head -c 1048576 /dev/urandom >"$T/disk"
target_spawn -n "$TEST_NQN" --ns "$T/disk" --lba-size 4096 --mdts 2
# iop STATUS ARGS...: io-passthru on namespace 1, exit status STATUS
iop() {
	_want=$1
	shift
	expect "$_want" io-passthru "$ADDR" -n "$TEST_NQN" --namespace-id 1 "$@"
}

# Read (02h) of 4 blocks at LBA 10: exactly MDTS; cdw12 is NLB 0's based
iop 0 -O 2 --cdw10 10 --cdw12 3 -l 16384 -b
dd if="$T/disk" of="$T/want" bs=4096 skip=10 count=4 2>/dev/null
cmp -s "$T/out" "$T/want" || fail "raw Read returned other data than the backing file holds"
# the hex dump form says the completion's dword 0
iop 0 -O 2 --cdw10 10 -l 4096
out_has "NVMe command result:00000000"

# Write (01h) of 2 blocks at LBA 100, FUA (cdw12 bit 30): in the file at once
head -c 8192 /dev/urandom >"$T/blk"
iop 0 -O 1 --cdw10 100 --cdw12 $((1 | 1 << 30)) -l 8192 --write -i "$T/blk"
dd if="$T/disk" of="$T/got" bs=4096 skip=100 count=2 2>/dev/null
cmp -s "$T/got" "$T/blk" || fail "raw Write did not land in the backing file"
# read back through the raw path; the block after is untouched
iop 0 -O 2 --cdw10 100 --cdw12 1 -l 8192 -b
cmp -s "$T/out" "$T/blk" || fail "raw Read after raw Write differs"
dd if="$T/disk" of="$T/want" bs=4096 skip=102 count=1 2>/dev/null
iop 0 -O 2 --cdw10 102 -l 4096 -b
cmp -s "$T/out" "$T/want" || fail "the block after the raw Write changed"

# a high LBA: SLBA's upper half is cdw11 (LBA 2^32 + 1 is out of range)
iop 76 -O 2 --cdw10 1 --cdw11 1 -l 4096
err_has "LBA Out of Range"

# Write Zeroes (08h), no data: 2 blocks at LBA 100 read as zeroes after
iop 0 -O 8 --cdw10 100 --cdw12 1
dd if="$T/disk" of="$T/got" bs=4096 skip=100 count=2 2>/dev/null
head -c 8192 /dev/zero >"$T/zero"
cmp -s "$T/got" "$T/zero" || fail "raw Write Zeroes left data in the backing file"

# opcodes the controller does not implement (a reserved one, a vendor
# one with data out): its status, exit 76
iop 76 -O 0x7e
err_has "Invalid Command Opcode"
err_has "I/O command 0x7e"
iop 76 -O 0x81 -l 4096 --write -i "$T/blk"
err_has "Invalid Command Opcode"
# a data length that does not match NLB: the controller says so
iop 76 -O 2 --cdw10 10 -l 100
err_has "Data SGL Length Invalid"

# above MDTS (16 KiB): refused before sending, one command is never split
iop 64 -O 2 --cdw10 10 --cdw12 4 -l 20480
err_has "MDTS"
err_has "16384"
# ... and the target is still there and serving
iop 0 -O 2 --cdw10 10 -l 4096 -b
echo "raw Read, Write, Write Zeroes, Invalid Opcode and MDTS checked"
