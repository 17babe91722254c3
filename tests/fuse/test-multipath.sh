#!/bin/sh
# Multipath through the mount: one nvmeof-target with two listeners (two
# paths to one subsystem), mounted as "127.0.0.1:P0,127.0.0.1:P1".  While
# fio writes and verifies (crc32c, 4 jobs) through the namespace file:
#   ana     path 0's ANA group goes inaccessible: the I/O moves to path 1
#           (the per-path counts of MNT/paths), with no error; optimized
#           again: I/O comes back to path 0
#   drop    path 0's connection is closed (fault drop-after@listener): its
#           commands complete on path 1, path 0 comes back
#   silent  path 1 stops answering (fault silent@listener): keep-alive
#           (KATO 1 s) ends it, path 0 carries on, path 1 comes back
# Every wait is for a state in MNT/paths; fio must finish without an error
# and its verify pass; at the end the namespace and what the mount reads
# are the same.  MNT/paths has the documented format (nvmeof-mount(8)).
. "$(dirname "$0")/lib.sh"
# shellcheck source=mpath-lib.sh
. "$(dirname "$0")/mpath-lib.sh"
need fio
truncate -s 64M "$T/ns.img"
start_target -v -n "$TEST_NQN" --ns "$T/ns.img" -l 127.0.0.1:0
listener_ports

"$NVMEOF_MOUNT" -f -n "$TEST_NQN" -c 1 -k 1 --io-timeout 5 \
	"127.0.0.1:$P0,127.0.0.1:$P1" "$MNT" 2>"$T/mount.log" &
MPID=$!
i=0
until is_mounted "$MNT"; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "not mounted: $(cat "$T/mount.log")"
	kill -0 "$MPID" 2>/dev/null || fail "nvmeof-mount exited: $(cat "$T/mount.log")"
	sleep 0.05
done

# --- bad sources and policies: a usage error (64) that names the problem ------
usage_err() {
	want=$1
	shift
	"$NVMEOF_MOUNT" -f "$@" "$MNT2" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc = 64 ] || fail "$*: exit $rc, not 64: $(cat "$T/err")"
	grep -q "$want" "$T/err" || fail "$*: no '$want' in: $(cat "$T/err")"
}
MNT2=$T/mnt2
mkdir -p "$MNT2"
usage_err "need the subsystem NQN" "127.0.0.1:$P0,127.0.0.1:$P1"
usage_err "an empty address" -n "$TEST_NQN" "127.0.0.1:$P0,"
usage_err "expected host" -n "$TEST_NQN" "127.0.0.1:$P0,[::1"
usage_err "iopolicy 'fastest'" -n "$TEST_NQN" -o iopolicy=fastest "127.0.0.1:$P0"
usage_err "iopolicy 'x'" -n "$TEST_NQN" --iopolicy=x "127.0.0.1:$P0"
many=127.0.0.1:1
for k in $(seq 2 17); do many="$many,127.0.0.1:$k"; done
usage_err "more than 16 addresses" -n "$TEST_NQN" "$many"
is_mounted "$MNT2" && fail "a bad source was mounted"

# pf, until_pf, until_more (mpath-lib.sh) read the mount's paths file
PF=$MNT/paths

# --- the paths file ------------------------------------------------------------
[ "$(wc -l <"$MNT/paths")" = 2 ] || fail "paths: $(cat "$MNT/paths")"
S='(optimized|non-optimized|inaccessible|persistent-loss|change|unknown)'
grep -Evq "^[0-9]+ [^ ]+:[0-9]+ cntlid=[0-9]+ state=(live|connecting|failed) ana=(-|[0-9]+:$S(,[0-9]+:$S)*) reads=[0-9]+ writes=[0-9]+ inflight=[0-9]+ errors=[0-9]+ last_error=.+\$" "$MNT/paths" &&
	fail "a line of paths is not in the documented format: $(cat "$MNT/paths")"
[ "$(pf 0 addr)" = "127.0.0.1:$P0" ] || fail "path 0: $(cat "$MNT/paths")"
[ "$(pf 1 addr)" = "127.0.0.1:$P1" ] || fail "path 1: $(cat "$MNT/paths")"
[ "$(pf 0 ana)" = "1:optimized" ] || fail "path 0 ana: $(cat "$MNT/paths")"
[ "$(pf 0 last_error)" = "-" ] || fail "path 0 has an error: $(cat "$MNT/paths")"
grep -q "^iopolicy *: round-robin" "$MNT/status" || fail "status: no iopolicy: $(cat "$MNT/status")"
[ "$(grep -c '^path *: ' "$MNT/status")" = 2 ] || fail "status lists no paths: $(cat "$MNT/status")"

fio_start() {
	fio --name="$1" --filename="$MNT/n1" --size=16M --offset_increment=16M \
		--numjobs=4 --rw=randwrite --bsrange=4k-64k --ioengine=libaio \
		--iodepth=8 --direct=1 --verify=crc32c --verify_backlog=32 \
		--verify_fatal=1 --do_verify=1 --time_based --runtime="$2" \
		--group_reporting >"$T/fio.out" 2>"$T/fio.err" &
	FIO=$!
}
fio_check() {
	wait "$FIO"
	rc_=$?
	FIO=
	[ $rc_ = 0 ] || fail "$1: fio exited $rc_, failed or did not verify: $(tail -n 5 "$T/fio.err")"
	grep -q "err= 0" "$T/fio.out" || fail "$1: fio reported errors"
	grep -q "verify" "$T/fio.err" && fail "$1: fio: $(cat "$T/fio.err")"
	# a figure, not a check: the longest write completion of the run
	echo "$1: fio's longest write completion: $(awk '/ write:/ { w = 1 } w && $1 == "clat" { print $4, $2; exit }' "$T/fio.out")"
	return 0
}
fault() { ctl "$*" || fail "$*: $(cat "$T/ctl.out")"; }

