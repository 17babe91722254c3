#!/bin/bash
# shellcheck disable=SC2016  # wait_for conditions are expanded when polled
# Multipath against Linux 6.1's nvmet in QEMU (issue 18): one subsystem
# through nvmet ports 1 and 2, nvmeof-mount over both addresses, and fio
# --verify=crc32c with 4 jobs on the mount while
#   1. port 2 is unlinked from the subsystem: the load goes on without an
#      error; the worst I/O latency of the switch is printed;
#   2. it is linked again: the path is live again and used (its counts in
#      the mount's paths file grow);
#   3. port 2's ANA group is made inaccessible: I/O moves to port 1 without
#      an error (path 2's counts stand still while path 1's grow);
#   4. it is made optimized again: I/O comes back to path 2.
# Every wait is for a state (the paths file, fio's progress), with generous
# deadlines as hang guards.  Exit 77 (skip, with the reason) when QEMU,
# fio, FUSE, or an nvmeof-mount that takes several addresses is missing;
# under CI=true that is a failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=${NVMEOF_BUILDDIR:-.}
mountprog=$builddir/fuse/nvmeof-mount
nvmeof=$builddir/cli/nvmeof
jq=$builddir/tests/cli/json_query
vm="$here/nvmet-vm"
sub=nqn.2026-11.org.example:linux-nvmet-mpath
WAIT=${NVMEOF_MPATH_WAIT:-120}   # seconds, a hang guard for every wait

say() { echo "interop: multipath: $*"; }
fail() {
	say "FAIL: $*"
	if [ -n "${mnt:-}" ] && [ -r "$mnt/paths" ]; then
		echo "--- paths"; cat "$mnt/paths"
	fi
	[ -z "${state:-}" ] || [ ! -s "$state/mount.log" ] || { echo "--- mount log (tail)"; tail -n 30 "$state/mount.log"; }
	exit 1
}
need() {
	if [ "${CI:-}" = true ]; then
		say "FAIL: $* (CI=true: a missing prerequisite is a failure, not a skip)"
		exit 1
	fi
	echo "SKIP: interop: multipath: $*"
	exit 77
}

command -v fio >/dev/null 2>&1 || need "no fio (apt-get install fio)"
[ -c /dev/fuse ] || need "no /dev/fuse"
command -v fusermount3 >/dev/null 2>&1 || need "no fusermount3"
if [ "$(id -u)" -ne 0 ] && [ ! -u "$(command -v fusermount3)" ]; then
	need "not root and fusermount3 is not set-uid"
fi
[ -x "$mountprog" ] && [ -x "$nvmeof" ] && [ -x "$jq" ] ||
	fail "no $mountprog, $nvmeof or $jq (make check builds them)"
# Contract of the multipath mount: HOST:PORT,HOST:PORT and -o iopolicy=.
"$mountprog" --help 2>&1 | grep -q 'iopolicy' ||
	need "this nvmeof-mount does not take several addresses yet (no iopolicy= in its --help)"

