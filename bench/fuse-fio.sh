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
set -u

secs=${1:-10}
: "${top_builddir:=$(pwd)}"
: "${NVMEOF_MOUNT:=$top_builddir/fuse/nvmeof-mount}"
: "${NVMEOF_TARGET:=$top_builddir/src/nvmeof-target}"
: "${NVMEOF:=$top_builddir/cli/nvmeof}"
: "${NS:=ram:1G}"
: "${QUEUES:=2}"
: "${MOUNT_OPTS:=}"
: "${TARGET_OPTS:=}"
NQN=nqn.2026-11.org.example:fuse-bench

for p in "$NVMEOF_MOUNT" "$NVMEOF_TARGET"; do
	[ -x "$p" ] || { echo "bench: $p is not built" >&2; exit 1; }
done
command -v fio >/dev/null 2>&1 || { echo "bench: fio is not installed (apt-get install fio)" >&2; exit 1; }
[ -c /dev/fuse ] || { echo "bench: no /dev/fuse" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/nvmeof-fuse-bench.XXXXXX")
TPID=
MPID=
cleanup() {
	if grep -q " $T/mnt " /proc/mounts; then
		fusermount3 -u "$T/mnt" 2>/dev/null || umount -l "$T/mnt"
	fi
	if [ -n "$MPID" ]; then
		i=0
		while kill -0 "$MPID" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$T/mnt"

# shellcheck disable=SC2086
"$NVMEOF_TARGET" -l 127.0.0.1:0 --port-file "$T/port" --control "$T/ctl" \
	-n "$NQN" --ns "$NS" $TARGET_OPTS >"$T/target.log" 2>&1 &
TPID=$!
i=0
while [ ! -s "$T/port" ]; do
	kill -0 "$TPID" 2>/dev/null || { cat "$T/target.log" >&2; exit 1; }
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "bench: no port file" >&2; exit 1; }
	sleep 0.05
done
ADDR=127.0.0.1:$(grep -o '[0-9][0-9]*' "$T/port" | head -n 1)

# shellcheck disable=SC2086
"$NVMEOF_MOUNT" -n "$NQN" -i "$QUEUES" --pidfile "$T/pid" $MOUNT_OPTS "$ADDR" "$T/mnt" ||
	exit 1
MPID=$(cat "$T/pid")
F=$T/mnt/n1

cpu_ticks() { # utime + stime of a process, in clock ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
hz=$(getconf CLK_TCK)

echo "nvmeof-mount bench: $ADDR, namespace $NS, $QUEUES I/O queues, ${secs}s per job, $(nproc) CPUs"
echo "$(uname -r); $(fio --version)"
printf '%-34s %10s %11s %10s %14s\n' "job" "IOPS" "MiB/s" "lat avg" "daemon CPU/IO"

# run NAME FIO-OPTIONS...
run() {
	name=$1
	shift
	c0=$(cpu_ticks "$MPID")
	fio --name="$name" --filename="$F" --runtime="$secs" --time_based \
		--group_reporting --output-format=terse --terse-version=3 \
		"$@" >"$T/fio.out" 2>"$T/fio.err" || {
		echo "$name: fio failed: $(head -n 3 "$T/fio.err")"
		return
	}
	c1=$(cpu_ticks "$MPID")
	# terse v3: read 7 KiB/s, 8 IOPS, 9 runtime ms, 40 lat mean us;
	# write 48 KiB/s, 49 IOPS, 50 runtime ms, 81 lat mean us
	awk -F';' -v name="$name" -v dc=$((c1 - c0)) -v hz="$hz" '{
		iops = $8 + $49; kib = $7 + $48
		lat = $8 > 0 ? $40 : $81
		ms = $9 > $50 ? $9 : $50
		cpu = iops > 0 && ms > 0 ? dc / hz * 1e6 / (iops * ms / 1000) : 0
		printf "%-34s %10.0f %11.1f %8.1fus %12.2fus\n", name, iops,
		       kib / 1024, lat, cpu
	}' "$T/fio.out"
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
	printf 'stats\n' | socat -t 5 - "UNIX-CONNECT:$T/ctl" | grep 'stats total' | sed 's/^/   /'
fi
