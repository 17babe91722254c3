#!/bin/sh
# nvmeof-mount over TLS: nvmeof-target behind a TLS 1.3 PSK front
# (tests/tls_proxy). -o tls,tls_key_file= mounts; status shows the TLS
# version, cipher, identity, the derivation that worked, userspace records
# and the handshake time; the proxy drops every connection, then dies and
# comes back on its port: each time the mount reconnects through a new
# handshake and I/O goes on with the data intact.
# A key file others can read and -o tls without a key are refused; a
# TLS PSK already derived (tls_psk_file=) mounts too.
. "$(dirname "$0")/lib.sh"
NVMEOF="$top_builddir/cli/nvmeof"
PROXY="$top_builddir/tests/tls_proxy"
[ -x "$PROXY" ] || fail "no $PROXY"
H=nqn.2026-12.org.example:tls-mount-host
head -c $((8 * 1024 * 1024)) /dev/urandom >"$T/ns.img"
cp "$T/ns.img" "$T/expect"
start_target -n "$TEST_NQN" --ns "$T/ns.img"
(umask 077 && "$NVMEOF" gen-tls-key >"$T/key") || fail "gen-tls-key"
"$NVMEOF" check-tls-key "$(cat "$T/key")" --hostnqn "$H" --subnqn "$TEST_NQN" >"$T/chk" ||
	fail "check-tls-key"
PSK=$(sed -n 's/^TLS PSK (compat): //p' "$T/chk")
ID=$(sed -n 's/^Identity (compat): //p' "$T/chk")
PXPID=
trap 'r=$?; [ -n "$PXPID" ] && kill "$PXPID" 2>/dev/null; (exit $r); cleanup' EXIT
# refused MSG ARGS...: exit 64, MSG on stderr, nothing mounted
refused() {
	msg=$1; shift
	RC=0
	"$NVMEOF_MOUNT" "$@" >"$T/out" 2>"$T/err" || RC=$?
	[ "$RC" -eq 64 ] || fail "nvmeof-mount $* exited $RC, expected 64"
	grep -qF -- "$msg" "$T/err" || fail "nvmeof-mount $*: no '$msg' in: $(cat "$T/err")"
	is_mounted "$MNT" && fail "nvmeof-mount $* failed but left $MNT mounted"
	return 0
}
rm -f "$T/pport"
# the compat-derived PSK: auto tries rfc, is refused, and says compat worked
"$PROXY" "$T/pport" "$TPORT" "$ID" "$PSK" 2>"$T/proxy.log" &
PXPID=$!
i=0
until [ -s "$T/pport" ]; do
	kill -0 "$PXPID" 2>/dev/null || fail "tls_proxy exited: $(cat "$T/proxy.log")"
	i=$((i + 1)); [ $i -lt 400 ] || fail "tls_proxy wrote no port"
	sleep 0.05
done
TADDR=$ADDR
ADDR="127.0.0.1:$(cat "$T/pport")"

# refused before anything is sent: a key file others can read, no key
cp "$T/key" "$T/key-open"; chmod 644 "$T/key-open"
refused "chmod 600" -n "$TEST_NQN" -o "tls,tls_key_file=$T/key-open" "$ADDR" "$MNT"
refused "-o tls needs tls_key_file=PATH" -n "$TEST_NQN" -o tls "$ADDR" "$MNT"
refused "tls_psk_derivation 'best'" -n "$TEST_NQN" \
	-o "tls_key_file=$T/key,tls_psk_derivation=best" "$ADDR" "$MNT"

# the proxy holds the compat PSK: rfc alone is refused, exit 78, the hint
RC=0
"$NVMEOF_MOUNT" -n "$TEST_NQN" --hostnqn "$H" -o "tls_key_file=$T/key,tls_psk_derivation=rfc" \
	"$ADDR" "$MNT" >"$T/out" 2>"$T/err" || RC=$?
[ "$RC" -eq 78 ] || fail "a refused PSK: exit $RC, expected 78"
grep -qF "no PSK matches identity '$ID' (wrong key, or the target derives the key the other way: try --tls-psk-derivation compat)" \
	"$T/err" || fail "a refused PSK: $(cat "$T/err")"
is_mounted "$MNT" && fail "mounted with a refused PSK"

do_mount --hostnqn "$H" -c 1 -k 2 -o "tls,tls_key_file=$T/key"
[ "$(st tls)" = TLSv1.3 ] || fail "status tls: '$(st tls)'"
[ "$(st tls_cipher)" = TLS_AES_128_GCM_SHA256 ] || fail "status tls_cipher: '$(st tls_cipher)'"
[ "$(st tls_identity)" = "$ID" ] || fail "status tls_identity: '$(st tls_identity)'"
[ "$(st tls_derivation)" = "compat (auto)" ] || fail "status tls_derivation: '$(st tls_derivation)'"
[ "$(st tls_records)" = userspace ] || [ "$(st tls_records)" = ktls ] ||
	fail "status tls_records: '$(st tls_records)'"
# a kernel without the tls module has no kTLS: OpenSSL encrypts, silently
[ -d /sys/module/tls ] || [ "$(st tls_records)" = userspace ] ||
	fail "no kTLS in this kernel, yet status says '$(st tls_records)'"
st tls_handshake | grep -Eq '^[0-9]+\.[0-9]{2} ms$' || fail "status tls_handshake: '$(st tls_handshake)'"
grep -q NVMeTLSkey "$MNT/status" &&
	fail "the key is in status"
