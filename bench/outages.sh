#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/outages.sh: the connection to the target is lost and comes back
# N times (default 20) while fio writes and verifies through nvmeof-mount,
# which reconnects by itself (-c 1: a reconnect attempt every second).
# Prints, for each outage, how long the association was not live (from the
# mount's status file) and how long I/O stalled (the longest gap between
# two completions in fio's latency log around it), then whether fio's
# verify passed.  Prints figures; never fails on a time.
#
#   bench/outages.sh [--duration SECONDS] [--outages N]
#                    [--mode kill|drop|restart]
#                    [--down SECONDS] [--builddir DIR]
#                    [--no-install]
#
#   --duration  length of the fio run, default 120
#   --outages   how many outages, default 20, spread evenly over the run
#   --mode      kill: the mount's TCP connections to the target are
#               destroyed (ss -K, as a broken network would), the default;
#               drop: the target closes an I/O queue's connection (its
#               control socket: fault drop-after:20, which fires once and
#               disarms itself, so one outage is one reconnect);
#               restart: the target is killed and started again on the
#               same port after --down seconds (default 1)
#               The namespace is a file, so that the data outlives a restart.
#   --builddir  use the programs of this build instead of building
#               build-bench/
set -uo pipefail

DURATION=120
OUTAGES=20
MODE="kill"
DOWN=1
BUILDDIR=
INSTALL=1
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--duration) DURATION=${2:?}; shift ;;
	--outages) OUTAGES=${2:?}; shift ;;
	--mode) MODE=${2:?}; shift ;;
	--down) DOWN=${2:?}; shift ;;
	--builddir) BUILDDIR=${2:?}; shift ;;
	--no-install) INSTALL= ;;
	-h | --help) bench_usage; exit 0 ;;
	*) echo "outages.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
	esac
	shift
done
case "$DURATION$OUTAGES$DOWN" in *[!0-9]*) echo "outages.sh: numbers, please" >&2; exit 64 ;; esac
case $MODE in kill | drop | restart) ;; *) echo "outages.sh: --mode kill, drop or restart" >&2; exit 64 ;; esac

bench_programs "$INSTALL" "$BUILDDIR"
for c in fio jq socat ss; do command -v "$c" >/dev/null || bench_die "$c is missing"; done

INTERVAL_MS=$((DURATION * 1000 / (OUTAGES + 1)))
if [ "$INTERVAL_MS" -lt $(((DOWN + 3) * 1000)) ]; then
	bench_log "warning: ${INTERVAL_MS} ms between outages is short for --down $DOWN and a 1 s reconnect delay"
fi

bench_init
truncate -s 256M "$BT/ns.img" || exit 1
NS_SPEC=file:$BT/ns.img
bench_target "" -n "$BENCH_NQN" --ns "$NS_SPEC" || bench_die "nvmeof-target did not start"
bench_mount "" "$BT/mnt" -c 1 || bench_die "nvmeof-mount failed"
FILE=$BT/mnt/n1

now_ms() { date +%s%3N; }
reconnects() { bench_status_field "$BT/mnt" reconnects; }
# back R0 TIMEOUT-MS: wait until the mount has reconnected (its counter
# is past R0) and is live; polls the status file every 5 ms.
back() {
	local t0=$(($(now_ms) + $2))
	while [ "$(reconnects)" -le "$1" ] || [ "$(bench_status_field "$BT/mnt" state)" != live ]; do
		[ "$(now_ms)" -lt "$t0" ] || return 1
		sleep 0.005
	done
}

echo "outages: $OUTAGES x $MODE$([ "$MODE" = restart ] && echo " (target down ${DOWN}s)") during ${DURATION}s of fio verify;"
echo "  nvmeof-mount -c 1 on $TADDR, namespace $NS_SPEC"

# Random writes of 4 KiB to 128 KiB, each checked (crc32c) by a read soon
# after; completions counted per millisecond in fio's IOPS log.
L=$(now_ms)
fio --name=outages --filename="$FILE" --rw=randwrite --bsrange=4k-128k \
	--ioengine=libaio --iodepth=16 --direct=1 --size=256M \
	--verify=crc32c --verify_backlog=64 --verify_fatal=1 --verify_state_save=0 \
	--time_based --runtime="$DURATION" \
	--write_iops_log="$BT/io" --log_avg_msec=1 \
	--output-format=json --output="$BT/fio.json" >"$BT/fio.out" 2>&1 &
FIO_PID=$!
bench_track "$FIO_PID"

