#!/bin/sh
# log --lid 0xc decodes the ANA log of the listener it connects to, whole
# (sized from Identify), in text and JSON, with and without RGO; get-log
# gives the same bytes.
. "$(dirname "$0")/lib.sh"
start_target --ns ram:1M,ana=2 --ns null:4M,ana=3 -l 127.0.0.1:0 --control "$T/ctl"
P2=$(sed -n 2p "$T/port")
[ -n "$P2" ] || fail "no second listener in $(cat "$T/port")"
n="-n $TEST_NQN"
ctl "ana 127.0.0.1:$TPORT 2 inaccessible" || fail "ana: $(cat "$T/ctl.out")"
ctl "ana 127.0.0.1:$TPORT 3 change" || fail "ana: $(cat "$T/ctl.out")"

expect 0 log "$ADDR" $n --lid 0xc
out_has "chgcnt : 2"
out_has "ngrps  : 3"
out_has "state  : inaccessible"
out_has "state  : change"
out_has "nsids  : 2"
expect 0 log "$ADDR" $n --lid 0xc -o json
[ "$(json groups.1.state groups.1.nsids.0 groups.2.state)" = "inaccessible
2
change" ] || fail "JSON: $(cat "$T/out")"
expect 0 log "$ADDR" $n --lid 0xc --lsp 1 -o json
[ "$(json groups.0.nnsids groups.1.nnsids groups.1.state)" = "0
0
inaccessible" ] || fail "RGO JSON: $(cat "$T/out")"
# sized from Identify: 16 + 32 groups * 32 + 1024 NSIDs * 4
expect 0 log "$ADDR" $n --lid 0xc -o binary
[ "$(wc -c <"$T/out")" -eq 5136 ] || fail "log 0Ch is $(wc -c <"$T/out") bytes"
cp "$T/out" "$T/ana.bin"
expect 0 get-log "$ADDR" $n -i 0xc -l 5136 -x 1024 -o binary
cmp -s "$T/out" "$T/ana.bin" || fail "get-log -i 0xc differs from log --lid 0xc"
# the other listener: every group optimized, no change counted
expect 0 log "127.0.0.1:$P2" $n --lid 0xc -o json
[ "$(json chgcnt groups.1.state groups.2.state)" = "0
optimized
optimized" ] || fail "other listener: $(cat "$T/out")"
exit 0
