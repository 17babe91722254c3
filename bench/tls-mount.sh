#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/tls-mount.sh: NVMe/TCP over TLS 1.3 beside plaintext through
# nvmeof-mount.  One nvmeof-target (CPU 0, RAM namespace) listens twice on
# 127.0.0.1: plaintext, and --tls required with the host's PSK.  Two
# mounts of the same subsystem, one per listener (the TLS one with
# -o tls_key_file=), each pinned to CPU 1 with fio; every workload runs on
# both, plaintext then TLS, --runs times.  Each row shows the medians, the
# ratio TLS / plaintext (median of the paired runs' ratios), the goal of
# the TLS issue (128K >= 60%, 4K QD32 >= 70% of plaintext) and the host's
# CPU time per I/O (daemon + fio).  Prints figures; never passes or fails
# on them.
#
#   bench/tls-mount.sh [--runs N] [--time SECONDS] [--quick] [--builddir DIR]
#                      [--no-install] [--no-pin]
#
#   --runs      paired runs per workload, the median is shown (default 3)
#   --time      seconds per run (default 5)
#   --quick     one run of 1 second each: to test the script
#   --builddir  use the programs of this build instead of building
#               build-bench/
set -uo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
bench_tls_options "" "$@"

bench_programs "$INSTALL" "$BUILDDIR"
[ -x "$NVMEOF_MOUNT" ] || bench_die "$NVMEOF_MOUNT is not built"
for c in fio jq taskset; do
	command -v "$c" >/dev/null || bench_die "$c is missing (scripts/bench-packages)"
done
[ -c /dev/fuse ] || bench_die "no /dev/fuse"
bench_init

CPU_T=0 CPU_I=1
[ "$(nproc)" -ge 2 ] || CPU_I=0
[ -n "$NOPIN" ] && CPU_T='' CPU_I=''
PIN_I=()
[ -n "$CPU_I" ] && PIN_I=(taskset -c "$CPU_I")

bench_tls_target "$CPU_T" -n "$BENCH_NQN" --ns ram:1G --busy-poll 50

bench_spawn_mount "$CPU_I" "$BT/m-plain" "$BT/mount-plain.log" "$NVMEOF_MOUNT" -f \
	-n "$BENCH_NQN" --hostnqn "$HOSTNQN" "$PLAIN" "$BT/m-plain" ||
	bench_die "plaintext mount failed"
# shellcheck disable=SC2034 # read through ${!pid}
PID_plain=$MPID
bench_spawn_mount "$CPU_I" "$BT/m-tls" "$BT/mount-tls.log" "$NVMEOF_MOUNT" -f \
	-n "$BENCH_NQN" --hostnqn "$HOSTNQN" -o "tls,tls_key_file=$BT/tls.key" \
	"$TLSADDR" "$BT/m-tls" || bench_die "TLS mount failed"
# shellcheck disable=SC2034
PID_tls=$MPID
grep -q '^tls *: TLSv1.3' "$BT/m-tls/status" ||
	bench_die "the TLS mount's status says no TLS: $(grep '^tls' "$BT/m-tls/status")"
HS=$(sed -n 's/^tls_handshake *: \([0-9.]*\).*/\1/p' "$BT/m-tls/status")
RECORDS=$(sed -n 's/^tls_records *: *//p' "$BT/m-tls/status")
# The RAM namespace gets its memory on first write: fill it once, so that
# the first mode measured neither pays for that nor reads pages never
# written (both mounts reach the same namespace).
"${PIN_I[@]}" fio --name=prefill --filename="$BT/m-plain/n1" --rw=write --bs=1M \
	--ioengine=libaio --iodepth=8 --direct=1 --output-format=terse \
	>/dev/null 2>"$BT/prefill.err" || bench_log "prefill failed: $(head -n 2 "$BT/prefill.err")"

W_ID=(rr4k_qd32 sr128k_qd16 sw128k_qd16)
W_NAME=("4K randread QD32" "128K seq read QD16" "128K seq write QD16")
W_FIO=("--rw=randread --bs=4k --iodepth=32" "--rw=read --bs=128k --iodepth=16"
	"--rw=write --bs=128k --iodepth=16")
W_GOAL=(70 60 60)
# shellcheck disable=SC2034 # read by bench_tls_ceilings (bench/lib.sh)
W_BYTES=(4096 131072 131072)

