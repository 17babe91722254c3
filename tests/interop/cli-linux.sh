#!/bin/bash
# nvmeof(8) against the Linux kernel's nvmet (run by run-interop.sh with the
# guest up): discover lists what the guest configured, identify shows what
# the guest set, list shows its namespaces, log pages decode, JSON parses,
# and perf runs 5 s with non-zero IOPS, its writes then checked by a
# separate read-back run.
set -u
B=${NVMEOF_BUILDDIR:-.}
nvmeof=$B/cli/nvmeof
jq=$B/tests/cli/json_query
addr=127.0.0.1:$NVMEOF_INTEROP_PORT
S1=nqn.2026-11.org.example:linux-nvmet
S2=nqn.2026-11.org.example:linux-nvmet-2
pass=0 fail=0
t=$(mktemp -d "${TMPDIR:-/tmp}/cli-linux.XXXXXX")
trap 'rm -rf "$t"' EXIT
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
ko() { echo "FAIL: $*"; fail=$((fail + 1)); }
run() { "$nvmeof" "$@" >"$t/out" 2>"$t/err"; }
has() { grep -q -- "$1" "$t/out"; }

# discover: both NVM subsystems, at the address the guest configured
if run discover "$addr" && has "$S1" && has "$S2" &&
	[ "$(grep -c "127.0.0.1 *$NVMEOF_INTEROP_PORT" "$t/out")" -ge 2 ]; then
	ok "discover lists $S1 and $S2 at 127.0.0.1:$NVMEOF_INTEROP_PORT"
else ko "discover: $(cat "$t/out" "$t/err")"; fi
if run discover "$addr" -o json && "$jq" < "$t/out" >/dev/null; then
	ok "discover -o json parses"
else ko "discover -o json: $(head -c 300 "$t/out") $(cat "$t/err")"; fi

# identify: what the guest set
if run identify "$addr" -n "$S1" && grep -Eq '^sn +: linuxnvmet0001$' "$t/out" &&
	grep -Eq '^mn +: Linux$' "$t/out" && grep -Eq "^subnqn +: $S1\$" "$t/out"; then
	ok "identify: sn linuxnvmet0001, mn Linux, subnqn $S1"
else ko "identify: $(head -c 400 "$t/out") $(cat "$t/err")"; fi
if run identify "$addr" -n "$S1" -o json && "$jq" < "$t/out" >/dev/null &&
	[ "$("$jq" sn < "$t/out")" = linuxnvmet0001 ]; then
	ok "identify -o json: sn linuxnvmet0001"
else ko "identify -o json: $(head -c 300 "$t/out") $(cat "$t/err")"; fi
if run identify "$addr" -n "$S1" -o binary && [ "$(wc -c < "$t/out")" = 4096 ]; then
	ok "identify -o binary: 4096 bytes"
else ko "identify -o binary: $(wc -c < "$t/out") bytes"; fi

# list: ns 1 64 MiB file (4096-byte blocks), ns 2 null_blk (512)
if run list "$addr" -n "$S1" && grep -Eq '^1 +64.00 MiB .* 4096 ' "$t/out" &&
	grep -Eq '^2 +250.00 GiB .* 512 ' "$t/out"; then
	ok "list: ns 1 64 MiB/4096, ns 2 250 GiB/512"
else ko "list: $(cat "$t/out" "$t/err")"; fi

# log pages decode, as text and JSON
for lid in 1 2 3 4 5; do
	if run log "$addr" -n "$S1" --lid "$lid" && [ -s "$t/out" ] &&
		! grep -q '^0000' "$t/out"; then
		ok "log --lid $lid decodes ($(head -n 1 "$t/out" | cut -c1-50))"
	else ko "log --lid $lid: $(head -c 300 "$t/out") $(cat "$t/err")"; fi
	if run log "$addr" -n "$S1" --lid "$lid" -o json && "$jq" < "$t/out" >/dev/null; then
		ok "log --lid $lid -o json parses"
	else ko "log --lid $lid -o json: $(head -c 300 "$t/out") $(cat "$t/err")"; fi
done
if run log "$addr" -n "$S1" --lid 2 && grep -Eq '^critical_warning +: ' "$t/out"; then
	ok "log smart names critical_warning"
else ko "log smart: $(head -c 300 "$t/out")"; fi

# perf: 5 s of verified random writes on SUB2 ns 1 (16 MiB), non-zero
# IOPS; then a separate run reads everything back against the pattern.
if run perf "$addr" -n "$S2" --ns 1 --verify -w randwrite -q 16 -o 4k -t 5 &&
	iops=$(awk '$1 == "total" { print int($2) }' "$t/out") && [ "${iops:-0}" -gt 0 ]; then
	ok "perf randwrite 5 s: $iops IOPS"
else ko "perf randwrite: $(tail -n 5 "$t/out") $(cat "$t/err")"; fi
if run perf "$addr" -n "$S2" --ns 1 --verify --no-prefill -w read -q 8 -o 64k -t 2 &&
	has "verify: 0 mismatched block reads"; then
	ok "perf read-back: every block holds what the write run wrote"
else ko "perf read-back: $(tail -n 5 "$t/out") $(cat "$t/err")"; fi

echo "cli-linux: $pass passed, $fail failed"
[ $fail = 0 ]
