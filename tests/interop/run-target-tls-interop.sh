#!/bin/bash
# nvmeof-target's TLS proven by the Linux 6.12 kernel host: boot 6.12 once
# as an NVMe/TCP host (NVMEOF_VM_KERNEL=6.12 NVMEOF_VM_TLS=1: trixie's tlshd
# does nvme-tcp's handshakes, trixie's nvme-cli 2.13 is `nvme213`) and
# connect to nvmeof-target on this machine, on a listener that requires
# TLS:
#  - a target deriving the compat way (--tls-psk-derivation compat):
#    nvme-cli 2.13 `check-tls-key --insert` (libnvme 1.13 derives compat)
#    and `nvme213 connect --tls`;
#  - a target deriving the RFC 8446 way (the default): the PSK derived by
#    `nvmeof check-tls-key`, inserted with keyctl, and the kernel's own
#    connect (/dev/nvme-fabrics, option tls);
#  - a version 1 identity (with the PSK digest) through the kernel's
#    tls_key= option;
# each reads the namespace: its sha256 in the guest equals the file's, and
# the target logged the handshake (TLSv1.3, the identity, the derivation);
# a host whose key the target does not have is refused (the target logs
# why); a not-required listener takes the kernel host with and without
# TLS; DH-HMAC-CHAP runs inside TLS. The targets listen on the same port in
# turn (the guest reaches one port). Exit 77 (skip, with the reason) when QEMU, the 6.12 package or
# trixie's packages are missing, except under CI=true.
set -u
here=$(cd "$(dirname "$0")" && pwd)
vm="$here/nvmet-vm"
target=${NVMEOF_BUILDDIR:-.}/src/nvmeof-target
nvmeof=${NVMEOF_BUILDDIR:-.}/cli/nvmeof
sub=nqn.2026-11.org.example:nvmeof-target-tls
H=nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-000000000001 # the guest's
H2=nqn.2014-08.org.example:linux-tls-other
export NVMEOF_VM_KERNEL=6.12 NVMEOF_VM_TLS=1
pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
ko() { echo "FAIL: $*"; fail=$((fail + 1)); }

[ -x "$target" ] && [ -x "$nvmeof" ] || { echo "FAIL: $target or $nvmeof not built"; exit 1; }
"$target" --help 2>&1 | grep -q -- '--tls-psk-derivation' ||
	{ echo "FAIL: $target has no --tls"; exit 1; }
"$vm" prepare
rc=$?
[ $rc = 0 ] || exit $rc

