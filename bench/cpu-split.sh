#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/cpu-split.sh: where the initiator's CPU goes, per I/O, for
# nvmeof-mount and for the no-op FUSE daemon (bench/nullfs) on the same
# fio jobs as bench/run's throughput rows.  The target runs on CPU 0;
# fio and the daemon on CPU 1, which `perf record -C 1 -g` samples for
# --time seconds in the middle of each fio run.  Each sample is put in
# one bucket by its call chain:
#
#   fio         fio's own time (its submissions, completions, FUSE's
#               kernel side of the I/O it issues)
#   FUSE read   the daemon reading requests from /dev/fuse (fuse_dev_read)
#   FUSE reply  the daemon answering them (fuse_dev_write), with the wake-up
#               of fio it causes
#   send        tcp_sendmsg: the copy into the socket and, on loopback, the
#               delivery into the target's socket and the target's wake-up
#   receive     tcp_recvmsg: the copy out of the socket
#   wait        epoll_wait, poll, sched_yield (sleeps and busy-polls)
#   other       the rest of the daemon (its own code, libfuse, libc, ...)
#   idle        CPU 1 not busy
#
# and printed in microseconds of CPU 1 per I/O (the bucket's share of the
# samples, over fio's IOPS).  Then, per workload, what the mount's socket
# calls alone cost the no-op daemon's IOPS: the no-op kept CPU 1 busy, so
# a daemon that did all it does plus those calls could keep at most
# no-op / (no-op + send + receive) of its IOPS; issue 20's goal beside it.
# That bound holds for a daemon that moves the data through the socket as
# this one does (a copy each way) and batches its commands as it does
# (for 4K, the send's cost per I/O falls with more commands per
# sendmsg); the rest of the mount's difference is printed beside it.  Prints figures; never fails on them.  Needs perf
# (linux-perf) and root or kernel.perf_event_paranoid <= 0.
#
#   bench/cpu-split.sh [--time SECONDS] [--builddir DIR] [--no-install]
set -u
SECS=2
BUILDDIR=
INSTALL=1
CPU_T=0
CPU_I=1
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--time) SECS=${2:?}; shift ;;
	--builddir) BUILDDIR=${2:?}; shift ;;
	--no-install) INSTALL= ;;
	-h | --help) bench_usage; exit 0 ;;
	*) echo "cpu-split.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
	esac
	shift
done
case "$SECS" in '' | *[!0-9]* | 0) echo "cpu-split.sh: --time takes a whole number of seconds" >&2; exit 64 ;; esac
[ "$(nproc)" -ge 2 ] || bench_die "needs 2 CPUs (target on CPU $CPU_T, initiator on CPU $CPU_I)"

bench_programs "$INSTALL" "$BUILDDIR"
for c in perf fio jq taskset; do
	command -v "$c" >/dev/null 2>&1 || bench_die "$c is not installed (scripts/bench-packages)"
done
bench_init
perf record -C "$CPU_I" -o "$BT/probe.data" -- true >/dev/null 2>"$BT/probe.err" ||
	bench_die "perf cannot sample CPU $CPU_I: $(tail -n 1 "$BT/probe.err")"
NULLFS=$top_builddir/bench/nullfs
[ -x "$NULLFS" ] || bench_die "$NULLFS is not built"

bench_target "$CPU_T" -n "$BENCH_NQN" --ns ram:1G --busy-poll 50 ||
	bench_die "nvmeof-target did not start"
bench_mount "$CPU_I" "$BT/mnt" || bench_die "nvmeof-mount failed"
bench_spawn_mount "$CPU_I" "$BT/null" "$BT/nullfs.log" "$NULLFS" "$BT/null" ||
	bench_die "bench/nullfs failed"
# Reads read data, not holes.
taskset -c "$CPU_I" fio --name=prefill --filename="$BT/mnt/n1" --rw=write --bs=1M \
	--ioengine=libaio --iodepth=8 --direct=1 --output-format=terse \
	>/dev/null 2>"$BT/prefill.err" || bench_log "prefill failed: $(head -n 2 "$BT/prefill.err")"

# cpu_split FILE IOPS: "fio read reply send recv wait other idle busy" in us
# of CPU 1 per I/O, from perf script's samples (comm line, then frames).
cpu_split() {
	perf script -i "$1" -F comm,ip,sym 2>/dev/null | awk -v iops="$2" '
		function flush() {
			if (comm == "") return
			if (comm == "swapper") b = "idle"
			else if (comm == "fio") b = "fio"
			else if (st ~ / fuse_dev_(splice_)?read /) b = "read"
			else if (st ~ / fuse_dev_(splice_)?write /) b = "reply"
			else if (st ~ / tcp_sendmsg /) b = "send"
			else if (st ~ / tcp_recvmsg /) b = "recv"
			else if (st ~ / (do_epoll_wait|do_sys_poll|__x64_sys_sched_yield) /) b = "wait"
			else b = "other"
			n[b]++; tot++; comm = ""
		}
		/^\t/ { st = st $2 " "; next }
		NF { flush(); comm = $1; st = " "; next }
		{ flush() }
		END { flush()
		      if (!tot || iops <= 0) { print "-"; exit }
		      k = 1e6 / iops / tot
		      printf "%.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f\n", n["fio"] * k, n["read"] * k,
			n["reply"] * k, n["send"] * k, n["recv"] * k, n["wait"] * k, n["other"] * k,
			n["idle"] * k, (tot - n["idle"]) * k }'
}

