#!/bin/sh
# A plain unmount (fusermount3 -u, no file open) shuts the controller down
# in order (CC.SHN, as nvme disconnect does), even though the daemon also
# watches the mount table for lazy detaches: that watch must not take a
# plain unmount for a lost mount and fail the associations instead.
. "$(dirname "$0")/lib.sh"
start_target -v -v -n "$TEST_NQN" --ns ram:16M
for round in 1 2 3; do
	do_mount -i 1 -o log=stderr
	dd if="$MNT/n1" of=/dev/null bs=64k count=4 iflag=direct status=none ||
		fail "read"
	before=$(grep -c 'CC 0x[0-9a-f]* -> CSTS 0x[89]$' "$T/target.log")
	do_umount
	after=$(grep -c 'CC 0x[0-9a-f]* -> CSTS 0x[89]$' "$T/target.log")
	[ "$after" -gt "$before" ] ||
		fail "round $round: no controller shutdown (CSTS.SHST complete) at unmount: $(tail -5 "$T/target.log")"
	grep -q "the mount was detached" "$T/err" &&
		fail "round $round: a plain unmount was taken for a lazy detach"
	echo "round $round: the controller was shut down at unmount"
done
exit 0
