#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/rss-soak.sh: does the memory of nvmeof-mount stay flat under a
# long fio verify run?  Mounts a RAM namespace of a local nvmeof-target
# and runs two fio jobs that write and read back (crc32c) for --duration:
#   aligned    random writes of 4 KiB to 1 MiB, libaio QD16, O_DIRECT
#   unaligned  random writes of 1000 bytes (read-modify-write in the
#              daemon), psync, O_DIRECT
# The daemon's VmRSS and VmHWM (/proc/PID/status), and from its status
# file the FUSE receive buffers it made and the KiB of data buffers it
# holds, are printed every --interval seconds; then RSS at start, after
# the first interval (pools warm), at the end, and a verdict on the growth
# under load: from the first sample to the last, per minute, and in the
# second half of the run.  "flat": the last sample is within 1% of the
# first; "settled": it is not, but the second half grew less than that;
# else "growing".  Prints figures; never fails on them.
#
#   bench/rss-soak.sh [--duration SECONDS] [--interval SECONDS]
#                     [--builddir DIR] [--no-install]
#
#   --duration  default 600 (10 minutes)
#   --interval  default 10
#   --builddir  use the programs of this build instead of building
#               build-bench/ (a sanitizer build's RSS says little)
set -uo pipefail

DURATION=600
INTERVAL=10
BUILDDIR=
INSTALL=1
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--duration) DURATION=${2:?}; shift ;;
	--interval) INTERVAL=${2:?}; shift ;;
	--builddir) BUILDDIR=${2:?}; shift ;;
	--no-install) INSTALL= ;;
	-h | --help) bench_usage; exit 0 ;;
	*) echo "rss-soak.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
	esac
	shift
done
case "$DURATION$INTERVAL" in *[!0-9]*) echo "rss-soak.sh: numbers, please" >&2; exit 64 ;; esac
if [ "$INTERVAL" -lt 1 ] || [ "$DURATION" -lt "$INTERVAL" ]; then
	echo "rss-soak.sh: need 1 <= --interval <= --duration" >&2
	exit 64
fi

bench_programs "$INSTALL" "$BUILDDIR"
for c in fio jq; do command -v "$c" >/dev/null || bench_die "$c is missing"; done

bench_init
bench_target "" -n "$BENCH_NQN" --ns ram:1G || bench_die "nvmeof-target did not start"
bench_mount "" "$BT/mnt" || bench_die "nvmeof-mount failed"
FILE=$BT/mnt/n1
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

read -r RSS0 HWM0 < <(bench_rss "$MPID")
echo "rss-soak: nvmeof-mount pid $MPID ($(bench_status_field "$BT/mnt" io_queues) I/O queues of" \
	"$(bench_status_field "$BT/mnt" queue_size)), fio verify for ${DURATION}s, RSS every ${INTERVAL}s"
fio --output-format=json --output="$BT/fio.json" \
	--filename="$FILE" --direct=1 --time_based --runtime="$DURATION" \
	--verify=crc32c --verify_backlog=64 --verify_fatal=1 --verify_state_save=0 \
	--name=aligned --rw=randwrite --bsrange=4k-1M --ioengine=libaio --iodepth=16 \
	--offset=0 --size=768M \
	--name=unaligned --rw=randwrite --bs=1000 --ioengine=psync \
	--offset=768M --size=256M >"$BT/fio.out" 2>&1 &
FIO_PID=$!
bench_track "$FIO_PID"

# One sample: "commands buffers buffer-MiB" of the status file.
status_cols() {
	awk -F' *: *' '{ v[$1] = $2 } END {
		printf "%12s %8s %8.1f", v["commands"], v["buffers"], v["buffer_kib"] / 1024 }' \
		"$BT/mnt/status" 2>/dev/null
}
printf '%8s %11s %11s %12s %8s %8s\n' "t (s)" "VmRSS MiB" "VmHWM MiB" commands buffers "buf MiB"
printf '%8d %11s %11s %s\n' 0 "$(mib "$RSS0")" "$(mib "$HWM0")" "$(status_cols)"
t0=$(date +%s)
RSS1='' RSSN=$RSS0 HWMN=$HWM0 T_N=0
SAMPLES=
while bench_alive "$FIO_PID"; do
	sleep "$INTERVAL"
	bench_alive "$FIO_PID" || break
	read -r RSSN HWMN < <(bench_rss "$MPID")
	T_N=$(($(date +%s) - t0))
	[ -n "$RSS1" ] || RSS1=$RSSN
	SAMPLES="$SAMPLES $T_N:$RSSN"
	printf '%8d %11s %11s %s\n' "$T_N" "$(mib "$RSSN")" "$(mib "$HWMN")" "$(status_cols)"
done
wait "$FIO_PID"
FIO_RC=$?
bench_untrack "$FIO_PID"
read -r RSSE HWME < <(bench_rss "$MPID")
: "${RSS1:=$RSSN}"

echo "VmRSS at start (mounted, idle): $(mib "$RSS0") MiB; after the first ${INTERVAL}s: $(mib "$RSS1") MiB;" \
	"at the end (fio done): $(mib "$RSSE") MiB, last sample under load $(mib "$RSSN") MiB; peak (VmHWM) $(mib "$HWME") MiB"
# The verdict: the growth under load, whole and in the second half.
echo "${SAMPLES# }" | tr ' ' '\n' | awk -F: '
	$1 != "" { t[++n] = $1; r[n] = $2 }
	END {
		if (n < 2) { print "verdict: too few samples (make --duration longer)"; exit }
		g = r[n] - r[1]; dt = t[n] - t[1]
		for (m = 1; m < n && t[m] < (t[1] + t[n]) / 2; m++)
			;
		h = r[n] - r[m]; dh = t[n] - t[m]
		lim = r[1] / 100
		v = (g <= lim && g >= -lim) ? "flat" : (h <= lim ? "settled" : "growing")
		printf "growth under load, first sample to last (%d s): %+d KiB (%+.1f KiB per minute); second half (%d s): %+d KiB (%+.1f KiB per minute)\n",
			dt, g, g * 60 / dt, dh, h, (dh > 0 ? h * 60 / dh : 0)
		printf "verdict: %s (within 1%% of %.1f MiB is %d KiB)\n", v, r[1] / 1024, lim
	}'
read -r ERR W R < <(jq -r '"\([.jobs[].error] | add) \([.jobs[].write.total_ios] | add)" +
	" \([.jobs[].read.total_ios] | add)"' "$BT/fio.json" 2>/dev/null)
if [ "$FIO_RC" = 0 ] && [ "${ERR:-1}" = 0 ]; then
	echo "fio verify: passed ($W writes, $R verifying reads)"
else
	echo "fio verify: FAILED (exit $FIO_RC, error ${ERR:-?}):"
	grep -v '^$' "$BT/fio.out" | head -n 10 | sed 's/^/  /'
fi
