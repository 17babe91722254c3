#!/bin/sh
# list-subsys on the paths files of multipath mounts, without FUSE: a mount
# table of our own (NVMEOF_MOUNTINFO) names directories that hold what
# nvmeof-mount's pseudo-files hold (status, identify, paths, n1).  A flat
# mount with two paths, a flat mount of an older nvmeof-mount (no paths
# file: the one path of its status), a tree whose subsystem directory has
# paths; every field in text and JSON; a malformed paths line is named
# (file:line, field) and ends in exit 76 while the good lines are listed.
. "$(dirname "$0")/lib.sh"

M=$T/mnt
mkdir -p "$M/mp" "$M/old" "$M/tree/nqn.2026-11.org.example:t1" "$M/bad"
status() { # DIR NQN ADDR CNTLID [POLICY]
	{
		printf 'address       : %s\nsubnqn        : %s\n' "$3" "$2"
		printf 'cntlid        : %s\nstate         : live\n' "$4"
		[ -z "${5:-}" ] || printf 'iopolicy      : %s\n' "$5"
	} >"$1/status"
	printf 'vid     : 0\nsn      : SN-%s   \nmn      : model %s\nfr      : 1.0\n' "$4" "$4" \
		>"$1/identify"
	: >"$1/n1"
}
status "$M/mp" nqn.2026-11.org.example:mp 127.0.0.1:4420 1 round-robin
cat >"$M/mp/paths" <<'EOF'
0 127.0.0.1:4420 cntlid=1 state=live ana=1:optimized,2:non-optimized reads=1000 writes=200 inflight=3 errors=0 last_error=-
1 [::1]:4421 cntlid=2 state=failed ana=1:inaccessible reads=18446744073709551615 writes=0 inflight=0 errors=7 last_error=connection reset by peer (ECONNRESET)
EOF
status "$M/old" nqn.2026-11.org.example:old 127.0.0.1:4430 9
printf 'discovery     : 127.0.0.1:8009\nsubnqn        : nqn.2014-08.org.nvmexpress.discovery\n' \
	>"$M/tree/status"
status "$M/tree/nqn.2026-11.org.example:t1" nqn.2026-11.org.example:t1 127.0.0.1:4440 4
printf '0 127.0.0.1:4440 cntlid=4 state=connecting ana=- reads=0 writes=0 inflight=0 errors=0 last_error=-\n' \
	>"$M/tree/nqn.2026-11.org.example:t1/paths"
mi() { # MOUNTPOINT FSTYPE
	printf '%s 30 0:%s / %s rw,nosuid,nodev,relatime - %s nvmeof rw,user_id=0,group_id=0\n' \
		"$((40 + $(wc -l <"$T/mountinfo" 2>/dev/null || echo 0)))" 50 "$1" "$2"
}
: >"$T/mountinfo"
mi "$M/mp" fuse.nvmeof >>"$T/mountinfo"
mi "$M/old" fuse.nvmeof >>"$T/mountinfo"
mi "$M/tree" fuse.nvmeof >>"$T/mountinfo"
mi "$M/bad" ext4 >>"$T/mountinfo"
NVMEOF_MOUNTINFO=$T/mountinfo
export NVMEOF_MOUNTINFO

# -- text
expect 0 list-subsys
out_has "$M/mp - NQN=nqn.2026-11.org.example:mp"
out_has "  serial=SN-1 model=model 1 firmware=1.0"
out_has "  iopolicy=round-robin"
out_has " +- tcp traddr=127.0.0.1:4420 cntlid=1 live path=0 ana=1:optimized,2:non-optimized reads=1000 writes=200 inflight=3 errors=0"
out_has " +- tcp traddr=[::1]:4421 cntlid=2 failed path=1 ana=1:inaccessible reads=18446744073709551615 writes=0 inflight=0 errors=7"
out_has "    last error: connection reset by peer (ECONNRESET)"
[ "$(grep -c 'last error' "$T/out")" = 1 ] || fail "a last error printed for a path that has none"
out_has "$M/old - NQN=nqn.2026-11.org.example:old"
out_has " +- tcp traddr=127.0.0.1:4430 cntlid=9 live"
out_has "$M/tree/nqn.2026-11.org.example:t1 - NQN=nqn.2026-11.org.example:t1"
out_has " +- tcp traddr=127.0.0.1:4440 cntlid=4 connecting path=0 ana=- reads=0"
grep -q "nvmexpress.discovery" "$T/out" && fail "the tree's discovery controller is listed as a subsystem"
grep -q "$M/bad" "$T/out" && fail "an ext4 mount is listed"
[ "$(grep -c ' - NQN=' "$T/out")" = 3 ] || fail "expected 3 subsystems"
# the old mount's path: status's, nothing invented
grep -A3 "^$M/old - " "$T/out" | grep -q 'path=' && fail "a path ID for a mount without paths file"

