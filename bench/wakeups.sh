#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/wakeups.sh: how the FUSE requests spread over nvmeof-mount's
# workers at queue depth 1.  dd reads N (default 2000) blocks with
# O_DIRECT, one request at a time, through a mount of 2 worker threads on
# 2 I/O queues; at unmount each worker logs (-d) how many requests it took
# and how many of its wake-ups found nothing ("lost races").
#
# With poll() on the FUSE device every request woke both workers, and they
# took the requests about half and half (1130/885 and 1114/901 in two
# runs), so consecutive requests went to different I/O queues and neither
# of the target's queue threads stayed warm (45 us per read against a
# busy-polling target instead of 20).  With EPOLLEXCLUSIVE one worker
# takes nearly all of them (2014/1 on an idle machine).  On a loaded
# machine the split depends on the scheduler (1500 of 2015 was seen during
# a full test run): this is a measurement, not a test.  `make check` checks
# the mechanism instead (tests/fuse/test-wakeups.sh: every worker registers
# the device with EPOLLEXCLUSIVE).  Prints figures; never fails on them.
#
#   bench/wakeups.sh [--reads N] [--builddir DIR] [--no-install]
set -u
N=2000
BUILDDIR=
INSTALL=1
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--reads) N=${2:?}; shift ;;
	--builddir) BUILDDIR=${2:?}; shift ;;
	--no-install) INSTALL= ;;
	-h | --help) bench_usage; exit 0 ;;
	*) echo "wakeups.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
	esac
	shift
done
case "$N" in '' | *[!0-9]*) echo "wakeups.sh: --reads takes a number" >&2; exit 64 ;; esac

bench_programs "$INSTALL" "$BUILDDIR"
bench_init
bench_target "" -n "$BENCH_NQN" --ns ram:64M || bench_die "nvmeof-target did not start"
bench_mount "" "$BT/mnt" -d --threads 2 -i 2 || bench_die "nvmeof-mount failed"
dd if="$BT/mnt/n1" of=/dev/null bs=4k count="$N" iflag=direct 2>"$BT/dd.err" ||
	bench_die "dd of $N blocks failed: $(cat "$BT/dd.err")"
bench_unmount "$BT/mnt"
bench_reap "$MPID" 100
# "worker 0: 1234 requests, 1300 wake-ups (0 by timeout, 3 lost races)"
sed -n 's/.*worker \([0-9]*\): \([0-9]*\) requests, [0-9]* wake-ups ([0-9]* by timeout, \([0-9]*\) lost races).*/\1 \2 \3/p' \
	"$BT/mount.log" >"$BT/workers"
[ -s "$BT/workers" ] || bench_die "no worker summaries in the debug log"
echo "$N reads one at a time, 2 workers on 2 I/O queues:"
awk '{ printf "  worker %s: %s requests, %s lost races\n", $1, $2, $3; r += $2; if ($2 > m) m = $2 }
	END { printf "  the busiest worker took %d of %d requests (%.1f %%)\n", m, r, r ? 100 * m / r : 0 }' \
	"$BT/workers"
