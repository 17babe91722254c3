#!/bin/sh
# Bad input never reaches the network: one line naming the problem, a hint
# line, exit 64 (EX_USAGE).  Needs no target.
. "$(dirname "$0")/lib.sh"
N=nqn.2026-11.org.example:x

# bad CASE-MESSAGE ARGS...: the tool must exit 64 with MESSAGE on line 1.
bad() {
	msg=$1
	shift
	RC=0
	"$NVMEOF" "$@" >"$T/out" 2>"$T/err" || RC=$?
	[ "$RC" -eq 64 ] || fail "'nvmeof $*' exited $RC, expected 64"
	[ "$(wc -l <"$T/err")" -eq 2 ] || fail "'nvmeof $*': not two lines on stderr"
	head -n 1 "$T/err" | grep -qF -- "$msg" || fail "'nvmeof $*': no '$msg' in: $(head -n 1 "$T/err")"
	sed -n 2p "$T/err" | grep -q "^Try 'nvmeof.*--help' for more information\.$" ||
		fail "'nvmeof $*': no usage hint"
	[ ! -s "$T/out" ] || fail "'nvmeof $*' printed on stdout"
}

bad "no command given"
bad "unknown command 'frobnicate'" frobnicate
bad "give a command before options" --bogus
bad "unknown option '--bogus'" discover 127.0.0.1 --bogus
bad "unknown option '-Z'" discover 127.0.0.1 -Z
bad "option '-q' needs a value" perf 127.0.0.1 -n $N -q
bad "option '--lid' needs a value" log 127.0.0.1 --lid
bad "no target address" identify
bad "unexpected argument 'extra'" discover 127.0.0.1 extra
bad "unexpected argument 'x'" gen-hostnqn x
# addresses
bad "port 99999 is out of range" discover 127.0.0.1:99999
bad "port 'abc' is not a number" discover 127.0.0.1:abc
bad "the port after ':' is empty" discover 127.0.0.1:
bad "the address is empty" discover ""
bad "without a closing" discover "[::1"
bad "the host is empty" discover :4420
# names
bad "invalid NQN" identify 127.0.0.1 -n not-an-nqn
bad "-n/--nqn" identify 127.0.0.1 -n ""
bad "--hostnqn" identify 127.0.0.1 --hostnqn nqn.bad
bad "is not a UUID" identify 127.0.0.1 --hostid 1234
# numbers: strict, full string, in range
bad "'-5' is negative" perf 127.0.0.1 -n $N -q -5
bad "'1e9' is not a whole number" perf 127.0.0.1 -n $N -t 1e9
bad "'99999999999999999999' is too large" perf 127.0.0.1 -n $N -q 99999999999999999999
bad "an empty value is not a number" perf 127.0.0.1 -n $N -j ""
bad "' 5' is not a whole number" perf 127.0.0.1 -n $N -j " 5"
bad "'5x' is not a whole number" perf 127.0.0.1 -n $N -j 5x
bad "'+5' is not a whole number" perf 127.0.0.1 -n $N -j +5
bad "'0x' is not a whole number" log 127.0.0.1 --lid 0x
bad "0 is out of range (1 to 1023)" perf 127.0.0.1 -n $N -q 0
bad "1024 is out of range (1 to 1023)" perf 127.0.0.1 -n $N -q 1024
bad "0 is out of range (1 to 86400)" perf 127.0.0.1 -n $N -t 0
bad "256 is out of range (0 to 255)" log 127.0.0.1 --lid 256
bad "0 is out of range (1 to 4294967295)" identify 127.0.0.1 --nsid 0
bad "4294967296 is out of range" identify 127.0.0.1 --ns 4294967296
bad "'4x' is not a size" perf 127.0.0.1 -n $N -o 4x
bad "100 is out of range (512 to" perf 127.0.0.1 -n $N -o 100
bad "'-1' is negative" identify 127.0.0.1 -k -1
bad "not a multiple of 4" log 127.0.0.1 --lid 2 --len 6
bad "4 is out of range (0 to 3)" get-feature 127.0.0.1 -f 7 --sel 4
bad "0 is out of range (1 to 255)" get-feature 127.0.0.1 -f 0
# choices and combinations
bad "unknown workload 'sideways'" perf 127.0.0.1 -n $N -w sideways
bad "unknown format 'yaml'" identify 127.0.0.1 -o yaml
bad "'binary' is not supported by list" list 127.0.0.1 -o binary
bad "'binary' is not supported by perf" perf 127.0.0.1 -n $N --output-format binary
bad "-M/--rwmixread applies only to -w rw or randrw" perf 127.0.0.1 -n $N -M 50 -w read
bad "-n/--nqn is required" perf 127.0.0.1
bad "--no-prefill applies only with --verify" perf 127.0.0.1 -n $N --no-prefill
bad "--lid is required" log 127.0.0.1
bad "-f/--feature-id is required" get-feature 127.0.0.1
bad "-V/--value is required" set-feature 127.0.0.1 -f 7
bad "needs a namespace (--nsid)" identify 127.0.0.1 --cns 0

# the reconnect options (issue 14) and nvme-cli's names (issue 19)
bad "--ctrl-loss-tmo: '-2' is negative" identify 127.0.0.1 --ctrl-loss-tmo -2
bad "--ctrl-loss-tmo: 86401 is out of range" identify 127.0.0.1 --ctrl-loss-tmo 86401
bad "--reconnect-delay: 0 is out of range" perf 127.0.0.1 -n $N --reconnect-delay 0
bad "--reconnect-delay: '-1' is negative" perf 127.0.0.1 -n $N --reconnect-delay -1
bad "--fast-io-fail-tmo: 'x' is not a whole number" list 127.0.0.1 --fast-io-fail-tmo x
bad "-t/--transport: 'rdma' is not supported" discover -t rdma -a 127.0.0.1
bad "-s/--trsvcid: 65536 is out of range" discover -a 127.0.0.1 -s 65536
bad "-a/--traddr: the address is empty" discover -a ''
bad "--lpo: 6 is not a multiple of 4" get-log 127.0.0.1 -i 2 -l 512 --lpo 6
bad "-x/--xfer-len: 6 is not a multiple of 4" get-log 127.0.0.1 -i 2 -l 512 -x 6
bad "-O/--opcode: 256 is out of range" admin-passthru 127.0.0.1 -O 256
bad "--cdw10: '-1' is negative" admin-passthru 127.0.0.1 -O 6 --cdw10 -1
bad "--write and -i/--input-file need -l/--data-len" admin-passthru 127.0.0.1 -O 9 --write
bad "-r/--read and --write exclude each other" admin-passthru 127.0.0.1 -O 9 -l 4 -r --write
bad "--namespace-id is required" io-passthru 127.0.0.1 -n $N -O 2
bad "-n/--nqn is required" connect 127.0.0.1
bad "unknown option '--mountpoint'" connect-all 127.0.0.1 --mountpoint /x
bad "unexpected argument '127.0.0.1'" list-subsys 127.0.0.1
bad "unknown format 'yaml'" list-subsys -o yaml