"$vm" prepare
rc=$?
[ $rc = 0 ] || exit $rc
state=$(mktemp -d "${TMPDIR:-/tmp}/nvmet-vm.XXXXXX")
mnt=
fiopid=
cleanup() {
	if [ -n "$fiopid" ]; then
		kill "$fiopid" 2>/dev/null
		wait "$fiopid" 2>/dev/null
	fi
	if [ -n "$mnt" ] && grep -qF " $mnt " /proc/self/mountinfo 2>/dev/null; then
		fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	fi
	"$vm" stop "$state" >/dev/null 2>&1
	rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
"$vm" start "$state" || fail "the guest did not start"
p1=$(cat "$state/port")
p2=$(cat "$state/port2" 2>/dev/null) || fail "nvmet-vm start wrote no port2"
a1=127.0.0.1:$p1
a2=127.0.0.1:$p2
say "Linux kernel nvmet $(cat "$state/kver"), paths $a1 (port 1) and $a2 (port 2)"
"$vm" exec "$state" "subsys_add $sub mpath0001 && ns_add $sub 1 32 zero &&
	port_link $sub 1 && port_link $sub 2" || fail "cannot set up $sub on ports 1 and 2"

mnt=$state/mnt
mkdir "$mnt"
"$mountprog" -n "$sub" -k 2 -c 1 -i 2 --log stderr -o iopolicy=round-robin \
	"$a1,$a2" "$mnt" 2>"$state/mount.log" || fail "nvmeof-mount $a1,$a2"

now_ms() { local t=${EPOCHREALTIME/,/.}; echo $(( ${t%.*} * 1000 + 10#${t#*.} / 1000 )); }

# pathf ADDR KEY: a field of ADDR's line in the paths file (contract:
# "ID ADDR cntlid= state= ana= reads= writes= inflight= errors= last_error=")
pathf() {
	awk -v a="$1" -v k="$2=" '$2 == a {
		for (i = 3; i <= 9 && i <= NF; i++)
			if (index($i, k) == 1) { print substr($i, length(k) + 1); exit }
	}' "$mnt/paths" 2>/dev/null
}
ios() { # ADDR: reads + writes sent on that path so far
	local r w
	r=$(pathf "$1" reads)
	w=$(pathf "$1" writes)
	echo $((${r:-0} + ${w:-0}))
}
# wait_for WHAT CONDITION...: poll until the shell condition holds
wait_for() {
	local what=$1 until=$((SECONDS + WAIT))
	shift
	until eval "$*"; do
		[ $SECONDS -lt $until ] || fail "$what: not within $WAIT s"
		[ -z "$fiopid" ] || kill -0 "$fiopid" 2>/dev/null || fail "$what: fio ended early"
		sleep 0.05
	done
}
fio_alive() { kill -0 "$fiopid" 2>/dev/null || fail "fio ended early"; }

[ -r "$mnt/paths" ] || fail "the mount has no paths file"
wait_for "both paths live" '[ "$(pathf $a1 state)" = live ] && [ "$(pathf $a2 state)" = live ]'
[ "$(wc -l <"$mnt/paths")" = 2 ] || fail "expected 2 lines in paths"
"$nvmeof" list-subsys -o json >"$state/ls.json" || fail "nvmeof list-subsys -o json"
sed -n '/"NQN": "'"$sub"'"/,/^    }/p' "$state/ls.json" | grep -c '"Transport"' |
	grep -qx 2 || fail "list-subsys does not list 2 paths of $sub: $(cat "$state/ls.json")"

# fio: 4 jobs of 4 KiB random writes, each on its own 4 MiB of the 32 MiB
# namespace, crc32c in every block and verified 64 blocks after it was
# written (verify_backlog), until stopped; rate-limited so that the guest
# (TCG) is not saturated and a stall is the switch, not a queue.  Every
# I/O's latency is logged with its completion time (epoch ms).
fio --name=mpath --filename="$mnt/n1" --rw=randwrite --bs=4k --ioengine=libaio \
	--direct=1 --iodepth=4 --numjobs=4 --size=4M --offset_increment=4M \
	--verify=crc32c --verify_fatal=1 --verify_backlog=64 --randseed=18 \
	--time_based --runtime=1800 --rate_iops=25 \
	--write_lat_log="$state/lat" --log_avg_msec=0 --log_unix_epoch=1 \
	--output-format=json --output="$state/fio.json" >"$state/fio.out" 2>&1 &
fiopid=$!

# worst T0 T1: the longest latency of an I/O that was in flight at some
# time between T0 and T1 (epoch ms), from fio's latency logs (which fio
# writes when it ends)
worst() {
	cat "$state"/lat_lat.*.log 2>/dev/null | awk -F', *' -v t0="$1" -v t1="$2" '
		{ done = $1; lat = $2 / 1e6; start = done - lat
		  if (start <= t1 && done >= t0) { n++; if (lat > max) max = lat } }
		END { printf "%.1f ms over %d I/Os", max, n }'
}

i1=$(ios "$a1")
i2=$(ios "$a2")
wait_for "fio's I/O on both paths" '[ $(ios $a1) -gt $((i1 + 20)) ] && [ $(ios $a2) -gt $((i2 + 20)) ]'

# 1. port 2 unlinked: nvmet ends its controllers there, the connection closes
t0=$(now_ms)
"$vm" exec "$state" "port_unlink $sub 2" || fail "port_unlink $sub 2"
wait_for "path 2 down after the unlink" '[ "$(pathf $a2 state)" != live ]'
t1=$(now_ms)
i1=$(ios "$a1")
wait_for "I/O on path 1 after the unlink" '[ $(ios $a1) -gt $((i1 + 50)) ]'
fio_alive
win_unlink="$t0 $t1"
say "unlink port 2: path 2 $(pathf "$a2" state) after $((t1 - t0)) ms, fio goes on"

# 2. linked again: the path reconnects and is used
t0=$(now_ms)
"$vm" exec "$state" "port_link $sub 2" || fail "port_link $sub 2"
wait_for "path 2 live again" '[ "$(pathf $a2 state)" = live ]'
t1=$(now_ms)
i2=$(ios "$a2")
wait_for "I/O on path 2 after the relink" '[ $(ios $a2) -gt $((i2 + 20)) ]'
win_relink="$t0 $(now_ms)"
say "relink port 2: live again after $((t1 - t0)) ms, and used ($i2 -> $(ios "$a2") I/Os)"

# 3. port 2's ANA group 1 inaccessible: I/O moves to path 1
t0=$(now_ms)
"$vm" exec "$state" "ana_set 2 1 inaccessible" || fail "ana_set 2 1 inaccessible"
wait_for "path 2's ANA state inaccessible" '[ "$(pathf $a2 ana)" = 1:inaccessible ]'
wait_for "path 2 drained" '[ "$(pathf $a2 inflight)" = 0 ]'
t1=$(now_ms)
i2=$(ios "$a2")
i1=$(ios "$a1")
wait_for "I/O on path 1 while path 2 is inaccessible" '[ $(ios $a1) -gt $((i1 + 100)) ]'
[ "$(ios "$a2")" = "$i2" ] ||
	fail "I/O went to the inaccessible path 2 ($i2 -> $(ios "$a2"))"
fio_alive
win_ana="$t0 $t1"
say "port 2 inaccessible: seen after $((t1 - t0)) ms, path 2 unused while path 1 did $(($(ios "$a1") - i1)) I/Os"

# 4. optimized again: I/O comes back
"$vm" exec "$state" "ana_set 2 1 optimized" || fail "ana_set 2 1 optimized"
wait_for "path 2's ANA state optimized" '[ "$(pathf $a2 ana)" = 1:optimized ]'
wait_for "I/O on path 2 once optimized" '[ $(ios $a2) -gt $((i2 + 20)) ]'
say "port 2 optimized again: path 2 used ($i2 -> $(ios "$a2") I/Os)"

# fio stops on SIGINT (its exit status is then 128); what counts is that
# no job saw an error (verify_fatal: a mismatch is an error) and all wrote
kill -INT "$fiopid"
wait "$fiopid"
frc=$?
fiopid=
sed -n '/^{/,$p' "$state/fio.json" >"$state/fio.only.json"
n=$("$jq" '#jobs' <"$state/fio.only.json") || fail "fio's JSON output: $(head -c 2000 "$state/fio.json")"
[ "$n" = 4 ] || fail "fio reported $n jobs, expected 4"
for j in 0 1 2 3; do
	e=$("$jq" "jobs.$j.error" <"$state/fio.only.json") || fail "fio job $j: no error field"
	w=$("$jq" "jobs.$j.write.io_bytes" <"$state/fio.only.json") || fail "fio job $j: no io_bytes"
	r=$("$jq" "jobs.$j.read.io_bytes" <"$state/fio.only.json") || fail "fio job $j: no read io_bytes"
	[ "$e" = 0 ] || { cat "$state/fio.out"; fail "fio job $j: error $e (exit $frc)"; }
	[ "$w" -gt 0 ] && [ "$r" -gt 0 ] || fail "fio job $j wrote $w and verified $r bytes"
done
grep -qi 'verify.*fail\|bad magic\|crc32c.*wanted' "$state/fio.out" "$state/fio.json" &&
	fail "fio reported a verify failure"
ls "$state"/lat_lat.*.log >/dev/null 2>&1 || fail "fio wrote no latency logs"
# shellcheck disable=SC2086  # "T0 T1"
say "worst I/O latency during the switch: unlink port 2 $(worst $win_unlink)," \
	"relink until path 2 is used $(worst $win_relink), port 2 inaccessible $(worst $win_ana);" \
	"the whole run $(worst 0 99999999999999)"
say "fio --verify=crc32c, 4 jobs: no error (exit $frc after SIGINT)"
"$nvmeof" list-subsys | sed -n "\|NQN=$sub|,/^\$/p"
fusermount3 -u "$mnt" || fail "fusermount3 -u $mnt"
mnt=
say "ok"
