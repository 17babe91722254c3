#!/bin/sh
# log/ pages as decoded text (and raw .bin); each open reads the page anew.
. "$(dirname "$0")/lib.sh"
start_target
do_mount

cat "$MNT/log/smart" >"$T/smart" || fail "cat log/smart"
grep -q "^critical_warning *: " "$T/smart" || fail "log/smart not decoded: $(head -3 "$T/smart")"
grep -q "^temperature *: " "$T/smart" || fail "no temperature in log/smart"
grep -q "^percent_used *: " "$T/smart" || fail "no percent_used in log/smart"
cat "$MNT/log/error" >"$T/error" || fail "cat log/error"
[ -s "$T/error" ] || fail "log/error is empty"
grep -q "no entries\|error_count" "$T/error" || fail "log/error not decoded: $(head -3 "$T/error")"
grep -q "^frs1 *: " "$MNT/log/firmware" || fail "log/firmware not decoded"
[ -s "$MNT/log/cmd-effects" ] || fail "log/cmd-effects is empty"
cat "$MNT/log/changed-ns" >/dev/null || fail "cat log/changed-ns"
# text and raw: the raw page has the fixed size, the text is not binary
for l in smart firmware error cmd-effects changed-ns; do
	[ "$(wc -c <"$MNT/log/$l.bin")" -eq "$(stat -c %s "$MNT/log/$l.bin")" ] ||
		fail "log/$l.bin: read size differs from st_size"
	grep -q "$(printf '\001')" "$MNT/log/$l" && fail "log/$l is not text"
done
# st_size of a text page is what a read returns
[ "$(wc -c <"$MNT/log/smart")" -eq "$(stat -c %s "$MNT/log/smart")" ] || fail "log/smart st_size"
# nvmeof-target reports ANA (CMIC bit 3): log/ana, read anew on each open
grep -q "^state *: optimized" "$MNT/log/ana" || fail "log/ana: $(head -8 "$MNT/log/ana")"
ctl "ana 127.0.0.1:$TPORT 1 non-optimized" || fail "ana: $(cat "$T/ctl.out")"
grep -q "^state *: non-optimized" "$MNT/log/ana" || fail "log/ana after the change: $(head -8 "$MNT/log/ana")"
grep -q "^chgcnt *: 1" "$MNT/log/ana" || fail "log/ana CHGCNT: $(head -3 "$MNT/log/ana")"
# writing to a log page is refused
sh -c "echo x >'$MNT/log/smart'" 2>/dev/null && fail "writing log/smart succeeded"

# Reading a page must not swallow an async event the library waits for:
# add a namespace, read changed-ns, and the new namespace still appears.
ctl "ns-add $TEST_NQN auto ram:4M" || fail "ns-add: $(cat "$T/ctl.out")"
cat "$MNT/log/changed-ns" >/dev/null
i=0
while [ ! -e "$MNT/n2" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "n2 did not appear after reading changed-ns"
	sleep 0.1
done
do_umount
exit 0
