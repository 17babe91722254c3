#!/bin/sh
# IPv6 addresses are written in brackets wherever a port follows them:
# nvmeof-mount's status (also of the subsystems a discovery controller on
# [::1] lists, whose address comes from the discovery log), nvmeof
# list-subsys (text and JSON); nvmeof discover prints traddr and trsvcid
# apart, as nvme-cli does, with adrfam ipv6.  Everything on ::1 (loopback).
. "$(dirname "$0")/lib.sh"
: "${NVMEOF:=$top_builddir/cli/nvmeof}"
[ -x "$NVMEOF" ] || fail "the tool $NVMEOF is not built"
# ::1 on lo (absent when IPv6 is disabled: sysctl net.ipv6.conf.lo.disable_ipv6)
grep -qi '^0\{31\}1 .* lo$' /proc/net/if_inet6 2>/dev/null ||
	skip "no IPv6 address ::1 on lo ('ip -6 addr show lo' lists none)"

A=nqn.2026-11.org.example:fuse-v6a
B=nqn.2026-11.org.example:fuse-v6b
TARGET_HOST='[::1]' start_target -n "$TEST_NQN" --ns ram:16M --discovery-port=0
DPORT=$(sed -n 2p "$T/port")
[ -n "$DPORT" ] || fail "no discovery port in $(cat "$T/port")"
[ "$ADDR" = "[::1]:$TPORT" ] || fail "ADDR is $ADDR"

# -- a mount of [::1]:PORT: status says the address in brackets
do_mount
[ "$(st address)" = "[::1]:$TPORT" ] || fail "status address: '$(st address)'"
head -c 65536 /dev/urandom >"$T/p"
dd if="$T/p" of="$MNT/n1" bs=64k conv=notrunc oflag=direct status=none || fail "write over IPv6"
cmp -n 65536 "$T/p" "$MNT/n1" || fail "read back over IPv6 differs"

# -- list-subsys: this mount's path (other mounts may be listed too)
"$NVMEOF" list-subsys >"$T/ls" 2>"$T/err" || fail "list-subsys exited $?: $(cat "$T/err")"
awk -v m="$MNT" 'index($0, m " - NQN=") == 1 { on = 1; next } /^$/ { on = 0 } on' \
	"$T/ls" >"$T/mine"
grep -qF "+- tcp traddr=[::1]:$TPORT " "$T/mine" ||
	fail "list-subsys path of $MNT: $(cat "$T/ls")"
"$NVMEOF" list-subsys -o json >"$T/ls.json" 2>"$T/err" ||
	fail "list-subsys -o json exited $?: $(cat "$T/err")"
grep -qF "\"Address\": \"[::1]:$TPORT\"" "$T/ls.json" ||
	fail "list-subsys -o json: $(cat "$T/ls.json")"
do_umount

# -- discover on [::1]: traddr ::1 and the port apart, adrfam ipv6
"$NVMEOF" discover "[::1]:$DPORT" >"$T/d" 2>"$T/err" || fail "discover exited $?: $(cat "$T/err")"
awk -v p="$TPORT" -v n="$TEST_NQN" '$1 == "tcp" && $2 == "ipv6" && $4 == "::1" && $5 == p && $6 == n { ok = 1 }
	END { exit !ok }' "$T/d" || fail "discover: $(cat "$T/d")"
"$NVMEOF" discover -a ::1 -s "$DPORT" -o json >"$T/d.json" 2>"$T/err" ||
	fail "discover -a ::1 exited $?: $(cat "$T/err")"
grep -qF '"traddr": "::1"' "$T/d.json" || fail "discover -o json traddr: $(cat "$T/d.json")"
grep -qF '"adrfam": "ipv6"' "$T/d.json" || fail "discover -o json adrfam: $(cat "$T/d.json")"
grep -qF "\"trsvcid\": \"$TPORT\"" "$T/d.json" || fail "discover -o json trsvcid: $(cat "$T/d.json")"

# -- a mount of the discovery controller: the subsystem's address is built
# from the discovery log's traddr ::1 and trsvcid, so brackets again
ADDR="[::1]:$DPORT" NO_NQN=1 do_mount
grep -q "^subnqn *: $TEST_NQN$" "$MNT/status" || fail "discovery mount: $(cat "$MNT/status")"
[ "$(st address)" = "[::1]:$TPORT" ] || fail "discovered subsystem's address: '$(st address)'"
do_umount
kill "$TPID"
wait "$TPID" 2>/dev/null
TPID=

# two subsystems: a directory each, and the root's status is the discovery
# association's, on the discovery port
TARGET_HOST='[::1]' start_target -n "$A" --ns ram:4M -n "$B" --ns ram:4M --discovery-port=0
DPORT=$(sed -n 2p "$T/port")
ADDR="[::1]:$DPORT" NO_NQN=1 do_mount
[ "$(st discovery)" = "[::1]:$DPORT" ] || fail "discovery association's address: '$(st discovery)' in $(cat "$MNT/status")"
for s in "$A" "$B"; do
	got=$(sed -n 's/^address *: //p' "$MNT/$s/status")
	[ "$got" = "[::1]:$TPORT" ] || fail "$s/status address: '$got'"
done
do_umount
exit 0
