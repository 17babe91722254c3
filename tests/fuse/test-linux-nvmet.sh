#!/bin/sh
# nvmeof-mount against an independent controller: the Linux kernel's nvmet
# in QEMU (tests/interop/nvmet-vm; skipped when the bed cannot be made).
# The known pattern of namespace 1 reads back, the 250 GiB null_blk
# namespace shows its size, log/ana exists (nvmet reports ANA) and decodes,
# unaligned writes and punch (nvmet on tmpfs refuses Write Zeroes: the
# fallback writes zeroes) keep their neighbours, a namespace added in the
# guest appears.  Then, on the same VM, a tree mount (no -n) follows nvmet's
# Discovery Log Change events: a subsystem unlinked from the port loses its
# directory, linked again it comes back.
. "$(dirname "$0")/lib.sh"
vm="$top_srcdir/tests/interop/nvmet-vm"
[ -x "$vm" ] || skip "no $vm"
need python3 timeout
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
do_mount -k 10 -c 1
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
# Namespace Attribute Changed from nvmet: a namespace added in the guest
# appears within 2 s, one removed disappears within 2 s, and a file still
# open on it gets EIO, not a hang.
"$vm" exec "$T/vm" 'ns_add $SUBNQN1 3 8 zero' >/dev/null || fail "ns_add in the guest"
i=0
while [ ! -e "$MNT/n3" ]; do
	i=$((i + 1))
	[ $i -lt 20 ] || fail "n3 did not appear within 2 s"
	sleep 0.1
done
[ "$(stat -c %s "$MNT/n3")" -eq $((8 * 1024 * 1024)) ] || fail "n3 size"
python3 - "$MNT/n3" "$vm" "$T/vm" <<'PYEOF' || fail "n3 removed: the open file does not get EIO"
import errno, os, subprocess, sys, time
path, vm, st = sys.argv[1:4]
fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
buf = bytearray(4096)
import mmap
m = mmap.mmap(-1, 4096)
os.preadv(fd, [m], 0)
subprocess.run([vm, "exec", st, "ns_remove $SUBNQN1 3"], check=True,
               stdout=subprocess.DEVNULL)
t0 = time.time()
while os.path.exists(path):
    if time.time() - t0 > 2:
        print("n3 still there 2 s after ns_remove"); sys.exit(1)
    time.sleep(0.1)
try:
    os.preadv(fd, [m], 0)
    print("read on a removed namespace succeeded"); sys.exit(1)
except OSError as e:
    if e.errno != errno.EIO:
        print("read on a removed namespace: %s" % e); sys.exit(1)
sys.exit(0)
PYEOF
# The guest drops its port for 5 s while writes go on; each block written
# reads back as written (reconnect delay 1 s, nothing lost).
head -c $((8 * 1024 * 1024)) /dev/urandom >"$T/data"
( "$vm" exec "$T/vm" 'port_drop 5' >/dev/null ) &
dropper=$!
sleep 0.5
t0=$(date +%s)
dd if="$T/data" of="$MNT/n1" bs=64k seek=640 oflag=direct conv=notrunc,fsync status=none ||
	fail "writes across the port drop failed"
wait $dropper || fail "port_drop in the guest"
dd if="$MNT/n1" bs=64k skip=640 count=128 iflag=direct status=none | cmp - "$T/data" ||
	fail "what was written across the outage does not read back"
[ "$(sed -n 's/^reconnects *: //p' "$MNT/status")" -ge 1 ] ||
	fail "no reconnect counted: $(cat "$MNT/status")"
echo "8 MiB written across a 5 s port drop in $(( $(date +%s) - t0 )) s, read back equal"
do_umount

# A tree: nvmet lists both subsystems on its port.  Unlinking the second
# from the port (nvmet sends Discovery Log Change to the persistent
# discovery association) removes its directory within 2 s, and a file open
# on it gets EIO; linking it again brings the directory back.
NQN2=nqn.2026-11.org.example:linux-nvmet-2
NO_NQN=1 do_mount -k 10 -c 1
find "$MNT" -mindepth 1 -maxdepth 1 ! -type l -printf '%f\n' | sort >"$T/ls"
[ "$(cat "$T/ls")" = "$(printf '%s\n%s\nstatus' "$NQN" "$NQN2")" ] || fail "tree: $(cat "$T/ls")"
grep -q "^log_events *: yes$" "$MNT/status" || fail "nvmet's discovery controller: $(cat "$MNT/status")"
# until_listed yes|no NAME: within 2 s (after the guest command returned)
until_listed() {
	i=0
	while :; do
		if ls "$MNT" | grep -qxF "$2"; then [ "$1" = yes ] && break
		else [ "$1" = no ] && break; fi
		i=$((i + 1))
		[ $i -lt 20 ] || return 1
		sleep 0.1
	done
	echo "$2 listed: $1 after $((i * 100)) ms or less" >&2
}
exec 3<"$MNT/$NQN2/n1"
"$vm" exec "$T/vm" 'port_unlink $SUBNQN2' >/dev/null || fail "port_unlink in the guest"
until_listed no "$NQN2" || fail "$NQN2 still listed 2 s after port_unlink"
timeout 5 dd bs=4096 count=1 iflag=direct of=/dev/null <&3 2>"$T/err" &&
	fail "reading a file of the unlinked subsystem succeeded"
grep -q "Input/output error" "$T/err" || fail "reading a file of the unlinked subsystem: $(cat "$T/err")"
exec 3<&-
grep -q "^removed *: 1$" "$MNT/status" || fail "root status: $(cat "$MNT/status")"
"$vm" exec "$T/vm" 'port_link $SUBNQN2' >/dev/null || fail "port_link in the guest"
until_listed yes "$NQN2" || fail "$NQN2 not back 2 s after port_link"
[ "$(stat -c %s "$MNT/$NQN2/n1")" -eq $((16 * 1024 * 1024)) ] || fail "$NQN2/n1 size"
[ "$(head -c 65536 "$MNT/$NQN2/n1" | tr -d '\0' | wc -c)" -eq 0 ] || fail "$NQN2/n1 does not read zeros"
cmp -n 4096 "$MNT/$NQN/n1" "$MNT/$NQN/n1" || fail "$NQN/n1 unreadable in the tree"
do_umount
exit 0