tmp=$(mktemp -d "${TMPDIR:-/tmp}/target-tls.XXXXXX")
tpid=
stop_target() {
	if [ -n "$tpid" ]; then kill "$tpid" 2> /dev/null; wait "$tpid" 2> /dev/null; fi
	tpid=
}
cleanup() {
	"$vm" stop "$tmp/vm" > /dev/null 2>&1
	stop_target
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

(umask 077 && "$nvmeof" gen-tls-key > "$tmp/key" && "$nvmeof" gen-tls-key > "$tmp/key2") ||
	{ echo "FAIL: gen-tls-key"; exit 1; }
K=$(cat "$tmp/key")
head -c $((16 << 20)) /dev/urandom > "$tmp/ns.img"
want=$(sha256sum "$tmp/ns.img" | cut -d' ' -f1)

# start_target DERIVATION [LISTEN [TREQ [OPTIONS...]]]: nvmeof-target with
# a TLS listener (required by default); H has the key, H2 another one;
# its log is $tmp/target-DERIVATION.log.
start_target() {
	local d=$1 l=${2:-127.0.0.1:0} treq=${3:-required}
	shift $(($# < 3 ? $# : 3))
	rm -f "$tmp/port"
	"$target" -v -l "$l" --tls "$treq" --port-file "$tmp/port" \
		--tls-psk-derivation "$d" --tls-key-file "$H=$tmp/key" \
		--tls-key-file "$H2=$tmp/key2" --login-timeout 60 \
		-n "$sub" --ns "$tmp/ns.img" "$@" 2>> "$tmp/target-$d.log" &
	tpid=$!
	for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
	[ -s "$tmp/port" ] || { cat "$tmp/target-$d.log"; echo "FAIL: target did not start"; exit 1; }
}

start_target compat
port=$(head -n 1 "$tmp/port")
mkdir -p "$tmp/vm"
"$vm" start-host "$tmp/vm" "$port" || { echo "FAIL: guest did not start"; exit 1; }
echo "Linux $(cat "$tmp/vm/kver") host with $("$vm" exec "$tmp/vm" 'head -n 1 /tmp/tlshd.log' |
	sed 's/^tlshd\[[0-9]*\]: //'), $("$vm" exec "$tmp/vm" 'nvme213 version' | head -n 1) -> nvmeof-target on 127.0.0.1:$port"

# check_ns CTRL WHAT LOG DERIVATION: the namespace's sha256, the target's log
check_ns() {
	local ctrl=$1 what=$2 log=$3 deriv=$4 dev got
	dev=$("$vm" exec "$tmp/vm" "host_ns_dev $ctrl 1") || { ko "$what: no block device: $dev"; return; }
	got=$("$vm" exec "$tmp/vm" "sha256sum $dev" | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "$what: sha256 of the namespace equals the file's" ||
		ko "$what: sha256 $got, file $want"
	grep -q "TLS: TLSv1.3 TLS_AES_128_GCM_SHA256, identity 'NVMe0R01 $H $sub' ($deriv derivation)" "$log" &&
		ok "$what: the target logged the handshake ($deriv derivation)" ||
		{ ko "$what: no handshake in the target's log"; tail -n 5 "$log"; }
}

# 1. compat: nvme-cli 2.13 derives and inserts, and connects with --tls.
if out=$("$vm" exec "$tmp/vm" "nvme213 check-tls-key --insert --hostnqn $H --subsysnqn $sub --keydata '$K' &&
	nvme213 connect -t tcp -a 10.0.2.100 -s 4420 -n $sub --hostnqn $H --hostid \$NVMETVM_HOSTID --tls" 2>&1); then
	ctrl=$("$vm" exec "$tmp/vm" 'for c in /sys/class/nvme/nvme*; do [ "$(cat $c/subsysnqn)" = '"$sub"' ] && echo ${c##*/}; done' | head -n 1)
	if [ -n "$ctrl" ]; then
		check_ns "$ctrl" "nvme-cli 2.13 connect --tls (compat)" "$tmp/target-compat.log" compat
		"$vm" exec "$tmp/vm" "host_disconnect $ctrl" > /dev/null || ko "disconnect $ctrl"
	else
		ko "nvme-cli 2.13 connect --tls: no controller: $out"
	fi
else
	ko "nvme-cli 2.13 connect --tls (compat): $out"
	tail -n 5 "$tmp/target-compat.log"
fi
stop_target

# 2. rfc: the PSK from `nvmeof check-tls-key`, keyctl, the kernel's connect.
start_target rfc "127.0.0.1:$port"
psk=$("$nvmeof" check-tls-key --hostnqn "$H" --subnqn "$sub" "$K" | sed -n 's/^TLS PSK (rfc): //p')
"$vm" exec "$tmp/vm" "k=\$(tls_key_find $H $sub) && keyctl revoke \$k; tls_key_insert $H $sub $psk" > /dev/null ||
	ko "cannot insert the RFC-derived PSK"
if ctrl=$("$vm" exec "$tmp/vm" "host_connect $sub tls" 2>&1); then
	check_ns "$ctrl" "kernel connect, tls (rfc, keyctl)" "$tmp/target-rfc.log" rfc
	"$vm" exec "$tmp/vm" "host_disconnect $ctrl" > /dev/null || ko "disconnect $ctrl"
else
	ko "kernel connect, tls (rfc): $ctrl"
	tail -n 5 "$tmp/target-rfc.log"
fi

# 2b. identity version 1 ("NVMe1R01 H S <PSK digest>", the digest of the
# retained PSK, so it too depends on the derivation): identity and PSK from
# `nvmeof check-tls-key -I 1`, inserted with keyctl; the kernel, given the
# key's serial (option tls_key), offers that identity. The key goes again
# after (the kernel's own lookup would prefer it to the version 0 one).
ck=$("$nvmeof" check-tls-key -I 1 --hostnqn "$H" --subnqn "$sub" "$K")
id1=$(sed -n 's/^Identity (rfc): //p' <<< "$ck") psk1=$(sed -n 's/^TLS PSK (rfc): //p' <<< "$ck")
if serial=$("$vm" exec "$tmp/vm" "tls_key_insert_identity '$id1' $psk1") && [ -n "$serial" ]; then
	if ctrl=$("$vm" exec "$tmp/vm" "host_connect $sub tls,tls_key=$serial" 2>&1); then
		dev=$("$vm" exec "$tmp/vm" "host_ns_dev $ctrl 1") &&
			got=$("$vm" exec "$tmp/vm" "sha256sum $dev" | cut -d' ' -f1) || got=
		[ "$got" = "$want" ] && ok "identity version 1, kernel connect tls_key=: sha256 of the namespace equals the file's" ||
			ko "identity version 1: sha256 '$got', file $want"
		grep -qF "identity '$id1' (rfc derivation)" "$tmp/target-rfc.log" &&
			ok "identity version 1: the target logged the handshake with '$id1'" ||
			{ ko "identity version 1: '$id1' not in the target's log"; tail -n 5 "$tmp/target-rfc.log"; }
		"$vm" exec "$tmp/vm" "host_disconnect $ctrl" > /dev/null || ko "disconnect $ctrl"
	else
		ko "identity version 1 ($id1): kernel connect: $ctrl"
		tail -n 5 "$tmp/target-rfc.log"
	fi
	"$vm" exec "$tmp/vm" "keyctl unlink $serial \$(tls_keyring)" > /dev/null || ko "unlink the version 1 key"
else
	ko "identity version 1: cannot insert '$id1'"
fi

# 3. a host whose PSK the target does not know (H2 with another key).
bad=$("$nvmeof" check-tls-key --hostnqn "$H2" --subnqn "$sub" "$K" | sed -n 's/^TLS PSK (rfc): //p')
"$vm" exec "$tmp/vm" "tls_key_insert $H2 $sub $bad" > /dev/null || ko "cannot insert $H2's PSK"
if out=$("$vm" exec "$tmp/vm" "nvme213 connect -t tcp -a 10.0.2.100 -s 4420 -n $sub --hostnqn $H2 --hostid \$NVMETVM_HOSTID --tls" 2>&1); then
	ko "a wrong PSK connected: $out"
else
	grep -q "TLS handshake failed" "$tmp/target-rfc.log" &&
		ok "a wrong PSK is refused; the target says: $(grep -m1 'TLS handshake failed' "$tmp/target-rfc.log")" ||
		{ ko "a wrong PSK refused, but the target logged no failed handshake"; tail -n 5 "$tmp/target-rfc.log"; }
fi
stop_target

# 4. a listener where TLS is not required: the kernel host with and without.
start_target rfc "127.0.0.1:$port" not-required
handshakes() { grep -c "TLS: TLSv1.3 TLS_AES_128_GCM_SHA256, identity 'NVMe0R01 $H $sub'" "$tmp/target-rfc.log"; }
for opt in "" tls; do
	what="not-required listener, kernel connect ${opt:-without tls}"
	n0=$(handshakes)
	if ctrl=$("$vm" exec "$tmp/vm" "host_connect $sub $opt" 2>&1); then
		dev=$("$vm" exec "$tmp/vm" "host_ns_dev $ctrl 1") &&
			got=$("$vm" exec "$tmp/vm" "sha256sum $dev" | cut -d' ' -f1) || got=
		[ "$got" = "$want" ] && ok "$what: sha256 of the namespace equals the file's" ||
			ko "$what: sha256 '$got', file $want"
		"$vm" exec "$tmp/vm" "host_disconnect $ctrl" > /dev/null || ko "disconnect $ctrl"
		n1=$(handshakes)
		if [ -z "$opt" ]; then
			[ "$n1" = "$n0" ] && ok "$what: no handshake" || ko "$what: $((n1 - n0)) handshakes"
		else
			[ "$n1" -ge $((n0 + 2)) ] && ok "$what: the admin and I/O queues shook hands" ||
				ko "$what: $((n1 - n0)) handshakes logged"
		fi
	else
		ko "$what: $ctrl"
		tail -n 5 "$tmp/target-rfc.log"
	fi
done
stop_target

# 5. DH-HMAC-CHAP inside TLS: the target also authenticates H
# (bidirectional, ffdhe2048); nvme-cli 2.13 connect --tls --dhchap-secret.
DK=$("$nvmeof" gen-dhchap-key --hmac 1 --nqn "$H") && DC=$("$nvmeof" gen-dhchap-key --hmac 0 --nqn "$H") ||
	ko "gen-dhchap-key"
start_target rfc "127.0.0.1:$port" required --allow-host "$H" --dhchap-key "$DK" \
	--dhchap-ctrl-key "$DC" --dhchap-hash sha256 --dhchap-dhgroup ffdhe2048
what="DH-HMAC-CHAP inside TLS (nvme-cli 2.13)"
if out=$("$vm" exec "$tmp/vm" "nvme213 connect -t tcp -a 10.0.2.100 -s 4420 -n $sub --hostnqn $H --hostid \$NVMETVM_HOSTID --tls --dhchap-secret '$DK' --dhchap-ctrl-secret '$DC'" 2>&1); then
	ctrl=$("$vm" exec "$tmp/vm" 'for c in /sys/class/nvme/nvme*; do [ "$(cat $c/subsysnqn)" = '"$sub"' ] && echo ${c##*/}; done' | head -n 1)
	dev=$("$vm" exec "$tmp/vm" "host_ns_dev $ctrl 1") &&
		got=$("$vm" exec "$tmp/vm" "sha256sum $dev" | cut -d' ' -f1) || got=
	[ "$got" = "$want" ] && ok "$what: sha256 of the namespace equals the file's" ||
		ko "$what: sha256 '$got', file $want"
	grep -q "host $H authenticated on queue 1 (DH-HMAC-CHAP sha256, ffdhe2048, bidirectional" "$tmp/target-rfc.log" &&
		ok "$what: the target authenticated the I/O queue" ||
		{ ko "$what: the target did not log the queue authenticated"; tail -n 8 "$tmp/target-rfc.log"; }
	"$vm" exec "$tmp/vm" "host_disconnect $ctrl" > /dev/null || ko "disconnect $ctrl"
else
	ko "$what: $out"
	tail -n 8 "$tmp/target-rfc.log"
fi
stop_target
echo "target-tls-interop: $pass passed, $fail failed"
[ $fail = 0 ]
