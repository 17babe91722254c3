#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/tls.sh: NVMe/TCP over TLS 1.3 beside plaintext, the library path.
# One nvmeof-target (pinned to CPU 0, null namespace, --busy-poll 50)
# listens twice on 127.0.0.1: plaintext, and with --tls required and the
# host's PSK.  nvmeof perf (one thread, pinned to CPU 1) runs each
# workload against both, plaintext then TLS, --runs times; each row shows
# the medians, the ratio TLS / plaintext (the median of the paired runs'
# ratios: the least sensitive to the load of the machine), the goal of the
# TLS issue (128K >= 60%, 4K QD32 >= 70% of plaintext), the host's and
# the target's CPU time per I/O, and the TLS handshake time nvmeof perf
# reports (when it does).  Prints figures; never passes or fails on them.
#
#   bench/tls.sh [--runs N] [--time SECONDS] [--quick] [--builddir DIR]
#                [--no-install] [--no-pin] [--target-busy-poll USEC]
#
#   --runs      paired runs per workload, the median is shown (default 3)
#   --time      seconds per run (default 5)
#   --quick     one run of 1 second each: to test the script
#   --builddir  use the programs of this build instead of building
#               build-bench/
set -uo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
bench_tls_options busy-poll "$@"

bench_programs "$INSTALL" "$BUILDDIR"
[ -x "$NVMEOF" ] || bench_die "$NVMEOF is not built"
for c in jq socat taskset; do
	command -v "$c" >/dev/null || bench_die "$c is missing (scripts/bench-packages)"
done
bench_init

CPU_T=0 CPU_I=1
[ "$(nproc)" -ge 2 ] || CPU_I=0
[ -n "$NOPIN" ] && CPU_T='' CPU_I=''
PIN_I=()
[ -n "$CPU_I" ] && PIN_I=(taskset -c "$CPU_I")

TARGET_BP=()
[ "$TBP" -gt 0 ] && TARGET_BP=(--busy-poll "$TBP")
bench_tls_target "$CPU_T" -n "$BENCH_NQN" --ns null:64G "${TARGET_BP[@]}"

W_ID=(rr4k_qd32 sr128k_qd16 sw128k_qd16)
W_NAME=("4K randread QD32" "128K seq read QD16" "128K seq write QD16")
W_PERF=("-w randread -o 4k -q 32" "-w read -o 128k -q 16" "-w write -o 128k -q 16")
W_GOAL=(70 60 60)
# shellcheck disable=SC2034 # read by bench_tls_ceilings (bench/lib.sh)
W_BYTES=(4096 131072 131072)

# one RUN K MODE: one nvmeof perf; a line "K MODE RUN iops mb_s host_us tgt_us hs_ms"
one() {
	local run=$1 k=$2 mode=$3 addr=$PLAIN tls=() json=$BT/perf-$2-$3-$1.json t0 t1 hs
	if [ "$mode" = tls ]; then
		addr=$TLSADDR
		tls=(--tls-key-file "$BT/tls.key")
	fi
	t0=$(bench_target_cpu_io)
	# shellcheck disable=SC2086
	"${PIN_I[@]}" "$NVMEOF" perf "$addr" -n "$BENCH_NQN" --hostnqn "$HOSTNQN" "${tls[@]}" \
		${W_PERF[k]} -j 1 -i 1 -t "$SECS" --output-format json >"$json" 2>"$json.err" ||
		{ bench_log "perf ${W_ID[k]} $mode failed: $(head -n 2 "$json.err")"; return; }
	t1=$(bench_target_cpu_io)
	# the text form says "tls handshake: N ms", the JSON "tls_handshake_ms": N
	hs=$(sed -n -e 's/.*tls handshake: \([0-9.]*\) ms.*/\1/p' \
		-e 's/.*"tls_handshake_ms": *\([0-9.]*\).*/\1/p' "$json.err" "$json" | head -n 1)
	jq -r --arg t0 "$t0" --arg t1 "$t1" --arg k "$k" --arg m "$mode" --arg r "$run" \
		--arg hs "${hs:--}" '
		($t0 | split(" ") | map(tonumber)) as $a |
		($t1 | split(" ") | map(tonumber)) as $b |
		.total as $t |
		[$k, $m, $r, $t.iops, $t.mib_per_s * 1.048576, $t.process_cpu_us_per_io,
		 (if $t.ios > 0 then ($b[0] - $a[0]) * 1e6 / $t.ios else 0 end), $hs] |
		map(tostring) | join(" ")' "$json" >>"$BT/runs.txt"
}

bench_tls_runs "${#W_ID[@]}"

# med K MODE COLUMN, pratio K: over the paired runs (bench/lib.sh)
med() { bench_pair_med "$BT/runs.txt" "$1" "$2" "$3" -; }
pratio() { bench_pair_ratio "$BT/runs.txt" "$1"; }

printf '%-20s %10s %10s %8s %8s %6s %-18s %13s %13s %8s\n' workload 'plain IOPS' 'TLS IOPS' \
	'pl MB/s' 'TLS MB/s' ratio 'goal (met?)' 'host us/IO' 'tgt us/IO' 'hs ms'
for ((k = 0; k < ${#W_ID[@]}; k++)); do
	r=$(pratio "$k")
	met=$(awk -v r="$r" -v g="${W_GOAL[k]}" 'BEGIN { print (r != "-" && r * 100 >= g) ? "yes" : "no" }')
	printf '%-20s %10.0f %10.0f %8.0f %8.0f %6s %-18s %6.2f/%-6.2f %6.2f/%-6.2f %8s\n' "${W_NAME[k]}" \
		"$(med "$k" plain 4)" "$(med "$k" tls 4)" "$(med "$k" plain 5)" "$(med "$k" tls 5)" \
		"$r" ">=${W_GOAL[k]}% ($met)" "$(med "$k" plain 6)" "$(med "$k" tls 6)" \
		"$(med "$k" plain 7)" "$(med "$k" tls 7)" "$(med "$k" tls 8)"
done
echo "(nvmeof perf, 1 thread, null namespace; target $([ -n "$CPU_T" ] && echo "on CPU $CPU_T" || echo unpinned), perf $([ -n "$CPU_I" ] && echo "on CPU $CPU_I" || echo unpinned);"
echo " TLS 1.3 PSK, TLS_AES_128_GCM_SHA256, OpenSSL encrypting (no kTLS); ratio: TLS / plaintext IOPS,"
echo " median of $RUNS paired run(s) of ${SECS}s; us/IO: plaintext/TLS CPU time per I/O; hs ms: TLS handshake)"
bench_tls_ceilings "${#W_ID[@]}" 6 7
