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
for c in discover identify log list get-feature set-feature perf gen-hostnqn show-hostnqn \
	id-ctrl id-ns smart-log error-log fw-log get-log show-regs admin-passthru \
	io-passthru connect connect-all list-subsys; do
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
complete_words "$NVMEOF" get-log 127.0.0.1 --l >"$T/out"
for o in --log-id --log-len --lpo --lsp; do
	grep -qx -- "$o" "$T/out" || fail "get-log: '$o' not offered"
done
complete_words "$NVMEOF" identify -- >"$T/out"
for o in --transport --traddr --trsvcid --hostnqn --hostid --host-traddr --host-iface \
	--ctrl-loss-tmo --config; do
	grep -qx -- "$o" "$T/out" || fail "identify: '$o' not offered"
done
complete_words "$NVMEOF" discover -t "" >"$T/out"
grep -qx tcp "$T/out" || fail "discover -t: tcp not offered"
complete_words "$NVMEOF" perf -t "" >"$T/out"
grep -q . "$T/out" && fail "perf -t (seconds) offered: $(cat "$T/out")"
complete_words "$NVMEOF" admin-passthru -- >"$T/out"
for o in --opcode --cdw10 --data-len --input-file --raw-binary; do
	grep -qx -- "$o" "$T/out" || fail "admin-passthru: '$o' not offered"
done
complete_words "$NVMEOF" connect -- >"$T/out"
for o in --mountpoint --base --dry-run; do
	grep -qx -- "$o" "$T/out" || fail "connect: '$o' not offered"
done
exit 0
