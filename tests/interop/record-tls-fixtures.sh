#!/bin/bash
# Record TLS PSKs that Linux's own tools derived, as unit-test fixtures:
# boot the 6.12 TLS guest (NVMEOF_VM_KERNEL=6.12 NVMEOF_VM_TLS=1), let
# trixie's nvme-cli 2.13 (libnvme 1.13) derive and insert keys into the
# kernel's .nvme keyring (`check-tls-key --insert`, identity version 0 and
# 1, SHA-256 and SHA-384 keys), read back what the keyring holds and write
# tests/data/tls/linux-6.12-keyring.txt (the columns of derive.txt there;
# tests/test_tls_keyring.c reads it). Run by hand (needs the VM bed);
# tests/interop/run-tls-interop.sh checks the same thing live.
#   record-tls-fixtures.sh [OUTPUT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$here/nvmet-vm
nvmeof=${NVMEOF_BUILDDIR:-$here/../../build}/cli/nvmeof
out=${1:-$here/../data/tls/linux-6.12-keyring.txt}
export NVMEOF_VM_KERNEL=6.12 NVMEOF_VM_TLS=1
[ -x "$nvmeof" ] || { echo "no $nvmeof (NVMEOF_BUILDDIR?)" >&2; exit 1; }
state=$(mktemp -d "${TMPDIR:-/tmp}/nvmet-vm.XXXXXX")
trap '"$vm" stop "$state" > /dev/null 2>&1; rm -rf "$state"' EXIT
"$vm" start "$state" > /dev/null
H=nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-0000000000f
S=nqn.2026-11.org.example:linux-nvmet-tls
{
	echo "# Recorded by tests/interop/record-tls-fixtures.sh: $("$vm" exec "$state" 'nvme213 version' | tr '\n' ' ')"
	echo "# inserting into Linux $(cat "$state/kver")'s .nvme keyring (check-tls-key --insert)."
	echo "# The key's description in the keyring is the identity, its bytes (hex) the TLS PSK"
	echo "# of libnvme 1.13's derivation (the compat form), as nvmet and tlshd use them."
	echo "# HOSTNQN<TAB>SUBNQN<TAB>IDVER<TAB>KEY<TAB>compat<TAB>IDENTITY<TAB>TLS PSK (hex)"
	n=0
	for spec in 1:0 1:1 2:0 2:1; do
		hmac=${spec%:*} idv=${spec#*:}
		n=$((n + 1))
		k=$("$nvmeof" gen-tls-key --hmac "$hmac")
		"$vm" exec "$state" "nvme213 check-tls-key --insert --identity $idv --hostnqn $H$n --subsysnqn $S --keydata '$k'" > /dev/null
		serial=$("$vm" exec "$state" "awk '\$8 == \"psk\" && index(\$0, \" $H$n $S\") { print \$1 }' /proc/keys" | head -n 1)
		[ -n "$serial" ] || { echo "no key for $H$n in .nvme" >&2; exit 1; }
		desc=$("$vm" exec "$state" "keyctl rdescribe $((16#$serial))" | cut -d';' -f5-)
		hex=$("$vm" exec "$state" "tls_key_hex $((16#$serial))")
		printf '%s\t%s\t%s\t%s\tcompat\t%s\t%s\n' "$H$n" "$S" "$idv" "$k" "$desc" "$hex"
	done
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