# one ID DAEMON FILE FIO-ARGS: fio on FILE, CPU 1 sampled meanwhile;
# prints "IOPS <split>".
one() {
	_json=$BT/fio-$1-$2.json
	# shellcheck disable=SC2086
	taskset -c "$CPU_I" fio --name="$1" --filename="$3" --direct=1 $4 \
		--runtime=$((SECS + 2)) --time_based --output-format=json >"$_json" 2>"$_json.err" &
	_fio=$!
	bench_track "$_fio"
	sleep 1
	perf record -C "$CPU_I" -g -o "$BT/$1-$2.data" -- sleep "$SECS" >/dev/null 2>"$BT/perf.err" ||
		bench_log "perf record failed: $(tail -n 1 "$BT/perf.err")"
	wait "$_fio" || { bench_log "fio $2 $1 failed: $(head -n 2 "$_json.err")"; bench_untrack "$_fio"; return 1; }
	bench_untrack "$_fio"
	_iops=$(jq -r '.jobs[0] | (.read.iops + .write.iops) | floor' "$_json")
	echo "$_iops $(cpu_split "$BT/$1-$2.data" "$_iops")"
}

echo "nvmeof-fuse CPU split: commit $(git -C "$BENCH_SRCDIR" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u '+%Y-%m-%d %H:%M UTC'); $(uname -r)"
echo "target on CPU $CPU_T (ram:1G, --busy-poll 50); fio and the FUSE daemon on CPU $CPU_I, sampled $SECS s per row"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-20s %-6s %8s %6s %6s %6s %6s %6s %6s %6s %6s %6s\n' workload daemon IOPS fio \
	"F.read" "F.rep" send recv wait other idle busy
BOUNDS=
for spec in "rw4k_qd32|80|4K randwrite QD32|--rw=randwrite --bs=4k --ioengine=libaio --iodepth=32" \
	"sr128k_qd16|75|128K seq read QD16|--rw=read --bs=128k --ioengine=libaio --iodepth=16" \
	"sw128k_qd16|75|128K seq write QD16|--rw=write --bs=128k --ioengine=libaio --iodepth=16" \
	"rr4k_qd32|85|4K randread QD32|--rw=randread --bs=4k --ioengine=libaio --iodepth=32"; do
	id=${spec%%|*} rest=${spec#*|}
	goal=${rest%%|*} rest=${rest#*|}
	name=${rest%%|*} args=${rest#*|}
	n=$(one "$id" noop "$BT/null/n1" "$args") || continue
	m=$(one "$id" mount "$BT/mnt/n1" "$args") || continue
	# $n and $m split into their figures
	# shellcheck disable=SC2086
	printf '%-20s %-6s %8s %6s %6s %6s %6s %6s %6s %6s %6s %6s\n' "$name" no-op $n
	# shellcheck disable=SC2086
	printf '%-20s %-6s %8s %6s %6s %6s %6s %6s %6s %6s %6s %6s\n' "" mount $m
	# shellcheck disable=SC2086
	BOUNDS="$BOUNDS$(echo "$n" "$m" | awk -v name="$name" -v g="$goal" '{
		nb = $10; nidle = $9; sr = $15 + $16; mb = $20
		idle = nb + nidle > 0 ? 100 * nidle / (nb + nidle) : 100
		cap = nb + sr > 0 ? 100 * nb / (nb + sr) : 0
		if (idle > 5)
			v = sprintf("no bound (the no-op left CPU 1 %.0f%% idle)", idle)
		else if (cap >= g)
			v = "within it"
		else
			v = "beyond it"
		printf "  %-20s %6.2f + %5.2f us = %3.0f%%  goal %s%%: %s; measured %3.0f%%, the rest of the mount: %+.2f us/IO\n",
			name, nb, sr, cap, g, v,
			($1 > 0 ? 100 * $11 / $1 : 0), mb - nb - sr }')
"
done
echo "(us of CPU $CPU_I per I/O; F.read / F.rep: the daemon reading / answering /dev/fuse; busy: all but idle)"
echo
echo "The no-op daemon's busy CPU per I/O plus the mount's socket calls (send + recv), and the share"
echo "of the no-op's IOPS that leaves (CPU $CPU_I was the limit of both); the rest is what the mount adds beyond:"
printf '%s' "$BOUNDS"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