# --- ana: inaccessible moves the I/O, optimized brings it back --------------------
fio_start ana 8
until_more 0 writes "$(pf 0 writes)"
until_more 1 writes "$(pf 1 writes)"
fault ana "127.0.0.1:$P0" 1 inaccessible
until_pf 0 ana 1:inaccessible
# what was in flight on path 0 completes, then nothing more goes there
until_more 1 writes $(($(pf 1 writes) + 100))
w0=$(pf 0 writes)
until_more 1 writes $(($(pf 1 writes) + 200))
[ "$(pf 0 writes)" = "$w0" ] || fail "ana: I/O went to the inaccessible path ($w0 -> $(pf 0 writes))"
[ "$(pf 0 state)" = live ] || fail "ana: path 0 is not live: $(cat "$MNT/paths")"
fault ana "127.0.0.1:$P0" 1 optimized
until_pf 0 ana 1:optimized
until_more 0 writes "$w0"
fio_check ana
echo "ana: I/O left path 0 at $w0 writes and came back: $(tr '\n' ';' <"$MNT/paths")"

# --- drop: path 0's connection closes ---------------------------------------------------
fio_start drop 8
until_more 0 writes "$(pf 0 writes)"
c0=$(pf 0 cntlid)
fault fault "drop-after:200@127.0.0.1:$P0"
# lost and back: a new association, another controller ID
t_end=$(($(now_ms) + 30000))
until [ "$(pf 0 cntlid)" != "$c0" ]; do
	[ "$(now_ms)" -lt "$t_end" ] || fail "drop: path 0 was never lost: $(cat "$MNT/paths")"
	fio_alive || fail "drop: fio ended before the drop (make it longer)"
	sleep 0.01
done
until_pf 0 state live
until_more 0 writes "$(pf 0 writes)"
fio_check drop
[ "$(pf 0 last_error)" != "-" ] || fail "drop: path 0 does not say why it was lost"
echo "drop: path 0 lost and back; $(grep -E '^(failovers|ana_retries)' "$MNT/status" | tr -s ' \n' ' ')"

# --- silent: path 1 stops answering ---------------------------------------------------------
fio_start silent 8
until_more 1 writes "$(pf 1 writes)"
fault fault "silent@127.0.0.1:$P1"
until_pf 1 state connecting
[ "$(st state)" = live ] || fail "silent: status says '$(st state)' with path 0 live"
w0=$(pf 0 writes)
until_more 0 writes $((w0 + 200))
fault fault off silent
until_pf 1 state live
until_more 1 writes "$(pf 1 writes)"
fio_check silent
# what hung on the silent path was sent again on path 0
fo=$(sed -n 's/^failovers *: //p' "$MNT/status")
[ "$fo" -gt 0 ] || fail "silent: no command failed over: $(cat "$MNT/status")"
echo "silent: path 1 left by keep-alive and back, $fo commands failed over: $(tr '\n' ';' <"$MNT/paths")"

sync
cmp "$T/ns.img" "$MNT/n1" || fail "the namespace and what the mount reads differ"
fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
wait_gone "$MPID" 10 || fail "nvmeof-mount still running after unmount"
wait "$MPID" || fail "nvmeof-mount exited $?: $(tail -n 5 "$T/mount.log")"
MPID=

# --- paths from the discovery log: no -n, the log lists the subsystem at
# both listeners; one flat mount with two paths, round-robin over both ------
"$NVMEOF_MOUNT" -f --iopolicy=round-robin "127.0.0.1:$P0" "$MNT" 2>"$T/disc.log" &
MPID=$!
i=0
until is_mounted "$MNT"; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "discovery: not mounted: $(cat "$T/disc.log")"
	kill -0 "$MPID" 2>/dev/null || fail "discovery: nvmeof-mount exited: $(cat "$T/disc.log")"
	sleep 0.05
done
[ "$(wc -l <"$MNT/paths")" = 2 ] || fail "discovery: not two paths: $(cat "$MNT/paths")"
[ "$(pf 1 addr)" = "127.0.0.1:$P1" ] || fail "discovery: path 1: $(cat "$MNT/paths")"
until_pf 1 state live
head -c 4M /dev/urandom >"$T/pat"
dd if="$T/pat" of="$MNT/n1" bs=64k seek=100 oflag=direct conv=notrunc status=none ||
	fail "discovery: write failed"
dd if="$MNT/n1" of="$T/back" bs=64k skip=100 count=64 iflag=direct status=none ||
	fail "discovery: read failed"
cmp "$T/pat" "$T/back" || fail "discovery: read back other data"
[ "$(pf 0 writes)" -gt 0 ] && [ "$(pf 1 writes)" -gt 0 ] ||
	fail "discovery: round-robin did not use both paths: $(cat "$MNT/paths")"
echo "discovery: $(tr '\n' ';' <"$MNT/paths")"
fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
wait_gone "$MPID" 10 || fail "nvmeof-mount still running after unmount"
wait "$MPID" || fail "nvmeof-mount exited $?: $(tail -n 5 "$T/disc.log")"
MPID=
exit 0
