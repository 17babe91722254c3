#!/bin/sh
# status: the association as it is now (address, NQNs, cntlid, state,
# queues, keep-alive, counters that move with the I/O).
. "$(dirname "$0")/lib.sh"
start_target
hostnqn="nqn.2014-08.org.nvmexpress:uuid:8c2f3a5e-0f4f-4d8e-9d59-0a6f2f2d1c11"
hostid="8c2f3a5e-0f4f-4d8e-9d59-0a6f2f2d1c11"
do_mount -i 1 -Q 32 -k 7.25 --hostnqn "$hostnqn" --hostid "$hostid"

[ "$(st address)" = "$ADDR" ] || fail "address: $(st address)"
[ "$(st subnqn)" = "$TEST_NQN" ] || fail "subnqn: $(st subnqn)"
[ "$(st hostnqn)" = "$hostnqn" ] || fail "hostnqn: $(st hostnqn)"
[ "$(st state)" = live ] || fail "state: $(st state)"
[ "$(st io_queues)" = 1 ] || fail "io_queues: $(st io_queues)"
[ "$(st queue_size)" = 32 ] || fail "queue_size: $(st queue_size)"
[ "$(st keep_alive_ms)" = 7250 ] || fail "keep_alive_ms: $(st keep_alive_ms)"
ctl stats || fail "stats"
cntlid=$(sed -n 's/.*cntlid=\([0-9]*\).*state=live.*/\1/p' "$T/ctl.out")
[ "$(st cntlid)" = "$cntlid" ] || fail "cntlid $(st cntlid), the target says $cntlid"
grep "state=live" "$T/ctl.out" | grep -q "hostnqn=$hostnqn" || fail "the target saw another host NQN"

# Only the namespaces' data counts: not the Connect data of each queue.
[ "$(st bytes_written)" = 0 ] ||
	fail "bytes_written is $(st bytes_written) on a mount that never wrote"
r0=$(st bytes_read)
c0=$(st commands)
dd if="$MNT/n1" of=/dev/null bs=1M count=4 iflag=direct status=none || fail "read"
r1=$(st bytes_read)
c1=$(st commands)
[ $((r1 - r0)) -ge $((4 * 1024 * 1024)) ] || fail "bytes_read moved $r0 -> $r1"
[ "$c1" -gt "$c0" ] || fail "commands did not move"
w0=$(st bytes_written)
dd if=/dev/zero of="$MNT/n1" bs=1M count=2 oflag=direct conv=notrunc status=none || fail "write"
w1=$(st bytes_written)
[ $((w1 - w0)) -eq $((2 * 1024 * 1024)) ] || fail "bytes_written moved $w0 -> $w1"
[ "$(st errors)" = 0 ] || fail "errors: $(st errors)"
do_umount
exit 0
