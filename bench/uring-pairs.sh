#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/uring-pairs.sh: bench/nullfs-uring against bench/nullfs, in pairs.
#
# Mounts both no-op FUSE daemons (bench/nullfs over /dev/fuse,
# bench/nullfs-uring over FUSE-over-io_uring, see bench/nullfs-uring.c)
# and runs the same fio job on them alternately, for about a minute per
# workload: PAIRS pairs of SECONDS each, in the order A B, B A, A B, ...
# so that a change of load on the machine falls on both sides.  Prints
# each pair's IOPS and ratio (io_uring / /dev/fuse) and the median ratio:
# on a shared machine, the ratio of runs made seconds apart says more
# than figures made minutes apart.  Needs root and a kernel with
# CONFIG_FUSE_IO_URING (enable_uring is set to Y for the run and put back
# at exit).  Prints figures; never passes or fails on them.
#
#   bench/uring-pairs.sh [--pairs N] [--time SECONDS] [--no-pin]
#                        [--no-install] [--builddir DIR]
#
# Workloads: 4K randread QD32, 4K randwrite QD32 (libaio), 4K randread
# QD1 (psync).  fio and both daemons on CPU 1 (as in bench/run) unless
# --no-pin.  --builddir: a build of your own instead of build-bench/.
set -u

PAIRS=10
SECS=3
PIN=1
INSTALL=1
BUILDDIR=
while [ $# -gt 0 ]; do
	case $1 in
	--pairs) PAIRS=${2:?}; shift ;;
	--time) SECS=${2:?}; shift ;;
	--no-pin) PIN= ;;
	--no-install) INSTALL= ;;
	--builddir) BUILDDIR=${2:?}; shift ;;
	-h | --help) sed -n '3,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "uring-pairs.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
	esac
	shift
done
case "$PAIRS$SECS" in *[!0-9]* | '') echo "uring-pairs.sh: --pairs and --time take numbers" >&2; exit 64 ;; esac
if [ "$PAIRS" -lt 1 ] || [ "$SECS" -lt 1 ]; then
	echo "uring-pairs.sh: --pairs and --time must be >= 1" >&2
	exit 64
fi

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
bench_programs "$INSTALL" "$BUILDDIR"
for c in fio jq taskset; do
	command -v "$c" >/dev/null || bench_die "$c is missing (scripts/bench-packages)"
done
[ -c /dev/fuse ] || bench_die "no /dev/fuse"
[ -x "$top_builddir/bench/nullfs" ] || bench_die "$top_builddir/bench/nullfs is not built"
bench_uring_prepare
[ -z "$URING_WHY" ] || { echo "uring-pairs.sh: skipped: $URING_WHY"; exit 77; }
CPU=
[ -n "$PIN" ] && [ "$(nproc)" -ge 2 ] && CPU=1

bench_init
bench_uring_enable
[ -z "$URING_WHY" ] || bench_die "$URING_WHY"
bench_spawn_mount "$CPU" "$BT/null" "$BT/nullfs.log" "$top_builddir/bench/nullfs" "$BT/null" ||
	bench_die "bench/nullfs failed"
bench_spawn_mount "$CPU" "$BT/uring" "$BT/nullfs-uring.log" "$NULLFS_URING" "$BT/uring" ||
	bench_die "bench/nullfs-uring failed"
[ -e "$BT/uring/n1" ] || bench_die "bench/nullfs-uring: $(tail -n 1 "$BT/nullfs-uring.log")"

# one FILE FIO-ARGS: the IOPS of one fio run
one() {
	_f=$1
	shift
	# shellcheck disable=SC2046,SC2086
	$(bench_pin "$CPU") fio --name=pair --filename="$_f" --direct=1 "$@" \
		--runtime="$SECS" --time_based --output-format=json 2>"$BT/fio.err" |
		jq -r '.jobs[0] | .read.iops + .write.iops | floor' 2>/dev/null
}

echo "bench/nullfs-uring vs bench/nullfs: $PAIRS pairs of ${SECS}s per workload, alternating;"
echo "$(nproc) CPUs, $(uname -r), $(fio --version); $([ -n "$CPU" ] && echo "fio and daemons on CPU $CPU" || echo unpinned);"
echo "enable_uring was $URING_OLD (Y for the run); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for w in "4K randread QD32|--rw=randread --bs=4k --ioengine=libaio --iodepth=32" \
	"4K randwrite QD32|--rw=randwrite --bs=4k --ioengine=libaio --iodepth=32" \
	"4K randread QD1|--rw=randread --bs=4k --ioengine=psync"; do
	name=${w%%|*}
	args=${w#*|}
	echo
	echo "$name: pair  /dev/fuse IOPS  io_uring IOPS  ratio"
	: >"$BT/ratios"
	i=1
	while [ "$i" -le "$PAIRS" ]; do
		# shellcheck disable=SC2086
		if [ $((i % 2)) = 1 ]; then
			a=$(one "$BT/null/n1" $args)
			b=$(one "$BT/uring/n1" $args)
		else
			b=$(one "$BT/uring/n1" $args)
			a=$(one "$BT/null/n1" $args)
		fi
		r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0 && b != "") printf "%.2f", b / a; else printf "-" }')
		printf '  %4d  %13s  %13s  %5s\n' "$i" "${a:--}" "${b:--}" "$r"
		[ "$r" != - ] && echo "$r" >>"$BT/ratios"
		i=$((i + 1))
	done
	sort -n "$BT/ratios" | awk -v name="$name" '
		{ a[++n] = $1 }
		END { if (!n) { print "  " name ": no pair measured"; exit }
		      m = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		      printf "  %s: median ratio %.2fx over %d pairs (min %.2f, max %.2f)\n", name, m, n, a[1], a[n] }'
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
