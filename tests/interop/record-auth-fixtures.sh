#!/bin/bash
# record-auth-fixtures.sh — record DH-HMAC-CHAP transactions between
# libnvmeof (nvmeof list) and Linux 6.12's nvmet through a recording relay
# (auth-record.py), for tests/data/dhchap/linux-nvmet.txt: the challenges
# nvmet sent, the R1 it accepted and the R2 it computed, with the secrets
# (made for this only). Null DH group, so that every value can be computed
# again from the transcript. Needs the 6.12 guest and a build
# (NVMEOF_BUILDDIR, default ./build); not run by the tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
nvmeof=${NVMEOF_BUILDDIR:-$top/build}/cli/nvmeof
vm=$here/nvmet-vm
out=$top/tests/data/dhchap/linux-nvmet.txt
sub=nqn.2026-11.org.example:linux-nvmet-auth
export NVMEOF_VM_KERNEL=6.12
state=$(mktemp -d "${TMPDIR:-/tmp}/nvmet-vm.XXXXXX")
rec=$state/rec.txt
ppid_=
cleanup() {
	[[ -z $ppid_ ]] || kill "$ppid_" 2>/dev/null || true
	"$vm" stop "$state" >/dev/null 2>&1 || true
	rm -rf "$state"
}
trap cleanup EXIT
"$vm" start "$state"
kver=$(cat "$state/kver")
"$vm" exec "$state" "subsys_add $sub && ns_add $sub 1 8 pattern &&
	echo 0 > \$NVMET/subsystems/$sub/attr_allow_any_host && port_link $sub"
key() { # HMAC LEN
	"$nvmeof" gen-dhchap-key --hmac "$1" --key-length "$2" --nqn nqn.2026-11.org.example:fixture
}
{
	echo "# Recorded by tests/interop/record-auth-fixtures.sh: libnvmeof against Linux"
	echo "# $kver nvmet, DH group null. One line per queue that authenticated:"
	echo "# HOSTNQN HOSTKEY CTRLKEY(-) HASHID DHGID TID S1 C1 R1 S2 C2 R2"
	echo "# C1, S1, TID: nvmet's challenge; R1: ours, which nvmet accepted; C2, S2:"
	echo "# ours; R2: nvmet's response (\"-\" when unidirectional)."
	echo "# Subsystem NQN: $sub"
} > "$out"
n=0
for spec in "sha256 1 32 0 32 bidi" "sha384 2 48 0 64 bidi" "sha512 0 64 3 64 bidi" \
	"sha256 0 32 - - uni" "sha512 3 64 - - uni"; do
	read -r hash hh hl ch cl mode <<< "$spec"
	n=$((n + 1))
	hostnqn=nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-0000000000c$n
	hk=$(key "$hh" "$hl")
	ck=-
	[[ $mode == uni ]] || ck=$(key "$ch" "$cl")
	"$vm" exec "$state" "host_auth_add $hostnqn '$hk' '$ck' $hash null &&
		subsys_allow_host $sub $hostnqn"
	: > "$rec"
	coproc PROXY { exec python3 "$here/auth-record.py" 0 "$(cat "$state/port")" "$rec"; }
	ppid_=$PROXY_PID
	read -r pport <&"${PROXY[0]}"
	args=(--dhchap-secret "$hk")
	[[ $ck == - ]] || args+=(--dhchap-ctrl-secret "$ck")
	"$nvmeof" list "127.0.0.1:$pport" -n "$sub" --hostnqn "$hostnqn" "${args[@]}" > /dev/null
	# the relay writes a line when a connection closes
	for _ in $(seq 50); do [[ -s $rec ]] && break; sleep 0.1; done
	sleep 0.5
	kill "$ppid_"; wait "$ppid_" 2>/dev/null || true; ppid_=
	[[ -s $rec ]] || { echo "nothing recorded for $spec" >&2; exit 1; }
	while read -r line; do
		echo "$hostnqn $hk $ck $line" >> "$out"
	done < "$rec"
done
echo "wrote $(grep -vc '^#' "$out") transactions to $out"
