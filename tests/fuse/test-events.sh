#!/bin/sh
# Namespace Attribute Changed events update the tree while mounted: a new
# namespace appears, a resized one shows its new size, a removed one goes
# (and an open file of it fails with EIO instead of reaching another).
. "$(dirname "$0")/lib.sh"
start_target
do_mount

# until CMD...: retry for up to 10 s
until_true() {
	i=0
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || return 1
		sleep 0.1
	done
}
has() { [ -e "$MNT/$1" ]; }
hasnt() { [ ! -e "$MNT/$1" ]; }
size_is() { [ "$(stat -c %s "$MNT/$1")" -eq "$2" ]; }

ctl "ns-add $TEST_NQN auto ram:8M" || fail "ns-add: $(cat "$T/ctl.out")"
until_true has n2 || fail "n2 did not appear"
ls "$MNT" | grep -qx n2.identify || fail "n2.identify not listed"
size_is n2 $((8 * 1024 * 1024)) || fail "n2 has the wrong size"
head -c 1048576 /dev/urandom >"$T/p"
dd if="$T/p" of="$MNT/n2" bs=64k conv=notrunc status=none || fail "write n2"
cmp -n 1048576 "$MNT/n2" "$T/p" || fail "n2 reads back wrong"

ctl "ns-resize $TEST_NQN 2 4M" || fail "ns-resize: $(cat "$T/ctl.out")"
until_true size_is n2 $((4 * 1024 * 1024)) || fail "n2 did not shrink: $(stat -c %s "$MNT/n2")"
n=$(wc -c <"$MNT/n2")
[ "$n" -eq $((4 * 1024 * 1024)) ] || fail "reading n2 gave $n bytes after the resize"

exec 3<"$MNT/n2"
ctl "ns-remove $TEST_NQN 2" || fail "ns-remove: $(cat "$T/ctl.out")"
until_true hasnt n2 || fail "n2 did not go away"
ls "$MNT" | grep -q '^n2' && fail "n2 still listed"
dd bs=4096 count=1 iflag=direct <&3 >/dev/null 2>"$T/err" && fail "reading a removed namespace succeeded"
exec 3<&-
grep -q "Input/output error" "$T/err" || fail "reading a removed namespace: $(cat "$T/err")"
grep -q "^namespaces *: 1$" "$MNT/status" || fail "status still lists n2"
cmp -n 4096 "$MNT/n1" "$MNT/n1" || fail "n1 unreadable"
do_umount
exit 0
