#!/bin/sh
# nvmeof-mount against an independent controller: the Linux kernel's nvmet
# in QEMU (tests/interop/nvmet-vm; skipped when the bed cannot be made).
# The known pattern of namespace 1 reads back, the 250 GiB null_blk
# namespace shows its size, log/ana exists (nvmet reports ANA) and decodes,
# unaligned writes and punch (nvmet on tmpfs refuses Write Zeroes: the
# fallback writes zeroes) keep their neighbours, a namespace added in the
# guest appears.
. "$(dirname "$0")/lib.sh"
vm="$top_srcdir/tests/interop/nvmet-vm"
[ -x "$vm" ] || skip "no $vm"
need python3
"$vm" prepare >"$T/prepare.log" 2>&1
rc=$?
[ $rc -eq 0 ] || { [ $rc -eq 77 ] && skip "nvmet-vm prepare: $(tail -n 1 "$T/prepare.log")"; fail "nvmet-vm prepare: $(tail -n 3 "$T/prepare.log")"; }
mkdir "$T/vm"
stop_vm() { "$vm" stop "$T/vm" >/dev/null 2>&1; }
# keep the test's status through stop_vm for cleanup (which exits with it)
trap 'r=$?; stop_vm; (exit $r); cleanup' EXIT
"$vm" start "$T/vm" >"$T/out" 2>"$T/err" || fail "nvmet-vm start"
ADDR=127.0.0.1:$(cat "$T/vm/port")
NQN=nqn.2026-11.org.example:linux-nvmet
TEST_NQN=$NQN
do_mount -k 10
grep -q "^sn *: linuxnvmet0001" "$MNT/identify" || fail "serial: $(grep '^sn' "$MNT/identify")"
[ "$(stat -c %s "$MNT/n1")" -eq $((64 * 1024 * 1024)) ] || fail "n1 size"
[ "$(stat -c %s "$MNT/n2")" -eq $((250 * 1024 * 1024 * 1024)) ] || fail "n2 size $(stat -c %s "$MNT/n2")"
[ "$(stat -c %o "$MNT/n2")" -eq 512 ] || fail "n2 st_blksize"
[ -e "$MNT/log/ana" ] || fail "no log/ana though nvmet reports ANA"
grep -q "state *: optimized" "$MNT/log/ana" || fail "log/ana: $(head -5 "$MNT/log/ana")"
python3 - "$MNT/n1" <<'PYEOF' || fail "the known pattern, or its neighbours after writes"
import os, struct, sys
MAGIC = 0x6e766d656f660000
path = sys.argv[1]
def pattern_ok(d, base):
    return all(struct.unpack_from('<Q', d, o)[0] == ((base + o) ^ MAGIC)
               for o in range(0, len(d) - 7, 8))
d = open(path, 'rb').read(4 << 20)
if not pattern_ok(d, 0):
    print("pattern mismatch"); sys.exit(1)
fd = os.open(path, os.O_RDWR)
os.pwrite(fd, b'\xab' * 3000, 1000003)          # unaligned, two blocks
os.close(fd)
os.system("fallocate -p -o 2000001 -l 50000 '%s'" % path)
d = open(path, 'rb').read(4 << 20)
ok = d[1000003:1003003] == b'\xab' * 3000 and d[2000001:2050001] == bytes(50000)
ok = ok and pattern_ok(d[990000:1000000], 990000) and pattern_ok(d[1003008:1010000], 1003008)
ok = ok and pattern_ok(d[1990000:2000000], 1990000) and pattern_ok(d[2050008:2060000], 2050008)
sys.exit(0 if ok else 1)
PYEOF
"$vm" exec "$T/vm" 'ns_add $SUBNQN1 3 8 zero' >/dev/null || fail "ns_add in the guest"
i=0
while [ ! -e "$MNT/n3" ]; do
	i=$((i + 1))
	[ $i -lt 150 ] || fail "n3 did not appear"
	sleep 0.1
done
[ "$(stat -c %s "$MNT/n3")" -eq $((8 * 1024 * 1024)) ] || fail "n3 size"
do_umount
exit 0