: >"$BT/outages.tsv" # k, outage start, connection back (ms since L)
for ((k = 1; k <= OUTAGES; k++)); do
	at=$((L + k * INTERVAL_MS))
	while [ "$(now_ms)" -lt "$at" ]; do
		bench_alive "$FIO_PID" || break 2
		sleep 0.02
	done
	r0=$(reconnects)
	t0=$(now_ms)
	if [ "$MODE" = kill ]; then
		# Only connections to our own target's port on 127.0.0.1.
		ss -K -tn "dst 127.0.0.1 and dport = :$TPORT" >/dev/null ||
			bench_log "ss -K failed (the kernel needs CONFIG_INET_DIAG_DESTROY)"
	elif [ "$MODE" = drop ]; then
		# The first I/O queue to answer 20 commands from now is closed;
		# the fault then disarms itself.
		bench_target_cmd "fault drop-after:20" >/dev/null
	else
		kill "$TPID" 2>/dev/null
		bench_reap "$TPID" 50
		bench_untrack "$TPID"
		sleep "$DOWN"
		BENCH_TARGET_PORT=$TPORT bench_target "" -n "$BENCH_NQN" --ns "$NS_SPEC" ||
			bench_die "nvmeof-target did not start again on port $TPORT"
	fi
	if ! back "$r0" 60000; then
		bench_log "outage $k: not reconnected after 60 s"
		[ "$MODE" != drop ] || bench_target_cmd "fault off drop-after" >/dev/null
	fi
	printf '%d\t%d\t%d\n' "$k" $((t0 - L)) $(($(now_ms) - L)) >>"$BT/outages.tsv"
done
wait "$FIO_PID"
FIO_RC=$?
bench_untrack "$FIO_PID"
RECONNECTS=$(reconnects)
RETRIES=$(bench_status_field "$BT/mnt" retries)

# The longest gap between two milliseconds with completions (fio's IOPS
# log, 1 ms windows, reads and writes) from just before each outage to
# just before the next.  fio's clock starts a little after L: the 500 ms
# of slack before each outage cover that.
LOG=
for f in "$BT"/io_iops*.log; do [ -f "$f" ] && LOG=$f && break; done
printf '%7s %9s %16s %15s\n' outage "at (s)" "reconnected (ms)" "I/O stall (ms)"
awk -v tsv="$BT/outages.tsv" '
	BEGIN {
		while ((getline line < tsv) > 0) {
			split(line, f, "\t"); n++; s[n] = f[2]; e[n] = f[3]
		}
		FS = ", *"
	}
	{ t[++m] = $1 + 0 }
	END {
		for (i = 1; i <= n; i++) {
			lo = s[i] - 500; hi = i < n ? s[i + 1] - 500 : 1e18
			best = 0
			for (j = 2; j <= m; j++)
				if (t[j] >= lo && t[j] < hi && t[j] - t[j - 1] > best)
					best = t[j] - t[j - 1]
			printf "%7d %9.1f %16d %15d\n", i, s[i] / 1000, e[i] - s[i], best
			st[i] = best
		}
		if (m > 1)
			printf "(I/O stall: the longest time without a completion around the outage, 1 ms resolution;\n the normal gap is %.2f ms)\n", (t[m] - t[1]) / (m - 1)
		if (n) {
			for (i = 2; i <= n; i++) { v = st[i]; for (j = i - 1; j >= 1 && st[j] > v; j--) st[j + 1] = st[j]; st[j + 1] = v }
			printf "I/O stall per outage: min %d ms, median %d ms, max %d ms\n", st[1], st[int((n + 1) / 2)], st[n]
		}
	}' "${LOG:-/dev/null}"
echo "outages done: $(wc -l <"$BT/outages.tsv") of $OUTAGES; mount reconnects: $RECONNECTS; commands sent again: $RETRIES"
if [ -s "$BT/fio.json" ]; then
	read -r ERR W R < <(jq -r '.jobs[0] | "\(.error) \(.write.total_ios) \(.read.total_ios)"' "$BT/fio.json" 2>/dev/null)
fi
if [ "$FIO_RC" = 0 ] && [ "${ERR:-1}" = 0 ]; then
	echo "fio verify: passed ($W writes, $R verifying reads, exit 0)"
else
	echo "fio verify: FAILED (exit $FIO_RC, error ${ERR:-?}):"
	grep -v '^$' "$BT/fio.out" | head -n 10 | sed 's/^/  /'
fi
