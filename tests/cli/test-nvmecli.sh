#!/bin/sh
# Issue 19: nvme-cli's addressing (-t tcp -a ADDR -s PORT -q -I ...) and
# command names (id-ctrl, id-ns, smart-log, error-log, fw-log, get-log,
# show-regs, admin-passthru, io-passthru) against nvmeof-target, nvme-cli's
# words in discover -o json, nvme-cli's config.json, and list -n WRONG.
. "$(dirname "$0")/lib.sh"
start_target
A="-a 127.0.0.1 -s $TPORT"
HOSTNQN="nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
HOSTID="11111111-2222-3333-4444-555555555555"
mkdir -p "$T/etc"
echo "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-2222-3333-4444-555555555555" >"$T/etc/hostnqn"
echo "aaaaaaaa-2222-3333-4444-555555555555" >"$T/etc/hostid"
# never the real /etc/nvme: the identity files and config.json come from here
NVMEOF_ETC_DIR="$T/etc"
export NVMEOF_ETC_DIR
unset NVMEOF_CONFIG_JSON

# -- addressing
expect 0 discover -t tcp $A
out_has "$TEST_NQN"
expect 0 identify $A -n "$TEST_NQN" -q "$HOSTNQN" -I "$HOSTID" -o json
[ "$(json sn)" = "$TEST_SERIAL" ] || fail "identify -a/-s: sn"
expect 0 perf -t 1 -q 2 $A -n "$TEST_NQN" --transport tcp
out_has "total"
expect 64 identify -t rdma $A -n "$TEST_NQN"
err_has "only tcp"
expect 64 identify "$ADDR" -a 127.0.0.1 -n "$TEST_NQN"
err_has "given twice"
expect 64 identify "$ADDR" -s 4420 -n "$TEST_NQN"
err_has "port is given twice"
expect 64 identify -n "$TEST_NQN"
err_has "no target address"
# get-feature keeps -s (select) and -f (feature): the port is --trsvcid
expect 0 get-feature -a 127.0.0.1 --trsvcid "$TPORT" -n "$TEST_NQN" -f 7 -s 0
out_has "Number of Queues"

# -- list -n WRONG: the error, and not also "no NVM subsystems"
expect 76 list "$ADDR" -n nqn.2026-11.org.example:wrong
grep -q "no NVM subsystems" "$T/out" && fail "list -n WRONG also said 'no NVM subsystems'"
err_has "nqn.2026-11.org.example:wrong"

# -- discover -o json in nvme-cli's words
expect 0 discover "$ADDR" -o json
[ "$(json records.0.trtype)" = tcp ] || fail "trtype: $(json records.0.trtype)"
[ "$(json records.0.adrfam)" = ipv4 ] || fail "adrfam: $(json records.0.adrfam)"
[ "$(json records.0.subtype)" = "nvme subsystem" ] || fail "subtype: $(json records.0.subtype)"
case $(json records.0.treq) in
"not specified"*|required*|"not required"*) ;;
*) fail "treq: $(json records.0.treq)" ;;
esac
[ "$(json records.0.subnqn)" = "$TEST_NQN" ] || fail "subnqn"

# -- nvme-cli's names
expect 0 id-ctrl "$ADDR" -n "$TEST_NQN"
grep -qE "^sn +: $TEST_SERIAL" "$T/out" || fail "id-ctrl: no sn line"
expect 0 id-ctrl "$ADDR" -n "$TEST_NQN" -o normal
out_has "mn "
expect 0 id-ns "$ADDR" -n "$TEST_NQN" -o json
[ "$(json nsze)" -gt 0 ] || fail "id-ns: nsze"
expect 0 smart-log "$ADDR" -n "$TEST_NQN" -o json
json critical_warning >/dev/null
expect 0 error-log "$ADDR" -n "$TEST_NQN" -e 4 -o binary
[ "$(wc -c <"$T/out")" -eq 256 ] || fail "error-log -e 4: $(wc -c <"$T/out") bytes"
expect 0 fw-log "$ADDR" -n "$TEST_NQN" -o binary
cp "$T/out" "$T/fw.bin"
# get-log in pieces of 64 bytes reads what one Get Log Page reads
expect 0 get-log "$ADDR" -n "$TEST_NQN" -i 3 -l 512 -x 64 -o binary
cmp -s "$T/out" "$T/fw.bin" || fail "get-log -i 3 -x 64 differs from fw-log"
expect 0 get-log "$ADDR" -n "$TEST_NQN" -i 3 -l 256 --lpo 256 -o binary
tail -c 256 "$T/fw.bin" | cmp -s - "$T/out" || fail "get-log --lpo 256 is not the second half"
expect 0 get-log "$ADDR" -n "$TEST_NQN" -i 2 -l 512 -o json
[ "$(json length)" = 512 ] || fail "get-log json length"
expect 0 get-log "$ADDR" -n "$TEST_NQN" -i 2 -l 16
out_has "log_id: 0x02"
expect 64 get-log "$ADDR" -n "$TEST_NQN" -i 2
err_has "--log-len is required"
expect 64 get-log "$ADDR" -n "$TEST_NQN" -i 2 -l 6
err_has "multiple of 4"

