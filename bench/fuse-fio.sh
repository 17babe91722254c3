#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/fuse-fio.sh: fio on an nvmeof-mount of a local nvmeof-target, next
# to `nvmeof perf` on the same target (the library without FUSE), so the
# cost of the FUSE layer shows: 4 KiB random I/O at QD1 and 32, 128 KiB and
# 1 MiB sequential, each on both paths, and the ratio of the two.
# Prints figures; never passes or fails on them.
#
#   bench/fuse-fio.sh [SECONDS]
#
# Environment: NVMEOF_MOUNT, NVMEOF_TARGET, NVMEOF (the CLI), top_builddir;
# NS (target namespace spec, default ram:1G), QUEUES (-i, default 2),
# MOUNT_OPTS (more nvmeof-mount options), TARGET_OPTS (more target options).
# A quick look on a build of your own; bench/run is the whole suite (it
# builds its own optimised tree).  Shares its plumbing with it: bench/lib.sh.
set -u

secs=${1:-10}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
: "${NS:=ram:1G}"
: "${QUEUES:=2}"
: "${MOUNT_OPTS:=}"
: "${TARGET_OPTS:=}"

bench_bins
command -v fio >/dev/null 2>&1 || bench_die "fio is not installed (apt-get install fio)"
[ -c /dev/fuse ] || bench_die "no /dev/fuse"

bench_init
# shellcheck disable=SC2086
bench_target "" -n "$BENCH_NQN" --ns "$NS" $TARGET_OPTS || exit 1
ADDR=$TADDR
NQN=$BENCH_NQN
# shellcheck disable=SC2086
bench_mount "" "$BT/mnt" -i "$QUEUES" $MOUNT_OPTS || exit 1
F=$BT/mnt/n1
hz=$(getconf CLK_TCK)

command -v jq >/dev/null 2>&1 || bench_die "jq is not installed (apt-get install jq)"
[ -x "$NVMEOF" ] || bench_die "no nvmeof CLI at $NVMEOF (build cli/)"

echo "nvmeof-mount bench: $ADDR, namespace $NS, mount with $QUEUES I/O queues, ${secs}s per job, $(nproc) CPUs"
echo "$(uname -r); $(fio --version)"
echo "fuse: fio --direct=1 on $F; library: nvmeof perf on the same namespace (1 thread, 1 queue)"
echo
printf '%-24s %10s %9s %9s %10s %9s %9s %7s %7s %9s\n' "workload" \
	"fuse IOPS" "MB/s" "lat us" "lib IOPS" "MB/s" "lat us" "IOPS %" "lat x" "dmn us/IO"

# fuse_one FIO-OPTIONS...: "iops mb_s lat_us daemon_cpu_us_per_io" of a fio
# job on the mounted namespace (reads and writes summed).
fuse_one() {
	local c0 c1
	c0=$(bench_cpu_ticks "$MPID")
	fio --name=fuse --filename="$F" --runtime="$secs" --time_based \
		--group_reporting --output-format=json "$@" \
		>"$BT/fio.json" 2>"$BT/fio.err" || {
		bench_log "fio $*: $(head -n 3 "$BT/fio.err")"
		echo "0 0 0 0"
		return
	}
	c1=$(bench_cpu_ticks "$MPID")
	jq -r --argjson dc $((c1 - c0)) --argjson hz "$hz" '
		.jobs[0] as $j |
		($j.read.iops + $j.write.iops) as $iops |
		(($j.read.io_bytes + $j.write.io_bytes) / ([$j.read.runtime, $j.write.runtime] | max) / 1000) as $mb |
		(if $j.read.iops > 0 then $j.read.clat_ns.mean else $j.write.clat_ns.mean end / 1000) as $lat |
		(if $iops > 0 then $dc / $hz * 1e6 / ($iops * ([$j.read.runtime, $j.write.runtime] | max) / 1000) else 0 end) as $cpu |
		"\($iops) \($mb) \($lat) \($cpu)"' "$BT/fio.json"
}

# lib_one WORKLOAD SIZE DEPTH: "iops mb_s lat_us" of nvmeof perf.
lib_one() {
	"$NVMEOF" perf "$ADDR" -n "$NQN" --ns 1 -w "$1" -o "$2" -q "$3" \
		-j 1 -i 1 -t "$secs" --output-format json \
		>"$BT/perf.json" 2>"$BT/perf.err" || {
		bench_log "nvmeof perf -w $1 -o $2 -q $3: $(head -n 3 "$BT/perf.err")"
		echo "0 0 0"
		return
	}
	jq -r '.total | "\(.iops) \(.mib_per_s * 1.048576) \(.lat_avg_us)"' "$BT/perf.json"
}

# row NAME "PERF-WORKLOAD SIZE DEPTH" FIO-OPTIONS...: both, and the ratio
# of the mount's IOPS to the library's (in %) and of their latencies.
row() {
	local name=$1 lib=$2 f l
	shift 2
	f=$(fuse_one "$@")
	# shellcheck disable=SC2086
	l=$(lib_one $lib)
	echo "$f $l" | awk -v name="$name" '{
		ratio = $5 > 0 ? sprintf("%.0f%%", 100 * $1 / $5) : "-"
		latx = $7 > 0 ? sprintf("%.2f", $3 / $7) : "-"
		printf "%-24s %10.0f %9.1f %9.1f %10.0f %9.1f %9.1f %7s %7s %9.2f\n",
		       name, $1, $2, $3, $5, $6, $7, ratio, latx, $4
	}'
}

aio="--ioengine=libaio --direct=1"
row "4K randread QD1" "randread 4096 1" --ioengine=psync --direct=1 --rw=randread --bs=4k
# shellcheck disable=SC2086
row "4K randread QD32" "randread 4096 32" $aio --rw=randread --bs=4k --iodepth=32
# shellcheck disable=SC2086
row "4K randwrite QD32" "randwrite 4096 32" $aio --rw=randwrite --bs=4k --iodepth=32
# shellcheck disable=SC2086
row "128K seq read QD16" "read 131072 16" $aio --rw=read --bs=128k --iodepth=16
# shellcheck disable=SC2086
row "128K seq write QD16" "write 131072 16" $aio --rw=write --bs=128k --iodepth=16
# shellcheck disable=SC2086
row "1M seq read QD8" "read 1048576 8" $aio --rw=read --bs=1M --iodepth=8
echo "(QD1: fio psync; the others libaio.  MB/s = 10^6 bytes/s.  IOPS %: the mount's IOPS as a"
echo " percentage of the library's; lat x: the mount's average latency over the library's;"
echo " dmn us/IO: CPU time of the mount daemon per I/O.)"
echo
echo "target:"
if command -v socat >/dev/null 2>&1; then
	bench_target_cmd stats | grep 'stats total' | sed 's/^/   /'
fi
