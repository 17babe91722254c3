#!/bin/sh
# A qemu guest (the interop kernel) boots with a namespace file as its disk,
# -drive file=MNT/n1,format=raw,cache=none,if=virtio, reads the whole disk,
# and the sha256 it prints equals the one computed on the host.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64
VM=$top_srcdir/tests/interop/nvmet-vm
"$VM" prepare >"$T/prepare.log" 2>&1
rc=$?
[ $rc -eq 77 ] && skip "$(tail -n 1 "$T/prepare.log")"
[ $rc -eq 0 ] || fail "nvmet-vm prepare: $(tail -n 3 "$T/prepare.log")"
start_target -n "$TEST_NQN" --ns ram:32M
do_mount
head -c $((32 * 1024 * 1024)) /dev/urandom >"$T/img"
dd if="$T/img" of="$MNT/n1" bs=1M oflag=direct conv=fsync status=none ||
	fail "writing the image to n1"
want=$(sha256sum "$T/img" | cut -d' ' -f1)
VMSTATE=$T/vm
NVMEOF_VM_DRIVE=$MNT/n1 "$VM" start-host "$VMSTATE" 1 >"$T/vm.log" 2>&1 ||
	fail "the guest did not boot: $(tail -n 5 "$T/vm.log")"
got=$("$VM" exec "$VMSTATE" 'sha256sum /dev/vda' | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "the guest's sha256 of /dev/vda is '$got', the host's $want"
echo "guest sha256 of /dev/vda = host sha256 of n1 = $want"
"$VM" stop "$VMSTATE" >/dev/null 2>&1
VMSTATE=
do_umount
exit 0