# show-regs: the controller is enabled and ready
expect 0 show-regs "$ADDR" -n "$TEST_NQN"
out_has "cap     : "
out_has "Ready (RDY): Yes"
out_has "Enable (EN): Yes"
expect 0 show-regs "$ADDR" -n "$TEST_NQN" -o json
[ "$(json csts_decoded.rdy)" = 1 ] || fail "show-regs json: rdy"
[ "$(json cc_decoded.en)" = 1 ] || fail "show-regs json: en"

# admin-passthru: Identify Controller raw is what id-ctrl reads
expect 0 id-ctrl "$ADDR" -n "$TEST_NQN" -o binary
cp "$T/out" "$T/idctrl.bin"
expect 0 admin-passthru "$ADDR" -n "$TEST_NQN" -O 6 --cdw10 1 -l 4096 -r -b
[ "$(wc -c <"$T/out")" -eq 4096 ] || fail "admin-passthru -l 4096 -b: $(wc -c <"$T/out") bytes"
# the same but for CNTLID (bytes 78-79, 1-based 79-80): each connect has its own
diffs=$(cmp -l "$T/out" "$T/idctrl.bin" | awk '$1 != 79 && $1 != 80' | wc -l)
[ "$diffs" -eq 0 ] || fail "admin-passthru Identify differs from id-ctrl in $diffs bytes"
expect 0 admin-passthru "$ADDR" -n "$TEST_NQN" -O 6 --cdw10 1 -l 4096
out_has "NVMe command result:00000000"
expect 76 admin-passthru "$ADDR" -n "$TEST_NQN" -O 0xc3
expect 64 admin-passthru "$ADDR" -n "$TEST_NQN" --cdw10 1
err_has "--opcode is required"

# io-passthru: write a block, read it back
head -c 4096 /dev/urandom >"$T/blk"
expect 0 io-passthru "$ADDR" -n "$TEST_NQN" -O 1 --namespace-id 1 --cdw10 7 -l 4096 --write -i "$T/blk"
expect 0 io-passthru "$ADDR" -n "$TEST_NQN" -O 2 --namespace-id 1 --cdw10 7 -l 4096 -b
cmp -s "$T/out" "$T/blk" || fail "io-passthru read back other data"
expect 0 io-passthru "$ADDR" -n "$TEST_NQN" -O 0 --namespace-id 1
# any opcode goes to the controller (tests/cli/test-io-passthru.sh)
expect 76 io-passthru "$ADDR" -n "$TEST_NQN" -O 0x7e --namespace-id 1
err_has "Invalid Command Opcode"

# -- config.json (nvme-cli's layout): host identity and port options
cat >"$T/etc/config.json" <<JSON
[
  {
    "hostnqn": "$HOSTNQN",
    "hostid": "$HOSTID",
    "subsystems": [
      {
        "nqn": "$TEST_NQN",
        "ports": [
          { "transport": "tcp", "traddr": "127.0.0.1", "trsvcid": "$TPORT",
            "ctrl_loss_tmo": 33, "hdr_digest": true }
        ]
      }
    ]
  }
]
JSON
expect 0 connect "$ADDR" -n "$TEST_NQN" --dry-run --base "$T/run"
out_has "--hostnqn $HOSTNQN"
out_has "--hostid $HOSTID"
out_has "--ctrl-loss-tmo 33"
out_has "--hdr-digest"
out_has "$T/run/nqn.2026-11.org.example-cli-test"
# the command line wins over the file
expect 0 connect "$ADDR" -n "$TEST_NQN" --dry-run --base "$T/run" -q "$TEST_NQN.host" --ctrl-loss-tmo 5
out_has "--hostnqn $TEST_NQN.host"
out_has "--ctrl-loss-tmo 5"
# the identity reaches the target
expect 0 identify "$ADDR" -n "$TEST_NQN" -o json
expect 0 connect "$ADDR" -n "$TEST_NQN" --dry-run --config none
grep -qF -- "--hostnqn" "$T/out" && fail "--config none still read config.json"
printf '[ { "hostnqn": ' >"$T/etc/config.json"
expect 78 identify "$ADDR" -n "$TEST_NQN"
err_has "config.json: not valid JSON"
printf '[ { "hostnqn": "not an nqn" } ]' >"$T/etc/config.json"
expect 78 identify "$ADDR" -n "$TEST_NQN"
err_has "hostnqn"
expect 78 identify "$ADDR" -n "$TEST_NQN" --config "$T/missing.json"
rm -f "$T/etc/config.json"
# NVMEOF_CONFIG_JSON moves it
printf '[ { "hostnqn": "%s.env" } ]' "$TEST_NQN" >"$T/env.json"
NVMEOF_CONFIG_JSON="$T/env.json" "$NVMEOF" connect "$ADDR" -n "$TEST_NQN" --dry-run >"$T/out" 2>"$T/err" ||
	fail "NVMEOF_CONFIG_JSON: connect --dry-run failed"
out_has "--hostnqn $TEST_NQN.env"
echo "nvme-cli names and addressing: ok"
