#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/failover.sh: one of the two paths of a multipath nvmeof-mount is
# lost N times (default 20, the two paths in turn) while fio writes and
# verifies through the mount (issue 18).  nvmeof-target listens on two
# ports of 127.0.0.1 (two paths to one subsystem); a path is lost by a
# fault armed on its listener only (nvmeof-target(8), FAULT INJECTION):
#
#   reset   drop-after:1@io@HOST:PORT: the target closes that path's first
#           I/O queue to answer a command; the host sees the connection end
#   silent  silent@all@HOST:PORT: the connections stay up, but nothing sent
#           on them is answered (Keep Alive included) until the fault is
#           disarmed, once the host has given the path up
#
# For each loss it prints how long the host took to see the path down,
# when the path was live again (it reconnects by itself, -c 1), and the
# longest I/O stall: the longest time without a completion (fio's IOPS
# log, 1 ms windows) from the loss until 500 ms after the path was back.
# Goals: the worst stall below 100 ms with a reset, below 500 ms with a
# silent path (bound by how fast keep-alive detects it: KATO, --kato).
# Then, unless --no-perf: 4 KiB random reads at QD32 from one thread
# through libnvmeof's path layer (bench/mpath-randread), over one path and
# over both; goal: two optimized paths >= 1.6x one when the target has CPU
# to spare.
# Prints figures; never fails on a time.  Exit 1 when something could not
# run, or fio's verify failed.
#
#   bench/failover.sh [--mode reset|silent] [--duration SECONDS] [--drops N]
#                     [--kato SECONDS] [--perf-time SECONDS] [--no-perf]
#                     [--builddir DIR] [--no-install]
#
#   --mode       reset (default) or silent, as above
#   --duration   length of the fio run, default 120
#   --drops      how many losses, default 20, spread evenly over the run
#   --kato       nvmeof-mount -k (keep-alive timeout, seconds, up to three
#                decimals), default 0.25: a silent path is seen at most
#                1.5 x KATO after it went quiet (a Keep Alive every KATO/2,
#                its answer awaited for KATO)
#   --perf-time  seconds of each random-read run, default 10
#   --no-perf    no random-read rows
#   --builddir   use the programs of this build instead of building
#                build-bench/
set -uo pipefail

DURATION=120
DROPS=20
MODE=reset
KATO=0.25
PERF_T=10
PERF=1
BUILDDIR=
INSTALL=1
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--mode) MODE=${2:?}; shift ;;
	--duration) DURATION=${2:?}; shift ;;
	--drops) DROPS=${2:?}; shift ;;
	--kato) KATO=${2:?}; shift ;;
	--perf-time) PERF_T=${2:?}; shift ;;
	--no-perf) PERF= ;;
	--builddir) BUILDDIR=${2:?}; shift ;;
	--no-install) INSTALL= ;;
	-h | --help) bench_usage; exit 0 ;;
	*) echo "failover.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
	esac
	shift
done
case "$DURATION$DROPS$PERF_T" in
*[!0-9]*) echo "failover.sh: --duration, --drops and --perf-time take whole numbers" >&2; exit 64 ;;
esac
case $KATO in
'' | *[!0-9.]* | *.*.* | .* | *.) echo "failover.sh: --kato takes seconds, e.g. 1 or 0.25" >&2; exit 64 ;;
esac
KATO_MS=$(awk -v k="$KATO" 'BEGIN { printf "%d", k * 1000 + 0.5 }')
case $MODE in reset | silent) ;; *) echo "failover.sh: --mode reset or silent" >&2; exit 64 ;; esac
if [ "$DROPS" -lt 1 ] || [ "$DURATION" -lt 1 ] || [ "$KATO_MS" -lt 100 ] || [ "$PERF_T" -lt 1 ]; then
	echo "failover.sh: --duration, --drops and --perf-time must be >= 1, --kato >= 0.1" >&2
	exit 64
fi

bench_programs "$INSTALL" "$BUILDDIR"
for c in fio jq socat; do command -v "$c" >/dev/null || bench_die "$c is missing (scripts/bench-packages)"; done
[ -c /dev/fuse ] || bench_die "no /dev/fuse"
MPATH_WHY=
"$NVMEOF_MOUNT" --help 2>&1 | grep -q iopolicy ||
	MPATH_WHY="this nvmeof-mount does not take several addresses (no iopolicy= in its --help)"

INTERVAL_MS=$((DURATION * 1000 / (DROPS + 1)))
if [ "$INTERVAL_MS" -lt $((KATO_MS * 2 + 2000)) ]; then
	bench_log "warning: ${INTERVAL_MS} ms between losses is short for KATO $KATO s and a 1 s reconnect delay"
fi

bench_init
bench_target "" -n "$BENCH_NQN" --ns ram:256M -l 127.0.0.1:0 ||
	bench_die "nvmeof-target did not start"
