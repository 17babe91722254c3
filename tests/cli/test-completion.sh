#!/bin/sh
# The bash completion offers the commands and, for a command, the options
# its --help prints.
. "$(dirname "$0")/lib.sh"
command -v bash >/dev/null 2>&1 || skip "bash is not installed"
comp="$top_srcdir/cli/nvmeof.bash-completion"
# complete_words WORD...: what completing the last word offers
complete_words() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		unset -f _init_completion
		_nvmeof
		printf "%s\n" "${COMPREPLY[@]}"' sh "$comp" "$@"
}
complete_words "$NVMEOF" "" >"$T/out" || fail "completion failed"
for c in discover identify log list get-feature set-feature perf gen-hostnqn show-hostnqn; do
	grep -qx "$c" "$T/out" || fail "'$c' not offered"
done
complete_words "$NVMEOF" perf -- >"$T/out"
for o in --queue-depth --io-size --workload --verify --hdr-digest --output-format; do
	grep -qx -- "$o" "$T/out" || fail "perf: '$o' not offered"
done
grep -qx -- --lid "$T/out" && fail "perf: --lid offered"
complete_words "$NVMEOF" perf 127.0.0.1 -w rand >"$T/out"
[ "$(sort "$T/out" | tr '\n' ' ')" = "randread randrw randwrite " ] || fail "workloads: $(cat "$T/out")"
complete_words "$NVMEOF" log 127.0.0.1 --l >"$T/out"
grep -qx -- --lid "$T/out" || fail "log: --lid not offered"
exit 0
