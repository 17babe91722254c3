#!/bin/sh
# fio writes and verifies (crc32c; 4 jobs, libaio, O_DIRECT) through the
# mount while nvmeof-target misbehaves, one fault per run:
#   drop    the connection is closed after N commands, three times
#   delay   answers held beyond --io-timeout: Abort, then a new association
#   silent  the target stops answering: keep alive notices within KATO
#           plus slack
#   ddgst   (data digests on) C2HData digests damaged, three times: the
#           reads are sent again
# Each time fio finishes without an error and its verify passes (every
# block read back equals what was written), the daemon logged the
# reconnects, status counts the commands sent again, and the unmount is
# clean with no process left.  After the drop run the namespace file is
# compared with what a new mount reads.
. "$(dirname "$0")/lib.sh"
need fio
truncate -s 64M "$T/ns.img"
start_target -v -n "$TEST_NQN" --ns "$T/ns.img"

now_ms() { date +%s%3N; }
fault() { ctl "fault $1" || fail "fault $1: $(cat "$T/ctl.out")"; }

# mount_fg NAME [options]: nvmeof-mount in the foreground, its log (each
# state change, in words) in $T/NAME.log.
mount_fg() {
	log=$T/$1.log
	shift
	"$NVMEOF_MOUNT" -f -n "$TEST_NQN" -c 1 "$@" "$ADDR" "$MNT" 2>"$log" &
	MPID=$!
	i=0
	until is_mounted "$MNT"; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "not mounted: $(cat "$log")"
		kill -0 "$MPID" 2>/dev/null || fail "nvmeof-mount exited: $(cat "$log")"
		sleep 0.05
	done
}

# fio_start NAME SECONDS: 4 jobs, each writes its 16 MiB again and again
# and reads back what it wrote after each pass (time_based), and every
# 32 blocks (verify_backlog), so that reads meet the faults too.
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
	return 0
}
fio_alive() { [ "$(sed -n 's/^[^)]*) \(.\).*/\1/p' "/proc/$FIO/stat" 2>/dev/null)" != Z ] && kill -0 "$FIO" 2>/dev/null; }

# wait_reconnects N SECONDS: until status counts more than N reconnects and
# the association is live again.
wait_reconnects() {
	t_end=$(($(now_ms) + $2 * 1000))
	until [ "$(st reconnects)" -gt "$1" ] && [ "$(st state)" = live ]; do
		[ "$(now_ms)" -lt "$t_end" ] || return 1
		sleep 0.02
	done
}

# until_not_live NAME MS: until the association is seen lost (or has
# already come back: a reconnect can be quicker than a look at status).
until_not_live() {
	t_end=$(($(now_ms) + $2))
	until [ "$(st state)" != live ] || [ "$(st reconnects)" -gt "$r0" ]; do
		[ "$(now_ms)" -lt "$t_end" ] || fail "$1: still live $2 ms after the fault"
		sleep 0.01
	done
}

# umount_clean NAME: the daemon exits by itself, nothing stays mounted,
# and the target holds no association any more.
umount_clean() {
	fusermount3 -u "$MNT" || fail "$1: fusermount3 -u failed"
	wait_gone "$MPID" 10 || fail "$1: nvmeof-mount (pid $MPID) still running after unmount"
	wait "$MPID" || fail "$1: nvmeof-mount exited $?: $(tail -n 5 "$T/$1.log")"
	MPID=
	is_mounted "$MNT" && fail "$1: $MNT still mounted"
	i=0
	while [ "$(live_associations)" != 0 ]; do
		i=$((i + 1))
		[ $i -lt 50 ] || fail "$1: the target still holds an association after the unmount"
		sleep 0.1
	done
}

# log_count NAME: the reconnects the daemon logged.
log_count() { grep -c ': live: reconnected ' "$T/$1.log"; }

# NVMEOF_FAULTS: the cases to run (default all: drop delay silent ddgst);
# run-tests' ThreadSanitizer stage runs "drop" alone (reconnects under fio).
runs() {
	case " ${NVMEOF_FAULTS:-drop delay silent ddgst} " in *" $1 "*) return 0 ;; esac
	return 1
}

T0=$(now_ms)

# --- drop: the first queue to answer 200 commands closes, three times -----
if runs drop; then
mount_fg drop -G --io-timeout 5
fio_start drop 8
for k in 1 2 3; do
	r0=$(st reconnects)
	fault drop-after:200
	wait_reconnects "$r0" 15 || fail "drop $k: no reconnect within 15 s ($(st state))"
	fio_alive || fail "drop $k: fio ended before the drop (make it longer)"
