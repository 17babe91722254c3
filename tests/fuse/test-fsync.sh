#!/bin/sh
# fsync and fdatasync of a namespace file send Flush to the controller.
. "$(dirname "$0")/lib.sh"
start_target
do_mount

flushes() {
	ctl stats || fail "stats: $(cat "$T/ctl.out")"
	sed -n 's/.*state=live.* other=\([0-9]*\).*/\1/p' "$T/ctl.out" | head -n 1
}
before=$(flushes)
[ -n "$before" ] || fail "no 'other=' counter in: $(cat "$T/ctl.out")"
dd if=/dev/urandom of="$MNT/n1" bs=4k count=16 conv=notrunc,fsync status=none || fail "dd conv=fsync"
sync "$MNT/n1" || fail "sync FILE (fsync)"
sync -d "$MNT/n1" || fail "sync -d FILE (fdatasync)"
after=$(flushes)
[ "$after" -ge $((before + 3)) ] || fail "expected 3 more Flush commands: $before -> $after"
grep -q "errors=0" "$T/ctl.out" || fail "the target counted errors"
do_umount
exit 0
