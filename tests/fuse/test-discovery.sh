#!/bin/sh
# Without -n the discovery controller is asked: one NVM subsystem is
# mounted at the mount point (and the discovery association is not kept),
# several become one directory each, named by their NQN (like nvme
# connect-all), next to a status of the discovery association.
. "$(dirname "$0")/lib.sh"
start_target
NO_NQN=1 do_mount
[ -f "$MNT/n1" ] || fail "the only subsystem is not at the mount point"
grep -q "^subnqn *: $TEST_NQN$" "$MNT/status" || fail "wrong subsystem"
[ "$(live_associations)" -eq 1 ] || fail "a flat mount kept more than its association"
[ "$(stat -c %h "$MNT")" -eq 3 ] || fail "flat root link count $(stat -c %h "$MNT") (log/ not counted?)"
[ "$(stat -c %h "$MNT/log")" -eq 2 ] || fail "log/ link count $(stat -c %h "$MNT/log")"
do_umount
kill "$TPID"
wait "$TPID" 2>/dev/null
TPID=

A=nqn.2026-11.org.example:fuse-a
B=nqn.2026-11.org.example:fuse-b
start_target -n "$A" --ns ram:8M -n "$B" --ns ram:4M --ns ram:2M,lba=512
NO_NQN=1 do_mount
find "$MNT" -mindepth 1 -maxdepth 1 ! -type l -printf '%f\n' | sort >"$T/ls"
[ "$(cat "$T/ls")" = "$(printf '%s\n%s\nstatus' "$A" "$B")" ] || fail "root: $(cat "$T/ls")"
# a link per subsystem named without ':' (qemu-img reads "nqn...:" as a
# protocol); link counts: 2 + the subdirectories
LA=nqn.2026-11.org.example_fuse-a
[ "$(readlink "$MNT/$LA")" = "$A" ] || fail "link $LA: $(ls -l "$MNT")"
[ "$(stat -c %s "$MNT/$LA/n1")" -eq $((8 * 1024 * 1024)) ] || fail "$LA/n1"
[ "$(find "$MNT" -mindepth 1 -maxdepth 1 -type l | wc -l)" -eq 2 ] || fail "links: $(ls -l "$MNT")"
[ "$(stat -c %h "$MNT")" -eq 4 ] || fail "root link count $(stat -c %h "$MNT")"
[ "$(stat -c %h "$MNT/$A")" -eq 3 ] || fail "$A link count $(stat -c %h "$MNT/$A")"
if command -v qemu-img >/dev/null 2>&1; then
	qemu-img info -f raw "$MNT/$LA/n1" >"$T/qi" 2>&1 || fail "qemu-img info through the link: $(cat "$T/qi")"
fi
grep -q "^subnqn *: nqn.2014-08.org.nvmexpress.discovery$" "$MNT/status" ||
	fail "root status: $(cat "$MNT/status")"
grep -q "^subsystems *: $A $B$" "$MNT/status" || fail "root status lists: $(cat "$MNT/status")"
[ "$(stat -c %s "$MNT/$A/n1")" -eq $((8 * 1024 * 1024)) ] || fail "$A/n1"
[ "$(stat -c %s "$MNT/$B/n2")" -eq $((2 * 1024 * 1024)) ] || fail "$B/n2"
grep -q "^subnqn *: $B$" "$MNT/$B/status" || fail "$B/status"
head -c 1048576 /dev/urandom >"$T/p"
dd if="$T/p" of="$MNT/$B/n2" bs=64k conv=notrunc status=none || fail "write $B/n2"
dd if="$T/p" of="$MNT/$A/n1" bs=64k conv=notrunc status=none || fail "write $A/n1"
cmp -n 1048576 "$T/p" "$MNT/$B/n2" || fail "$B/n2 reads back wrong"
cmp -n 1048576 "$T/p" "$MNT/$A/n1" || fail "$A/n1 reads back wrong"
[ "$(live_associations)" -eq 3 ] || fail "expected two associations and the discovery one"
do_umount
[ "$(live_associations)" -eq 0 ] || fail "associations left"
exit 0
