#!/bin/sh
# nvmeof list-subsys on a real multipath mount: nvmeof-target with two
# listeners, nvmeof-mount over both; list-subsys (text and JSON) lists the
# two paths with their state, ANA state and I/O counts as the mount's paths
# file has them, and follows an ANA change (one listener's group made
# inaccessible) and a dropped connection (its last error).  Skips while
# nvmeof-mount takes one address (no iopolicy= in its --help).
. "$(dirname "$0")/lib.sh"
NVMEOF=${NVMEOF:-$top_builddir/cli/nvmeof}
JSON_QUERY=${JSON_QUERY:-$top_builddir/tests/cli/json_query}
[ -x "$NVMEOF" ] && [ -x "$JSON_QUERY" ] || fail "no $NVMEOF or $JSON_QUERY"
"$NVMEOF_MOUNT" --help 2>&1 | grep -q iopolicy ||
	skip "this nvmeof-mount takes one address (multipath: no iopolicy= in its --help)"

start_target -n "$TEST_NQN" --ns ram:64M -l 127.0.0.1:0
P2=$(sed -n 2p "$T/port" | grep -o '[0-9][0-9]*$')
[ -n "$P2" ] || fail "the target wrote one port: $(cat "$T/port")"
A1=127.0.0.1:$TPORT
A2=127.0.0.1:$P2
ADDR=$A1,$A2
do_mount -k 1 -c 1 -o iopolicy=round-robin
[ -r "$MNT/paths" ] || fail "no paths file at the mount root"

# pathf ADDR KEY: a field of ADDR's line in the paths file
pathf() {
	awk -v a="$1" -v k="$2=" '$2 == a {
		for (i = 3; i <= 9 && i <= NF; i++)
			if (index($i, k) == 1) { print substr($i, length(k) + 1); exit }
	}' "$MNT/paths"
}
# wait_for WHAT CONDITION: up to 30 s (a hang guard)
wait_for() {
	_i=0
	until eval "$2"; do
		_i=$((_i + 1))
		[ $_i -lt 600 ] || fail "$1: not within 30 s; paths: $(cat "$MNT/paths")"
		sleep 0.05
	done
}
wait_for "both paths live" '[ "$(pathf $A1 state)" = live ] && [ "$(pathf $A2 state)" = live ]'
dd if=/dev/urandom of="$T/data" bs=64k count=16 status=none
dd if="$T/data" of="$MNT/n1" bs=64k conv=notrunc oflag=direct status=none || fail "write"
cmp -n 1048576 "$T/data" "$MNT/n1" || fail "read back differs"

# mine: this mount's block of list-subsys' text
mine() {
	awk -v m="$MNT" 'index($0, m " - NQN=") == 1 { on = 1 } /^$/ { on = 0 } on' "$T/ls"
}
"$NVMEOF" list-subsys >"$T/ls" 2>"$T/err" || fail "list-subsys exited $?: $(cat "$T/err")"
mine >"$T/mine"
[ -s "$T/mine" ] || fail "list-subsys does not list $MNT: $(cat "$T/ls")"
for a in "$A1" "$A2"; do
	grep -q "^ +- tcp traddr=$a cntlid=[0-9]* live path=[01] ana=1:optimized reads=[0-9]* writes=[0-9]* inflight=[0-9]* errors=[0-9]*\$" \
		"$T/mine" || fail "list-subsys: no live optimized path $a: $(cat "$T/mine")"
done
"$NVMEOF" list-subsys -o json >"$T/out" 2>"$T/err" || fail "list-subsys -o json exited $?"
n=$("$JSON_QUERY" '#Subsystems' <"$T/out") || fail "list-subsys -o json: invalid JSON"
i=0
while [ "$("$JSON_QUERY" "Subsystems.$i.Mountpoint" <"$T/out")" != "$MNT" ]; do
	i=$((i + 1))
	[ $i -lt "$n" ] || fail "list-subsys -o json does not list $MNT"
done
s=Subsystems.$i
q() { "$JSON_QUERY" "$s.$1" <"$T/out" || fail "list-subsys -o json: no $s.$1"; }
[ "$("$JSON_QUERY" "#$s.Paths" <"$T/out")" = 2 ] || fail "JSON: not 2 paths"
total=0
for p in 0 1; do
	[ "$(q Paths.$p.State)" = live ] || fail "JSON: path $p not live"
	[ "$(q Paths.$p.ANAGroups.0.State)" = optimized ] || fail "JSON: path $p not optimized"
	total=$((total + $(q Paths.$p.Reads) + $(q Paths.$p.Writes)))
done
[ "$total" -gt 0 ] || fail "JSON: no I/O counted on either path"

# listener 2's group 1 inaccessible: the mount reads the ANA log again
ctl "ana $A2 1 inaccessible" || fail "ana $A2 1 inaccessible: $(cat "$T/ctl.out")"
wait_for "path 2 inaccessible" '[ "$(pathf $A2 ana)" = 1:inaccessible ]'
dd if="$MNT/n1" of=/dev/null bs=64k count=16 iflag=direct status=none || fail "read while path 2 is inaccessible"
"$NVMEOF" list-subsys >"$T/ls" 2>"$T/err" || fail "list-subsys exited $?"
mine | grep -q "^ +- tcp traddr=$A2 cntlid=[0-9]* live path=[01] ana=1:inaccessible " ||
	fail "list-subsys does not show $A2 inaccessible: $(mine)"

# path 1 (the only usable one now) loses its I/O connection: its last error
ctl "fault drop-after:1@io@$A1" || fail "fault drop-after: $(cat "$T/ctl.out")"
dd if="$MNT/n1" of=/dev/null bs=4k count=64 iflag=direct status=none || fail "read across the drop"
wait_for "path 1's last error" '[ "$(sed -n "s/^[0-9]* $A1 .* last_error=//p" "$MNT/paths")" != - ]'
"$NVMEOF" list-subsys -o json >"$T/out" 2>"$T/err" || fail "list-subsys -o json exited $?"
k=0
[ "$(q Paths.0.Address)" = "$A1" ] || k=1
[ -n "$(q Paths.$k.LastError)" ] && [ "$(q Paths.$k.LastError)" != "(object)" ] ||
	fail "JSON: no LastError for $A1"
wait_for "path 1 live again" '[ "$(pathf $A1 state)" = live ]'
ctl "ana $A2 1 optimized" || fail "ana optimized"
wait_for "path 2 optimized" '[ "$(pathf $A2 ana)" = 1:optimized ]'
cmp -n 1048576 "$T/data" "$MNT/n1" || fail "data after the changes differs"
do_umount
echo "list-subsys showed the two paths of $MNT, an ANA change and a last error"