# list-subsys names the TLS of the path
NVMEOF_MOUNT="$NVMEOF_MOUNT" "$NVMEOF" list-subsys >"$T/ls" || fail "list-subsys"
grep -qF "    tls=TLSv1.3 cipher=TLS_AES_128_GCM_SHA256 derivation=compat (auto) records=" "$T/ls" ||
	fail "list-subsys: $(cat "$T/ls")"
dd if="$MNT/n1" bs=1M count=2 iflag=direct status=none | cmp -n 2097152 - "$T/expect" ||
	fail "read over TLS"
head -c 262144 /dev/urandom >"$T/blk"
dd if="$T/blk" of="$MNT/n1" bs=64k seek=16 conv=notrunc oflag=direct status=none ||
	fail "write over TLS"
hs=$(grep -c 'handshake' "$T/proxy.log")

# every connection dropped: a new handshake per queue, I/O goes on
kill -USR1 "$PXPID"
i=0
until [ "$(st reconnects)" -ge 1 ] 2>/dev/null && [ "$(st state)" = live ]; do
	i=$((i + 1)); [ $i -lt 600 ] || fail "no reconnect after the drop: $(cat "$MNT/status")"
	sleep 0.05
done
[ "$(grep -c 'handshake' "$T/proxy.log")" -gt "$hs" ] || fail "no new handshake: $(cat "$T/proxy.log")"
dd if="$MNT/n1" bs=64k skip=16 count=4 iflag=direct status=none | cmp - "$T/blk" ||
	fail "read back after the reconnect"
dd if="$MNT/n1" bs=1M skip=4 count=2 iflag=direct status=none |
	cmp - "$T/expect" -i 0:4194304 -n 2097152 || fail "read after the reconnect"
[ "$(st tls_derivation)" = "compat (auto)" ] || fail "after the reconnect: '$(st tls_derivation)'"

# the proxy itself goes (SIGKILL) and comes back on its port: the mount
# waits, reconnecting, then goes on through a new handshake
pport=$(cat "$T/pport")
rc0=$(st reconnects)
kill -9 "$PXPID"; wait "$PXPID" 2>/dev/null; PXPID=
until_state reconnecting
rm -f "$T/pport"
"$PROXY" "$T/pport" "$TPORT" "$ID" "$PSK" "$pport" 2>"$T/proxy2.log" &
PXPID=$!
until_state live
[ "$(st reconnects)" -gt "$rc0" ] || fail "reconnects: $(st reconnects) after $rc0"
grep -q 'handshake' "$T/proxy2.log" || fail "no handshake with the new proxy"
dd if="$MNT/n1" bs=64k skip=16 count=4 iflag=direct status=none | cmp - "$T/blk" ||
	fail "read back through the new proxy"
head -c 131072 /dev/urandom >"$T/blk2"
dd if="$T/blk2" of="$MNT/n1" bs=64k seek=40 conv=notrunc oflag=direct status=none ||
	fail "write through the new proxy"
dd if="$MNT/n1" bs=64k skip=40 count=2 iflag=direct status=none | cmp - "$T/blk2" ||
	fail "read back the write through the new proxy"
do_umount

# nvmeof connect: the key goes as a file, and it says what TLS it got
mkdir -p "$T/mnt2" "$T/run"
NVMEOF_RUN_DIR="$T/run" NVMEOF_MOUNT="$NVMEOF_MOUNT" "$NVMEOF" connect "$ADDR" \
	-n "$TEST_NQN" --hostnqn "$H" --tls-key "$(cat "$T/key")" -m "$T/mnt2" \
	>"$T/out" 2>"$T/err" || fail "nvmeof connect --tls-key exited $?"
grep -qF "$T/mnt2: TLS tls=TLSv1.3 cipher=TLS_AES_128_GCM_SHA256 identity=$ID derivation=compat (auto) records=" \
	"$T/out" || fail "connect's TLS line: $(cat "$T/out")"
grep -q 'handshake=[0-9]*\.[0-9][0-9] ms$' "$T/out" || fail "connect: no handshake time: $(cat "$T/out")"
ls "$T/run/.dhchap/"*.tls >/dev/null 2>&1 || fail "no key file of connect's"
NVMEOF_RUN_DIR="$T/run" "$NVMEOF" disconnect "$T/mnt2" >"$T/out" 2>"$T/err" ||
	fail "disconnect: $(cat "$T/err")"
ls "$T/run/.dhchap/"*.tls >/dev/null 2>&1 && fail "disconnect left the key file"

# a discovery mount with a key, of a port without TLS: the log is read
# without TLS (a warning), and the entry (sectype none) mounted without it
PADDR=$ADDR; ADDR=$TADDR
NO_NQN=1 do_mount --hostnqn "$H" -o "tls_key_file=$T/key"
[ -n "$(st tls)" ] && fail "TLS on a port whose entry says none: $(cat "$MNT/status")"
[ "$(st state)" = live ] || fail "state $(st state)"
do_umount
ADDR=$PADDR

# the TLS PSK itself, as check-tls-key prints it
rm -f "$T/psk"; (umask 077 && grep '^TLS PSK (compat): ' "$T/chk" >"$T/psk")
do_mount --hostnqn "$H" -o "tls_psk_file=$T/psk"
[ "$(st tls_derivation)" = raw ] || fail "tls_psk_file: derivation '$(st tls_derivation)'"
dd if="$MNT/n1" bs=64k skip=16 count=4 iflag=direct status=none | cmp - "$T/blk" ||
	fail "read with tls_psk_file"
do_umount
exit 0
