#!/bin/bash
# NVMe/TCP over TLS 1.3 of our host against Linux 6.12's nvmet, the
# handshakes done by tlshd (ktls-utils 1.0.0 from Debian 13): boot the
# guest once (NVMEOF_VM_KERNEL=6.12 NVMEOF_VM_TLS=1), set port 1 to TLS
# required, then
#  - nvme-cli 2.13 (trixie's, in the guest) inserts a key with
#    check-tls-key --insert: the PSK it put in the .nvme keyring equals
#    our compat derivation, and `nvmeof identify --tls-key-file`
#    (derivation auto) connects with it;
#  - the CLI with a wrong key exits non-zero, saying why; without
#    --tls on a TLS-required port it fails, and discovery over TLS shows
#    the port's TSAS/TREQ;
#  - nvmeof-mount -o tls,tls_key_file= and fio verify on the namespace
#    file across a port unlink/link (a new handshake, nothing lost);
#  - tests/interop/test_tls_interop (the library: both derivations, SHA-384,
#    wrong and missing keys, TREQ not required, DH-HMAC-CHAP inside TLS, a
#    port unlink/link under verified writes).
# Exit 77 (skip, with the reason) when QEMU, the 6.12 package or trixie's
# packages are missing, except under CI=true.
set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=${NVMEOF_BUILDDIR:-.}
bin=$builddir/tests/interop/test_tls_interop
nvmeof=$builddir/cli/nvmeof
vm="$here/nvmet-vm"
export NVMEOF_VM_KERNEL=6.12 NVMEOF_VM_TLS=1
[ -x "$bin" ] && [ -x "$nvmeof" ] || { echo "FAIL: $bin or $nvmeof not built"; exit 1; }
"$vm" prepare
rc=$?
[ $rc = 0 ] || exit $rc
state=$(mktemp -d "${TMPDIR:-/tmp}/nvmet-vm.XXXXXX")
mnt= fiopid=
cleanup() {
	[ -n "$fiopid" ] && kill "$fiopid" 2>/dev/null && wait "$fiopid" 2>/dev/null
	if [ -n "$mnt" ] && grep -qF " $mnt " /proc/self/mountinfo 2>/dev/null; then
		fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	fi
	"$vm" stop "$state" >/dev/null 2>&1
	rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
"$vm" start "$state" || { echo "tls-interop: the guest did not start"; exit 1; }
sub=nqn.2026-11.org.example:linux-nvmet-tls
asub=nqn.2026-11.org.example:linux-nvmet-tls-auth
disc=nqn.2014-08.org.nvmexpress.discovery
"$vm" exec "$state" "subsys_add $sub && ns_add $sub 1 8 pattern && ns_add $sub 2 8 zero &&
	subsys_add $asub && ns_add $asub 1 8 pattern &&
	wr 0 \$NVMET/subsystems/$asub/attr_allow_any_host &&
	port_link $sub && port_link $asub && tls_port_setup tls1.3 required" ||
	{ echo "tls-interop: cannot set up $sub"; exit 1; }
port=$(cat "$state/port")
kver=$(cat "$state/kver")
echo "tls-interop: Linux kernel nvmet $kver on 127.0.0.1:$port," \
	"$("$vm" exec "$state" 'head -n 1 /tmp/tlshd.log' | sed 's/^tlshd\[[0-9]*\]: //')," \
	"$("$vm" exec "$state" 'nvme213 version' | head -n 1)"
pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
ko() { echo "FAIL: $*"; fail=$((fail + 1)); }
H=nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-0000000000d
P=127.0.0.1:$port

# nvme-cli 2.13 derives and inserts (libnvme 1.13: the compat form); the
# PSK in the keyring is what `nvmeof check-tls-key` calls compat.
k=$("$nvmeof" gen-tls-key) || { echo "FAIL: gen-tls-key"; exit 1; }
(umask 077 && printf '%s\n' "$k" > "$state/key")
ours=$("$nvmeof" check-tls-key --hostnqn "${H}1" --subnqn "$sub" "$k" | sed -n 's/^TLS PSK (compat): //p')
if "$vm" exec "$state" "nvme213 check-tls-key --insert --hostnqn ${H}1 --subsysnqn $sub --keydata '$k'" \
	> "$state/nvme213.err" 2>&1 && serial=$("$vm" exec "$state" "tls_key_find ${H}1 $sub"); then
	theirs=$("$vm" exec "$state" "tls_key_hex $serial")
	[ -n "$ours" ] && [ "$theirs" = "$ours" ] &&
		ok "nvme-cli 2.13 check-tls-key --insert put our compat-derived PSK in .nvme" ||
		ko "nvme-cli 2.13's PSK $theirs, our compat derivation $ours"
else
	ko "nvme-cli 2.13 check-tls-key --insert: $(cat "$state/nvme213.err")"
fi
if out=$("$nvmeof" identify "$P" -n "$sub" --hostnqn "${H}1" --tls-key-file "$state/key" 2>&1); then
	grep -q '^mn *: Linux' <<< "$out" &&
		ok "identify --tls-key-file (auto) with nvme-cli 2.13's inserted key" ||
		ko "identify --tls-key-file: $out"
else
	ko "identify --tls-key-file (auto) with nvme-cli 2.13's key: $out"
fi
# the pattern reads back through the CLI too: a Read (opcode 2) of 64
# LBAs (4 KiB) at LBA 256 of namespace 1
if "$nvmeof" io-passthru "$P" -n "$sub" --hostnqn "${H}1" --tls-key-file "$state/key" \
	-O 2 --namespace-id 1 --cdw10 256 --cdw12 63 -l 262144 -r -b \
	> "$state/read.bin" 2> "$state/read.err" &&
	"$vm" pattern check - $((256 * 4096)) < "$state/read.bin" > "$state/read.err" 2>&1 &&
	[ "$(stat -c %s "$state/read.bin")" = 262144 ]; then
	ok "io-passthru Read over TLS: the known pattern"
else
	ko "io-passthru Read over TLS: $(cat "$state/read.err")"
fi
# a wrong key: non-zero exit, the reason. tlshd sends no alert when the
# PSK binder does not verify: nvmet just closes the connection, which the
# message names with the identity whose PSK the target lacks.
k2=$("$nvmeof" gen-tls-key)
out=$("$nvmeof" identify "$P" -n "$sub" --hostnqn "${H}1" --tls-key "$k2" 2>&1)
rc=$?
if [ $rc != 0 ] && grep -q "TLS handshake with 127.0.0.1:$port failed: .*identity 'NVMe0R01 ${H}1 $sub'" <<< "$out"; then
	ok "a wrong key: exit $rc, $(tail -n 1 <<< "$out")"
else
	ko "a wrong key: exit $rc: $out"
fi
# plaintext on a TLS-required port
out=$("$nvmeof" identify "$P" -n "$sub" --hostnqn "${H}1" 2>&1)
rc=$?
[ $rc != 0 ] && ok "plaintext on a TLS-required port: exit $rc, $(tail -n 1 <<< "$out")" ||
	ko "plaintext on a TLS-required port connected"
# discovery over TLS (its own identity, with the discovery NQN)
dpsk=$("$nvmeof" check-tls-key --hostnqn "${H}1" --subnqn "$disc" "$k" | sed -n 's/^TLS PSK (rfc): //p')
if "$vm" exec "$state" "tls_key_insert ${H}1 $disc $dpsk > /dev/null" &&
	out=$("$nvmeof" discover "$P" --hostnqn "${H}1" --tls-key-file "$state/key" -o json 2>&1); then
	# the entry of $sub: its treq and sectype
	ent=$(tr -d '\n' <<< "$out" | grep -o "{[^{}]*\"$sub\"[^{}]*}")
	if grep -q '"treq": "required' <<< "$ent" && grep -q '"sectype": "tls13"' <<< "$ent"; then
		ok "discovery over TLS: the entries carry TSAS TLS 1.3 and TREQ required"
	else
		ko "discovery over TLS: no TSAS/TREQ in: $out"
	fi
else
	ko "discovery over TLS: $out"
fi

# SHA-384 keys (identity NVMe0R02, TLS_AES_256_GCM_SHA384), with
# OpenSSL's s_client as an independent client beside ours: tlshd 1.0.0
# (gnutls 3.8.9) as nvmet's server side refuses them (gnutls error -87),
# s_client as much as we; our host must do what s_client does, and s_client
# must connect with the SHA-256 key of the same host.
psk_of() { "$nvmeof" check-tls-key --hostnqn "$1" --subnqn "$sub" "$2" | sed -n 's/^TLS PSK (rfc): //p'; }
s_client() { # PSKHEX IDENTITY CIPHERSUITE: 0 when the handshake completes
	timeout 60 openssl s_client -connect "$P" -tls1_3 -psk "$1" -psk_identity "$2" \
		-ciphersuites "$3" < /dev/null 2>&1 | grep -q "Cipher is $3"
}
if command -v openssl > /dev/null 2>&1; then
	k256=$("$nvmeof" gen-tls-key --hmac 1) k384=$("$nvmeof" gen-tls-key --hmac 2)
	p256=$(psk_of "${H}2" "$k256") p384=$(psk_of "${H}2" "$k384")
	"$vm" exec "$state" "tls_key_insert ${H}2 $sub $p256 1 >/dev/null && tls_key_insert ${H}2 $sub $p384 2 >/dev/null" ||
		ko "cannot insert ${H}2's keys"
	if s_client "$p256" "NVMe0R01 ${H}2 $sub" TLS_AES_128_GCM_SHA256; then
		ok "openssl s_client, SHA-256 PSK: handshake with nvmet/tlshd"
	else
		ko "openssl s_client, SHA-256 PSK: no handshake with nvmet/tlshd"
	fi
	s_client "$p384" "NVMe0R02 ${H}2 $sub" TLS_AES_256_GCM_SHA384 && theirs=connects || theirs=refused
	out=$("$nvmeof" identify "$P" -n "$sub" --hostnqn "${H}2" --tls-key "$k384" --tls-psk-derivation rfc 2>&1) &&
		ours=connects || ours=refused
	if [ "$ours" = "$theirs" ]; then
		ok "SHA-384 PSK: openssl s_client $theirs, our host $ours$([ $ours = refused ] && echo ": $(tail -n 1 <<< "$out")")"
	else
		ko "SHA-384 PSK: openssl s_client $theirs, our host $ours: $out"
	fi
elif [ "${CI:-}" = true ]; then
	ko "no openssl command for the SHA-384 comparison (CI=true: not a skip)"
else
	echo "NOTE: no openssl command (apt-get install openssl): the SHA-384 comparison with s_client is left out"
fi

# nvmeof perf --verify (random 4 KiB writes and reads of namespace 2, each
# read checked) across a port unlink/link: the association comes back
# through new handshakes (tlshd counts them) and nothing reads back wrong.
hs() { "$vm" exec "$state" "grep -c 'was successful' /tmp/tlshd.log"; }
k3=$("$nvmeof" gen-tls-key)
(umask 077 && printf '%s\n' "$k3" > "$state/key3")
p3=$("$nvmeof" check-tls-key --hostnqn "${H}3" --subnqn "$sub" "$k3" | sed -n 's/^TLS PSK (compat): //p')
"$vm" exec "$state" "tls_key_insert ${H}3 $sub $p3 >/dev/null" || ko "cannot insert ${H}3's PSK"
"$nvmeof" perf "$P" -n "$sub" --hostnqn "${H}3" --tls-key-file "$state/key3" --ns 2 \
	-w randrw -o 4096 -q 8 -t 20 --verify --span 4M --ctrl-loss-tmo 60 --reconnect-delay 1 \
	> "$state/perf.out" 2> "$state/perf.err" &
perfpid=$!
i=0 # until nvmet has the controller (a state: the guest's log says so)
until "$vm" exec "$state" "dmesg | grep -q 'for NQN ${H}3\.'"; do
	i=$((i + 1))
	[ $i -lt 600 ] && kill -0 $perfpid 2> /dev/null || break
	sleep 0.1
done
h0=$(hs)
"$vm" exec "$state" "port_unlink $sub && sleep 2 && port_link $sub" || ko "port unlink/link"
rc=0
wait $perfpid || rc=$?
h1=$(hs)
if [ $rc = 0 ] && grep -q '^verify: 0 mismatched block reads' "$state/perf.out" &&
	grep -q 'reconnected [1-9]' "$state/perf.out" && [ "$h1" -gt "$h0" ]; then
	ok "perf --verify over TLS across a port unlink/link: $(grep '^association' "$state/perf.out"); tlshd handshakes $h0 -> $h1; $(grep '^verify' "$state/perf.out")"
else
	ko "perf --verify over TLS across a port unlink/link (exit $rc, tlshd handshakes $h0 -> $h1): $(cat "$state/perf.out" "$state/perf.err")"
fi

# nvmeof-mount over TLS (the key in a 0600 file, -o tls,tls_key_file=) and
# fio verify on namespace 1's file while the port is unlinked and linked
# again: the mount reconnects through a new handshake and every block
# reads back as written.
mountprog=$builddir/fuse/nvmeof-mount
if ! command -v fio >/dev/null 2>&1 || ! command -v fusermount3 >/dev/null 2>&1 ||
	[ ! -c /dev/fuse ] || [ ! -x "$mountprog" ]; then
	if [ "${CI:-}" = true ]; then
		ko "TLS mount: fio, fusermount3, /dev/fuse or nvmeof-mount missing (CI=true: not a skip)"
	else
		echo "NOTE: fio, fusermount3, /dev/fuse or nvmeof-mount missing: the TLS mount step is left out"
	fi
else
	k4=$("$nvmeof" gen-tls-key)
	(umask 077 && printf '%s\n' "$k4" > "$state/key4")
	p4=$("$nvmeof" check-tls-key --hostnqn "${H}4" --subnqn "$sub" "$k4" | sed -n 's/^TLS PSK (compat): //p')
	"$vm" exec "$state" "tls_key_insert ${H}4 $sub $p4 >/dev/null" || ko "cannot insert ${H}4's PSK"
	mnt=$state/mnt
	mkdir "$mnt"
	if "$mountprog" -n "$sub" --hostnqn "${H}4" -c 60 --reconnect-delay 1 \
		-o "tls,tls_key_file=$state/key4" "$P" "$mnt" 2> "$state/mount.err"; then
		st() { sed -n "s/^$1 *: //p" "$mnt/status" | head -n 1; }
		tls0="$(st tls) $(st tls_cipher) $(st tls_derivation)"
		g0=$(st reconnects) h0=$(hs)
		fio --name=tlsmount --filename="$mnt/n2" --rw=randwrite --bs=4k --ioengine=libaio \
			--direct=1 --iodepth=8 --size=8M --verify=crc32c --verify_fatal=1 \
			--verify_backlog=64 --randseed=17 --time_based --runtime=15 \
			--output="$state/fio.out" > /dev/null 2>&1 &
		fiopid=$!
		"$vm" exec "$state" "port_unlink $sub && sleep 2 && port_link $sub" || ko "port unlink/link (mount)"
		i=0 # until the mount is live again after the loss (a state)
		while [ "$(st state)" != live ] || [ "$(st reconnects)" = "$g0" ]; do
			i=$((i + 1))
			[ $i -lt 1200 ] || break
			sleep 0.05
		done
		frc=0
		wait "$fiopid" || frc=$?
		fiopid=
		h1=$(hs)
		if [ $frc = 0 ] && [ "$(st state)" = live ] && [ "$(st reconnects)" != "$g0" ] &&
			[ "$h1" -gt "$h0" ] && ! grep -q "verify.*bad\|err= *[1-9]" "$state/fio.out"; then
			ok "nvmeof-mount over TLS ($tls0): fio verify across a port unlink/link passed, reconnects $g0 -> $(st reconnects), tlshd handshakes $h0 -> $h1"
		else
			ko "nvmeof-mount over TLS: fio exit $frc, state $(st state), reconnects $g0 -> $(st reconnects), handshakes $h0 -> $h1: $(tail -n 5 "$state/fio.out")"
		fi
		fusermount3 -u "$mnt" || ko "fusermount3 -u $mnt"
	else
		ko "nvmeof-mount over TLS: $(cat "$state/mount.err")"
	fi
fi

NVMEOF_INTEROP_PORT=$port
NVMEOF_INTEROP_KVER=$kver
NVMEOF_INTEROP_VM=$vm
NVMEOF_INTEROP_STATE=$state
export NVMEOF_INTEROP_PORT NVMEOF_INTEROP_KVER NVMEOF_INTEROP_VM NVMEOF_INTEROP_STATE
"$bin" --jobs 1 --verbose "$@"
rc=$?
[ $rc = 0 ] && ok "test_tls_interop" || ko "test_tls_interop (exit $rc)"
if [ $fail != 0 ]; then
	echo "--- the guest's tlshd log (tail)"
	"$vm" exec "$state" 'tail -n 40 /tmp/tlshd.log; dmesg | tail -n 20'
fi
echo "tls-interop: $pass passed, $fail failed"
[ $fail = 0 ]
