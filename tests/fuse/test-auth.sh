#!/bin/sh
# nvmeof-mount -o dhchap_secret_file=,dhchap_ctrl_secret_file= against an
# nvmeof-target subsystem that requires DH-HMAC-CHAP: bidirectional with
# ffdhe2048 mounts and reads/writes through the I/O queues; the secrets
# never appear in the daemon's arguments; a secret file readable by group
# is refused before connecting; a wrong secret and no secret fail the
# mount with the library's message.
. "$(dirname "$0")/lib.sh"
NVMEOF=${NVMEOF:-$top_builddir/cli/nvmeof}
HN=nqn.2014-08.org.example:fuse-auth-host
K=$("$NVMEOF" gen-dhchap-key --hmac 1 --nqn "$HN") || fail "gen-dhchap-key"
C=$("$NVMEOF" gen-dhchap-key --hmac 0 --nqn "$HN") || fail "gen-dhchap-key"
W=$("$NVMEOF" gen-dhchap-key --hmac 0 --nqn "$HN") || fail "gen-dhchap-key"
(umask 077
 printf '%s\n' "$K" >"$T/host.key"
 printf '%s\n' "$C" >"$T/ctrl.key"
 printf '%s\n' "$W" >"$T/wrong.key")
cp "$T/host.key" "$T/open.key" && chmod 640 "$T/open.key"

start_target -n "$TEST_NQN" --ns ram:16M --allow-host "$HN" --dhchap-key "$T/host.key" \
	--dhchap-ctrl-key "$T/ctrl.key" --dhchap-dhgroup ffdhe2048 -v

do_mount --hostnqn "$HN" -o "dhchap_secret_file=$T/host.key,dhchap_ctrl_secret_file=$T/ctrl.key"
dd if=/dev/urandom of="$T/w" bs=64k count=4 status=none
dd if="$T/w" of="$MNT/n1" bs=64k conv=notrunc,fsync status=none || fail "write"
cmp -n $((256 << 10)) "$T/w" "$MNT/n1" || fail "read back differs"
! grep -qF "${K#DHHC-1:??:}" "/proc/$MPID/cmdline" || fail "the secret is in the daemon's arguments"
grep -q "host $HN authenticated on queue 1 (DH-HMAC-CHAP sha256, ffdhe2048, bidirectional)" \
	"$T/target.log" || fail "the target did not log the I/O queue authenticated"
do_umount

# group-readable or missing: refused before connecting (usage error, 64)
refused() {
	RC=0
	"$NVMEOF_MOUNT" -n "$TEST_NQN" --hostnqn "$HN" -o "dhchap_secret_file=$1" \
		"$ADDR" "$MNT" >"$T/out" 2>"$T/err" || RC=$?
	[ "$RC" = 64 ] || fail "dhchap_secret_file=$1: exit $RC, not 64"
	grep -qF -- "$2" "$T/err" || fail "no '$2' in: $(cat "$T/err")"
	is_mounted "$MNT" && fail "a refused mount left $MNT mounted"
	return 0
}
refused "$T/open.key" "dhchap_secret_file $T/open.key is accessible by group or others (mode 640): chmod 600 it"
refused "$T/none.key" "dhchap_secret_file $T/none.key: No such file or directory"
# wrong host secret, wrong controller secret, no secret
RC=0
"$NVMEOF_MOUNT" -f -n "$TEST_NQN" --hostnqn "$HN" -o "dhchap_secret_file=$T/wrong.key" \
	"$ADDR" "$MNT" >"$T/out" 2>"$T/err" || RC=$?
[ "$RC" != 0 ] || fail "a wrong host secret mounted"
grep -q "wrong host secret?" "$T/err" || fail "no 'wrong host secret?': $(cat "$T/err")"
RC=0
"$NVMEOF_MOUNT" -f -n "$TEST_NQN" --hostnqn "$HN" \
	-o "dhchap_secret_file=$T/host.key,dhchap_ctrl_secret_file=$T/wrong.key" \
	"$ADDR" "$MNT" >"$T/out" 2>"$T/err" || RC=$?
[ "$RC" != 0 ] || fail "a wrong controller secret mounted"
grep -q "wrong controller secret?" "$T/err" || fail "no 'wrong controller secret?': $(cat "$T/err")"
RC=0
"$NVMEOF_MOUNT" -f -n "$TEST_NQN" --hostnqn "$HN" "$ADDR" "$MNT" >"$T/out" 2>"$T/err" || RC=$?
[ "$RC" != 0 ] || fail "no secret mounted"
grep -q "requires authentication" "$T/err" || fail "no 'requires authentication': $(cat "$T/err")"
is_mounted "$MNT" && fail "a failed mount left $MNT mounted"
exit 0
