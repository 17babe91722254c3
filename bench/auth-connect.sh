#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/auth-connect.sh: what DH-HMAC-CHAP costs at connect.  nvmeof-target
# (on 127.0.0.1) lets one host in without a secret and one host per DH
# group with a secret; `nvmeof identify` (connect the admin queue,
# authenticate, Identify Controller, disconnect: one association) runs
# --count times for each, and the median wall time per association is
# printed with its difference to the association without authentication.
# Both sides compute here (host and target on this machine), so the
# difference is the host's and the target's DH and HMAC work together.
# Prints figures; never passes or fails on a time.
#
#   bench/auth-connect.sh [--count N] [--builddir DIR] [--no-install]
#
#   --count     associations per row (default 20; ffdhe8192 gets at most 5)
#   --builddir  use the programs of this build instead of building
#               build-bench/
set -uo pipefail

COUNT=20
BUILDDIR=
INSTALL=1
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--count) COUNT=${2:?}; shift ;;
	--builddir) BUILDDIR=${2:?}; shift ;;
	--no-install) INSTALL= ;;
	-h | --help) bench_usage; exit 0 ;;
	*) echo "auth-connect.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
	esac
	shift
done
case "$COUNT" in '' | *[!0-9]* | 0) echo "auth-connect.sh: --count N, N > 0" >&2; exit 64 ;; esac

bench_programs "$INSTALL" "$BUILDDIR"
[ -x "$NVMEOF" ] || bench_die "$NVMEOF is not built"
bench_init

GROUPS_=(none null ffdhe2048 ffdhe4096 ffdhe8192)
hn() { echo "nqn.2014-08.org.example:bench-auth-$1"; }
args=()
for g in "${GROUPS_[@]}"; do
	args+=(--allow-host "$(hn "$g")")
	[ "$g" = none ] && continue
	k=$("$NVMEOF" gen-dhchap-key --hmac 0 --nqn "$(hn "$g")") || bench_die "gen-dhchap-key"
	(umask 077 && printf '%s\n' "$k" >"$BT/$g.key")
	args+=(--dhchap-key "$BT/$g.key" --dhchap-hash sha256 --dhchap-dhgroup "$g")
done
bench_target "" -n "$BENCH_NQN" --ns null:1G "${args[@]}" || bench_die "nvmeof-target did not start"

now_us() { echo $(($(date +%s%N) / 1000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
base=
printf '%-10s %8s %16s %12s\n' "DH group" runs "ms/association" "auth, ms"
for g in "${GROUPS_[@]}"; do
	n=$COUNT
	[ "$g" = ffdhe8192 ] && [ "$n" -gt 5 ] && n=5
	sec=()
	[ "$g" = none ] || sec=(--dhchap-secret "$BT/$g.key")
	: >"$BT/t"
	for ((i = 0; i < n; i++)); do
		t0=$(now_us)
		"$NVMEOF" identify "$TADDR" -n "$BENCH_NQN" --hostnqn "$(hn "$g")" "${sec[@]}" \
			-J none >/dev/null 2>"$BT/err" || bench_die "identify ($g): $(cat "$BT/err")"
		echo $(($(now_us) - t0)) >>"$BT/t"
	done
	ms=$(median <"$BT/t" | awk '{ printf "%.1f", $1 / 1000 }')
	[ "$g" = none ] && base=$ms
	printf '%-10s %8d %16s %12s\n' "$g" "$n" "$ms" \
		"$(awk -v a="$ms" -v b="$base" 'BEGIN { printf "%+.1f", a - b }')"
done
echo "(sha256; nvmeof identify per association, host and target on this machine)"