TPORT2=$(sed -n 2p "$BT/target.port")
[ -n "$TPORT2" ] || bench_die "nvmeof-target wrote one port, two expected"
A=("127.0.0.1:$TPORT" "127.0.0.1:$TPORT2")
RC=0
# The losses and their stalls (needs the multipath mount).
failover_rows() {
	MNT=$BT/mnt
	bench_spawn_mount "" "$MNT" "$BT/mount.log" "$NVMEOF_MOUNT" -f -n "$BENCH_NQN" \
		-k "$KATO" -c 1 -o iopolicy=round-robin "${A[0]},${A[1]}" "$MNT" ||
		bench_die "nvmeof-mount ${A[0]},${A[1]} failed"
	[ -r "$MNT/paths" ] || bench_die "the mount has no paths file"

	now_ms() { date +%s%3N; }
	# pathf ADDR KEY: a field of ADDR's line in the mount's paths file
	pathf() {
		awk -v a="$1" -v k="$2=" '$2 == a {
			for (i = 3; i <= 9 && i <= NF; i++)
				if (index($i, k) == 1) { print substr($i, length(k) + 1); exit }
		}' "$MNT/paths" 2>/dev/null
}
# until_state ADDR live|down TIMEOUT-MS: poll the paths file every 5 ms
until_state() {
	local t=$(($(now_ms) + $3)) s
	while :; do
		s=$(pathf "$1" state)
		if [ "$2" = live ]; then [ "$s" = live ] && return 0; else [ -n "$s" ] && [ "$s" != live ] && return 0; fi
		[ "$(now_ms)" -lt "$t" ] || return 1
		sleep 0.005
	done
}
arm() { # FAULT: armed on the target, or a message
	local r
	r=$(bench_target_cmd "fault $1")
	case $r in *ok*) return 0 ;; esac
	bench_log "fault $1: $r"
	return 1
}
if ! until_state "${A[0]}" live 30000 || ! until_state "${A[1]}" live 30000; then
	bench_die "the two paths are not live: $(cat "$MNT/paths")"
fi

echo "failover: $DROPS x $MODE of one of two paths (in turn) during ${DURATION}s of fio verify;"
echo "  nvmeof-mount -k $KATO -c 1 -o iopolicy=round-robin ${A[0]},${A[1]}, RAM namespace"

# 4 KiB random writes, each checked (crc32c) by a read soon after;
# completions per millisecond in fio's IOPS log, stamped with epoch ms.
fio --name=failover --filename="$MNT/n1" --rw=randwrite --bs=4k \
	--ioengine=libaio --iodepth=16 --direct=1 --size=256M \
	--verify=crc32c --verify_backlog=64 --verify_fatal=1 --verify_state_save=0 \
	--time_based --runtime="$DURATION" \
	--write_iops_log="$BT/io" --log_avg_msec=1 --log_unix_epoch=1 \
	--output-format=json --output="$BT/fio.json" >"$BT/fio.out" 2>&1 &
FIO_PID=$!
bench_track "$FIO_PID"
L=$(now_ms)

: >"$BT/drops.tsv" # k, path, loss, seen down, live again (epoch ms; 0: not seen)
for ((k = 1; k <= DROPS; k++)); do
	at=$((L + k * INTERVAL_MS))
	while [ "$(now_ms)" -lt "$at" ]; do
		bench_alive "$FIO_PID" || break 2
		sleep 0.02
	done
	p=${A[$(((k - 1) % 2))]}
	if ! until_state "${A[0]}" live 30000 || ! until_state "${A[1]}" live 30000; then
		bench_log "loss $k: the paths are not both live 30 s after the last one: $(tr '\n' '|' <"$MNT/paths")"
		continue
	fi
	t0=$(now_ms)
	if [ "$MODE" = reset ]; then
		arm "drop-after:1@io@$p" || break
	else
		arm "silent@all@$p" || break
	fi
	td=0
	if until_state "$p" down $((KATO_MS * 4 + 30000)); then
		td=$(now_ms)
	else
		bench_log "loss $k: $p still live after $((KATO_MS * 4 + 30000)) ms"
	fi
	# the fault goes now: the path may reconnect
	bench_target_cmd "fault off $([ "$MODE" = reset ] && echo drop-after || echo silent)" >/dev/null
	tu=0
	if until_state "$p" live 60000; then
		tu=$(now_ms)
	else
		bench_log "loss $k: $p not live again after 60 s"
	fi
	printf '%d\t%s\t%d\t%d\t%d\n' "$k" "$p" "$t0" "$td" "$tu" >>"$BT/drops.tsv"
done
wait "$FIO_PID"
FIO_RC=$?
bench_untrack "$FIO_PID"

