#!/bin/sh
# A path leaves when the discovery log stops listing it.  A tree mount (two
# subsystems, no -n) of one nvmeof-target with two listeners: each
# subsystem has two paths (from the discovery log).  While fio writes and
# verifies (crc32c, 4 jobs) through one namespace file, the target drops
# its second listener (listener-remove: the socket closes, its associations
# end, the log changes with a Discovery Log Change notice): each subsystem's
# paths file shows one path, the root status counts two paths removed,
# fio goes on without an error on path 0 and its verify passes; at the end
# the namespace and what the mount reads are the same.  Every wait is for a
# state (30 s bounds are hang guards).
. "$(dirname "$0")/lib.sh"
# shellcheck source=mpath-lib.sh
. "$(dirname "$0")/mpath-lib.sh"
need fio
A=nqn.2026-11.org.example:fuse-mp-a
B=nqn.2026-11.org.example:fuse-mp-b
truncate -s 64M "$T/a.img"
start_target -n "$A" --ns "$T/a.img" -n "$B" --ns ram:4M -l 127.0.0.1:0
listener_ports

NO_NQN=1 do_mount -c 1 -k 1
PF=$MNT/$A/paths
[ -e "$PF" ] || fail "no $PF: $(ls "$MNT")"

# until_lines FILE N: wait until FILE has N lines.
until_lines() {
	t_end=$(($(now_ms) + 30000))
	until [ "$(wc -l <"$1")" = "$2" ]; do
		[ "$(now_ms)" -lt "$t_end" ] || fail "$1: not $2 lines: $(cat "$1")"
		sleep 0.02
	done
}

# --- two paths each, from the discovery log --------------------------------------
until_lines "$PF" 2
until_lines "$MNT/$B/paths" 2
[ "$(pf 0 addr)" = "127.0.0.1:$P0" ] || fail "path 0: $(cat "$PF")"
[ "$(pf 1 addr)" = "127.0.0.1:$P1" ] || fail "path 1: $(cat "$PF")"
until_pf 0 state live
until_pf 1 state live
grep -q "^paths_removed *: 0$" "$MNT/status" || fail "root status: $(cat "$MNT/status")"

# --- the second listener goes while fio writes and verifies ------------------------
# fio splits its file names at ':' (as an NQN has): a link without one
ln -s "$MNT/$A/n1" "$T/n1"
fio --name=remove --filename="$T/n1" --size=8M --offset_increment=16M \
	--numjobs=4 --rw=randwrite --bsrange=4k-64k --ioengine=libaio \
	--iodepth=8 --direct=1 --verify=crc32c --verify_backlog=32 \
	--verify_fatal=1 --do_verify=1 --time_based --runtime=10 \
	--group_reporting >"$T/fio.out" 2>"$T/fio.err" &
FIO=$!
until_more 0 writes "$(pf 0 writes)"
until_more 1 writes "$(pf 1 writes)"
ctl "listener-remove 127.0.0.1:$P1" || fail "listener-remove: $(cat "$T/ctl.out")"
until_lines "$PF" 1
until_lines "$MNT/$B/paths" 1
[ "$(pf 0 addr)" = "127.0.0.1:$P0" ] || fail "the path left is not path 0: $(cat "$PF")"
[ "$(pf 0 state)" = live ] || fail "path 0 is not live: $(cat "$PF")"
t_end=$(($(now_ms) + 30000))
until grep -q "^paths_removed *: 2$" "$MNT/status"; do
	[ "$(now_ms)" -lt "$t_end" ] || fail "root status does not count 2 paths removed: $(cat "$MNT/status")"
	sleep 0.02
done
grep -q "$A: path 1 at 127.0.0.1:$P1: no longer in the discovery log: removing the path" "$T/err" ||
	fail "no log line for the removal: $(cat "$T/err")"
grep -q "^state *: live$" "$MNT/$A/status" || fail "$A status: $(cat "$MNT/$A/status")"
# the I/O goes on, on path 0
until_more 0 writes $(($(pf 0 writes) + 200))
# the target no longer lists the listener
ctl ana || fail "ana: $(cat "$T/ctl.out")"
grep -q ":$P1 " "$T/ctl.out" && fail "the target still lists $P1: $(cat "$T/ctl.out")"
ctl "listener-remove 127.0.0.1:$P1" && fail "a second listener-remove succeeded"
grep -q "no listener" "$T/ctl.out" || fail "listener-remove twice: $(cat "$T/ctl.out")"
wait "$FIO"
rc_=$?
FIO=
[ $rc_ = 0 ] || fail "fio exited $rc_, failed or did not verify: $(tail -n 5 "$T/fio.err")"
grep -q "err= 0" "$T/fio.out" || fail "fio reported errors"
grep -q "verify" "$T/fio.err" && fail "fio: $(cat "$T/fio.err")"
echo "removed: $(tr '\n' ';' <"$PF") $(grep -E '^failovers' "$MNT/$A/status" | tr -s ' \n' ' ')"

sync
cmp "$T/a.img" "$MNT/$A/n1" || fail "the namespace and what the mount reads differ"
do_umount
exit 0