# one RUN K MODE: fio on that mount; a line "K MODE RUN iops mb_s host_us tgt_us"
one() {
	local run=$1 k=$2 mode=$3 pid json=$BT/fio-$2-$3-$1.json d0 d1 t0 t1
	pid=PID_$mode
	pid=${!pid}
	d0=$(bench_cpu_ticks "$pid")
	t0=$(bench_target_cpu_io)
	# shellcheck disable=SC2086
	"${PIN_I[@]}" fio --name="${W_ID[k]}" --filename="$BT/m-$mode/n1" --direct=1 \
		${W_FIO[k]} --ioengine=libaio --size=1G --time_based --runtime="$SECS" \
		--output-format=json >"$json" 2>"$json.err" ||
		{ bench_log "fio ${W_ID[k]} $mode failed: $(head -n 2 "$json.err")"; return; }
	d1=$(bench_cpu_ticks "$pid")
	t1=$(bench_target_cpu_io)
	jq -r --arg k "$k" --arg m "$mode" --arg r "$run" --arg dt "$((d1 - d0))" \
		--arg t0 "$t0" --arg t1 "$t1" \
		--arg hz "$(getconf CLK_TCK)" --arg secs "$SECS" '
		.jobs[0] as $j |
		($j.read.iops + $j.write.iops) as $iops |
		(($j.read.bw_bytes + $j.write.bw_bytes) / 1e6) as $mbs |
		($j.read.total_ios + $j.write.total_ios) as $n |
		(($j.usr_cpu + $j.sys_cpu) / 100 * ($secs | tonumber)) as $fiocpu |
		(($dt | tonumber) / ($hz | tonumber)) as $dmn |
		($t0 | split(" ") | map(tonumber)) as $a |
		($t1 | split(" ") | map(tonumber)) as $b |
		[$k, $m, $r, $iops, $mbs, (if $n > 0 then ($fiocpu + $dmn) * 1e6 / $n else 0 end),
		 (if $n > 0 then ($b[0] - $a[0]) * 1e6 / $n else 0 end)] |
		map(tostring) | join(" ")' "$json" >>"$BT/runs.txt"
}

bench_tls_runs "${#W_ID[@]}"

# med K MODE COLUMN, pratio K: over the paired runs (bench/lib.sh)
med() { bench_pair_med "$BT/runs.txt" "$1" "$2" "$3" 0; }
pratio() { bench_pair_ratio "$BT/runs.txt" "$1"; }

printf '%-20s %10s %10s %8s %8s %6s %-18s %15s %15s\n' workload 'plain IOPS' 'TLS IOPS' \
	'pl MB/s' 'TLS MB/s' ratio 'goal (met?)' 'host us/IO' 'tgt us/IO'
for ((k = 0; k < ${#W_ID[@]}; k++)); do
	r=$(pratio "$k")
	met=$(awk -v r="$r" -v g="${W_GOAL[k]}" 'BEGIN { print (r != "-" && r * 100 >= g) ? "yes" : "no" }')
	printf '%-20s %10.0f %10.0f %8.0f %8.0f %6s %-18s %7.2f/%-7.2f %7.2f/%-7.2f\n' "${W_NAME[k]}" \
		"$(med "$k" plain 4)" "$(med "$k" tls 4)" "$(med "$k" plain 5)" "$(med "$k" tls 5)" \
		"$r" ">=${W_GOAL[k]}% ($met)" "$(med "$k" plain 6)" "$(med "$k" tls 6)" \
		"$(med "$k" plain 7)" "$(med "$k" tls 7)"
done
echo "(fio direct libaio on nvmeof-mount, RAM namespace; target $([ -n "$CPU_T" ] && echo "on CPU $CPU_T" || echo unpinned), fio and mount $([ -n "$CPU_I" ] && echo "on CPU $CPU_I" || echo unpinned);"
echo " TLS 1.3 PSK, records: ${RECORDS:-?}; handshake ${HS:-?} ms; ratio: TLS / plaintext IOPS,"
echo " median of $RUNS paired run(s) of ${SECS}s; host us/IO: plaintext/TLS CPU time of fio + daemon per I/O;"
echo " tgt us/IO: nvmeof-target's)"
bench_tls_ceilings "${#W_ID[@]}" 6 7