LOG=
for f in "$BT"/io_iops*.log; do [ -f "$f" ] && LOG=$f && break; done
GOAL=100
[ "$MODE" = silent ] && GOAL=500
printf '%5s %-22s %7s %13s %14s %15s\n' loss path "at (s)" "seen (ms)" "live again (ms)" "I/O stall (ms)"
awk -v tsv="$BT/drops.tsv" -v L="$L" -v goal="$GOAL" -v mode="$MODE" -v kato="$KATO" '
	BEGIN {
		while ((getline line < tsv) > 0) {
			split(line, f, "\t"); n++
			p[n] = f[2]; s[n] = f[3]; d[n] = f[4]; u[n] = f[5]
		}
		FS = ", *"
	}
	$2 > 0 { t[++m] = $1 + 0 }
	END {
		for (i = 1; i <= n; i++) {
			lo = s[i]; hi = (u[i] ? u[i] : s[i] + 60000) + 500
			if (i < n && hi > s[i + 1]) hi = s[i + 1]
			best = 0
			for (j = 2; j <= m; j++)
				if (t[j] > lo && t[j - 1] < hi) {
					a = t[j - 1] < lo ? lo : t[j - 1]
					if (t[j] - a > best) best = t[j] - a
				}
			printf "%5d %-22s %7.1f %13s %14s %15d\n", i, p[i], (s[i] - L) / 1000,
				d[i] ? d[i] - s[i] : "-", u[i] ? u[i] - s[i] : "-", best
			st[i] = best
		}
		if (m > 1)
			printf "(I/O stall: the longest time without a completion from the loss until 500 ms after\n the path was live again, 1 ms resolution; the normal gap is %.2f ms)\n", (t[m] - t[1]) / (m - 1)
		if (n) {
			for (i = 2; i <= n; i++) { v = st[i]; for (j = i - 1; j >= 1 && st[j] > v; j--) st[j + 1] = st[j]; st[j + 1] = v }
			printf "I/O stall per loss: min %d ms, median %d ms, worst %d ms; goal: worst < %d ms%s\n",
				st[1], st[int((n + 1) / 2)], st[n], goal,
				mode == "silent" ? " (silent path: bound by keep-alive detection, KATO " kato " s)" : " (reset)"
		}
	}' "${LOG:-/dev/null}"
echo "losses done: $(wc -l <"$BT/drops.tsv") of $DROPS"
cat "$MNT/paths"
if [ -s "$BT/fio.json" ]; then
	read -r ERR W R < <(sed -n '/^{/,$p' "$BT/fio.json" |
		jq -r '.jobs[0] | "\(.error) \(.write.total_ios) \(.read.total_ios)"' 2>/dev/null)
fi
if [ "$FIO_RC" = 0 ] && [ "${ERR:-1}" = 0 ]; then
	echo "fio verify: passed ($W writes, $R verifying reads, exit 0)"
else
	echo "fio verify: FAILED (exit $FIO_RC, error ${ERR:-?}):"
	grep -v '^$' "$BT/fio.out" | head -n 10 | sed 's/^/  /'
	RC=1
fi
}
if [ -z "$MPATH_WHY" ]; then
	failover_rows
else
	echo "failover: not measured: $MPATH_WHY"
	RC=1
fi

# 4 KiB random reads at QD32 from one thread through the path layer, over
# one path and over both (bench/mpath-randread: nvmeof perf takes one
# address); the target gets a thread per connection.
rr() { # ADDRESSES: "IOPS READS-PER-PATH", or nothing (the reason in $BT/rr.err)
	"$top_builddir/bench/mpath-randread" -n "$BENCH_NQN" -q 32 -t "$PERF_T" "$1" \
		>"$BT/rr.out" 2>"$BT/rr.err" &&
		sed -n 's/.* iops=\([0-9]*\) .*reads_per_path=\([0-9,]*\).*/\1 \2/p' "$BT/rr.out"
}
if [ -n "$PERF" ]; then
	echo
	[ -x "$top_builddir/bench/mpath-randread" ] || bench_die "$top_builddir/bench/mpath-randread is not built"
	printf '%-48s %10s  %s\n' "library 4 KiB randread QD32, 1 thread" IOPS "reads per path"
	read -r one one_p < <(rr "${A[0]}")
	[ -n "${one:-}" ] || bench_log "one path: $(head -n 2 "$BT/rr.err")"
	printf '%-48s %10s  %s\n' "  one path" "${one:--}" "${one_p:-}"
	read -r two two_p < <(rr "${A[0]},${A[1]}")
	[ -n "${two:-}" ] || bench_log "two paths: $(head -n 2 "$BT/rr.err")"
	printf '%-48s %10s  %s\n' "  two optimized paths (round-robin)" "${two:--}" "${two_p:-}"
	if [ -n "${one:-}" ] && [ -n "${two:-}" ] && [ "$one" -gt 0 ]; then
		awk -v a="$one" -v b="$two" 'BEGIN { printf "  two paths / one path: %.2fx; goal >= 1.6x (when the target has CPU to spare)\n", b / a }'
	else
		RC=1
	fi
fi
exit $RC