done
fio_check drop
[ "$(st reconnects)" = 3 ] || fail "drop: $(st reconnects) reconnects for 3 drops"
[ "$(st retries)" -gt 0 ] || fail "drop: status counts no command sent again"
[ "$(log_count drop)" = 3 ] || fail "drop: $(log_count drop) reconnects logged: $(cat "$T/drop.log")"
echo "drop: 3 outages, 3 reconnects, $(st retries) commands sent again, $(($(now_ms) - T0)) ms"
umount_clean drop
# What the target holds is what a new mount (a new association) reads.
mount_fg drop-reread
cmp "$T/ns.img" "$MNT/n1" || fail "drop: the namespace and what a new mount reads differ"
umount_clean drop-reread
fi

# --- delay: answers 2.5 s late, --io-timeout 1 -----------------------------
if runs delay; then
T1=$(now_ms)
mount_fg delay --io-timeout 1
fio_start delay 5
sleep 0.5
r0=$(st reconnects)
t0=$(now_ms)
fault delay:2500
until_not_live delay 15000
lost=$(($(now_ms) - t0))
# disarmed before the association built to recover is held up too
ctl "fault off delay" || fail "fault off delay"
# 1 s to the Abort; the target answers "not aborted", so the association
# goes at once
[ "$lost" -ge 900 ] || fail "delay: lost after $lost ms, before --io-timeout"
[ "$lost" -le 10000 ] || fail "delay: lost only after $lost ms (--io-timeout 1)"
wait_reconnects "$r0" 15 || fail "delay: no reconnect within 15 s ($(st state))"
fio_check delay
grep ': reconnecting: ' "$T/delay.log" | grep -q 'got no completion within 1000 ms, nor after an Abort (the controller did not abort it)' ||
	fail "delay: the reason is not the I/O timeout after an Abort: $(cat "$T/delay.log")"
[ "$(log_count delay)" -ge 1 ] || fail "delay: no reconnect logged: $(cat "$T/delay.log")"
[ "$(st retries)" -gt 0 ] || fail "delay: status counts no command sent again"
[ "$(st aborts)" -gt 0 ] || fail "delay: status counts no Abort"
echo "delay: lost after $lost ms, $(st reconnects) reconnect(s), $(st aborts) Abort(s), $(st retries) commands sent again, $(($(now_ms) - T1)) ms"
umount_clean delay
fi

# --- silent: nothing is answered any more, KATO 2 s ------------------------
if runs silent; then
T1=$(now_ms)
mount_fg silent -k 2 --io-timeout 30
fio_start silent 6
sleep 0.5
r0=$(st reconnects)
t0=$(now_ms)
fault silent@all
until_not_live silent 10000
noticed=$(($(now_ms) - t0))
ctl "fault off silent" || fail "fault off silent"
# Keep Alive goes every KATO/2 and is missed KATO after it was sent:
# between 2 and 3 s; the rest is slack for a loaded machine.
[ "$noticed" -le 5000 ] || fail "silent: noticed after $noticed ms (KATO 2000 ms)"
wait_reconnects "$r0" 15 || fail "silent: no reconnect within 15 s ($(st state))"
fio_check silent
grep ': reconnecting: ' "$T/silent.log" | grep -q 'no Keep Alive completion within KATO (2000 ms)' ||
	fail "silent: keep alive did not notice: $(cat "$T/silent.log")"
[ "$(log_count silent)" -ge 1 ] || fail "silent: no reconnect logged: $(cat "$T/silent.log")"
[ "$(st retries)" -gt 0 ] || fail "silent: status counts no command sent again"
echo "silent: noticed after $noticed ms, $(st retries) commands sent again, $(($(now_ms) - T1)) ms"
umount_clean silent
fi

# --- ddgst: three damaged C2HData digests, data digests on -----------------
if runs ddgst; then
T1=$(now_ms)
mount_fg ddgst -G -g
fio_start ddgst 4
for k in 1 2 3; do
	sleep 0.3
	fault corrupt-ddgst
	i=0
	while ctl "fault list" && grep -q corrupt-ddgst "$T/ctl.out"; do
		i=$((i + 1))
		[ $i -lt 500 ] || fail "ddgst $k: the fault did not fire within 10 s"
		fio_alive || fail "ddgst $k: fio ended before the fault fired"
		sleep 0.02
	done
done
fio_check ddgst
[ "$(st reconnects)" = 0 ] || fail "ddgst: $(st reconnects) reconnects; a damaged read is only sent again"
[ "$(st retries)" = 3 ] || fail "ddgst: $(st retries) commands sent again, want 3"
[ "$(grep -c 'fault corrupt-ddgst fires' "$T/target.log")" = 3 ] ||
	fail "ddgst: the target damaged $(grep -c 'fault corrupt-ddgst fires' "$T/target.log") digests, not 3"
echo "ddgst: 3 damaged digests, $(st retries) commands sent again, $(($(now_ms) - T1)) ms"
umount_clean ddgst
fi
echo "all: $(($(now_ms) - T0)) ms"
exit 0