# -- JSON
expect 0 list-subsys -o json
[ "$(json '#Subsystems')" = 3 ] || fail "expected 3 subsystems in JSON"
i=0
while [ "$(json "Subsystems.$i.NQN")" != nqn.2026-11.org.example:mp ]; do
	i=$((i + 1))
	[ $i -lt 3 ] || fail "no nqn.2026-11.org.example:mp in JSON"
done
s=Subsystems.$i
[ "$(json "$s.IOPolicy")" = round-robin ] || fail "IOPolicy"
[ "$(json "#$s.Paths")" = 2 ] || fail "expected 2 paths"
[ "$(json "$s.Paths.0.Path")" = 0 ] || fail "Path 0"
[ "$(json "$s.Paths.0.Address")" = 127.0.0.1:4420 ] || fail "Address 0"
[ "$(json "$s.Paths.0.Cntlid")" = 1 ] || fail "Cntlid 0"
[ "$(json "$s.Paths.0.State")" = live ] || fail "State 0"
[ "$(json "#$s.Paths.0.ANAGroups")" = 2 ] || fail "2 ANA groups"
[ "$(json "$s.Paths.0.ANAGroups.1.Group")" = 2 ] || fail "ANA group 2"
[ "$(json "$s.Paths.0.ANAGroups.1.State")" = non-optimized ] || fail "ANA state of group 2"
[ "$(json "$s.Paths.0.Reads")" = 1000 ] || fail "Reads"
[ "$(json "$s.Paths.0.Writes")" = 200 ] || fail "Writes"
[ "$(json "$s.Paths.0.Inflight")" = 3 ] || fail "Inflight"
[ "$(json "$s.Paths.0.Errors")" = 0 ] || fail "Errors"
grep -q '"LastError": null' "$T/out" || fail "no LastError null"
[ "$(json "$s.Paths.1.Address")" = "[::1]:4421" ] || fail "Address 1"
[ "$(json "$s.Paths.1.State")" = failed ] || fail "State 1"
[ "$(json "$s.Paths.1.ANAGroups.0.State")" = inaccessible ] || fail "ANA state 1"
[ "$(json "$s.Paths.1.Reads")" = 18446744073709551615 ] || fail "Reads 1"
[ "$(json "$s.Paths.1.Errors")" = 7 ] || fail "Errors 1"
[ "$(json "$s.Paths.1.LastError")" = "connection reset by peer (ECONNRESET)" ] || fail "LastError"

# -- a malformed line: named, the rest still listed, exit 76
cat >"$M/mp/paths" <<'EOF'
0 127.0.0.1:4420 cntlid=1 state=live ana=1:optimized reads=1 writes=2 inflight=0 errors=0 last_error=-
1 127.0.0.1:4421 cntlid=2 state=live ana=1:optimised reads=0 writes=0 inflight=0 errors=0 last_error=-
EOF
expect 76 list-subsys
err_has "$M/mp/paths:2: field 5: unknown ANA state 'optimised' of group 1"
out_has " +- tcp traddr=127.0.0.1:4420 cntlid=1 live path=0 ana=1:optimized reads=1 writes=2"
out_has "$M/old - NQN="
expect 76 list-subsys -o json
json '#Subsystems' >/dev/null   # still valid JSON

# -- a paths file that cannot be read: named, exit 74
if [ "$(id -u)" -ne 0 ]; then
	chmod 000 "$M/mp/paths"
	expect 74 list-subsys
	err_has "$M/mp/paths: Permission denied"
	chmod 644 "$M/mp/paths"
fi

# -- a mount table that cannot be read
NVMEOF_MOUNTINFO=$T/nonexistent expect 71 list-subsys
err_has "$T/nonexistent: No such file or directory"
echo "list-subsys read the paths files of 3 fake mounts"
