#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/fuse-fio.sh: fio on an nvmeof-mount of a local nvmeof-target, next
# to `nvmeof perf` on the same target (the library without FUSE), so the
# cost of the FUSE layer shows.  Prints figures; never passes or fails on
# them.
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

echo "nvmeof-mount bench: $ADDR, namespace $NS, $QUEUES I/O queues, ${secs}s per job, $(nproc) CPUs"
echo "$(uname -r); $(fio --version)"
printf '%-34s %10s %11s %10s %14s\n' "job" "IOPS" "MiB/s" "lat avg" "daemon CPU/IO"

# run NAME FIO-OPTIONS...
run() {
	name=$1
	shift
	c0=$(bench_cpu_ticks "$MPID")
	fio --name="$name" --filename="$F" --runtime="$secs" --time_based \
		--group_reporting --output-format=terse --terse-version=3 \
		"$@" >"$BT/fio.out" 2>"$BT/fio.err" || {
		echo "$name: fio failed: $(head -n 3 "$BT/fio.err")"
		return
	}
	c1=$(bench_cpu_ticks "$MPID")
	# terse v3: read 7 KiB/s, 8 IOPS, 9 runtime ms, 40 lat mean us;
	# write 48 KiB/s, 49 IOPS, 50 runtime ms, 81 lat mean us
	awk -F';' -v name="$name" -v dc=$((c1 - c0)) -v hz="$hz" '{
		iops = $8 + $49; kib = $7 + $48
		lat = $8 > 0 ? $40 : $81
		ms = $9 > $50 ? $9 : $50
		cpu = iops > 0 && ms > 0 ? dc / hz * 1e6 / (iops * ms / 1000) : 0
		printf "%-34s %10.0f %11.1f %8.1fus %12.2fus\n", name, iops,
		       kib / 1024, lat, cpu
	}' "$BT/fio.out"
}

base="--ioengine=libaio --direct=1"
run "randread 4k QD1 psync direct" --ioengine=psync --direct=1 --rw=randread --bs=4k
run "randread 4k QD1 psync buffered" --ioengine=psync --direct=0 --rw=randread --bs=4k \
	--invalidate=1
# shellcheck disable=SC2086
run "randread 4k QD32 libaio direct" $base --rw=randread --bs=4k --iodepth=32
# shellcheck disable=SC2086
run "randread 4k QD32 2 jobs x QD16" $base --rw=randread --bs=4k --iodepth=16 --numjobs=2
# shellcheck disable=SC2086
run "randwrite 4k QD32 libaio direct" $base --rw=randwrite --bs=4k --iodepth=32
# shellcheck disable=SC2086
run "read 128k QD16 libaio direct" $base --rw=read --bs=128k --iodepth=16
# shellcheck disable=SC2086
run "write 128k QD16 libaio direct" $base --rw=write --bs=128k --iodepth=16
# shellcheck disable=SC2086
run "read 1M QD8 libaio direct" $base --rw=read --bs=1M --iodepth=8

if [ -x "$NVMEOF" ]; then
	echo
	echo "nvmeof perf (the library alone, same target, $QUEUES threads):"
	for w in "randread 4096 1" "randread 4096 32" "randwrite 4096 32" \
		 "read 131072 16" "write 131072 16"; do
		# shellcheck disable=SC2086
		set -- $w
		echo "-- $1 bs=$2 QD$3"
		"$NVMEOF" perf "$ADDR" -n "$NQN" -w "$1" -o "$2" -q "$3" \
			-j "$QUEUES" -t "$secs" 2>&1 | sed 's/^/   /'
	done
else
	echo "(no nvmeof CLI at $NVMEOF: skipping nvmeof perf)"
fi
echo
echo "target:"
if command -v socat >/dev/null 2>&1; then
	bench_target_cmd stats | grep 'stats total' | sed 's/^/   /'
fi
