#!/bin/bash
# Boot Linux 6.12's nvmet in QEMU (NVMEOF_VM_KERNEL=6.12: DH-HMAC-CHAP) with
# a subsystem that admits only authenticated hosts, and run
# tests/interop/test_auth_interop against it. Exit 77 (skip, with the
# reason) when QEMU, the 6.12 package or the guest's parts are missing,
# except under CI=true.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${NVMEOF_BUILDDIR:-.}/tests/interop/test_auth_interop
vm="$here/nvmet-vm"
export NVMEOF_VM_KERNEL=6.12
"$vm" prepare
rc=$?
[ $rc = 0 ] || exit $rc
state=$(mktemp -d "${TMPDIR:-/tmp}/nvmet-vm.XXXXXX")
cleanup() { "$vm" stop "$state" >/dev/null 2>&1; rm -rf "$state"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
"$vm" start "$state" || { echo "auth-interop: the guest did not start"; exit 1; }
sub=nqn.2026-11.org.example:linux-nvmet-auth
# No host is allowed until a test gives its host NQN a secret.
# Namespace 2 (zeroes) is for the tests that write.
"$vm" exec "$state" "subsys_add $sub && ns_add $sub 1 8 pattern && ns_add $sub 2 8 zero &&
	echo 0 > \$NVMET/subsystems/$sub/attr_allow_any_host && port_link $sub" ||
	{ echo "auth-interop: cannot set up $sub"; exit 1; }
NVMEOF_INTEROP_PORT=$(cat "$state/port")
NVMEOF_INTEROP_KVER=$(cat "$state/kver")
NVMEOF_INTEROP_VM=$vm
NVMEOF_INTEROP_STATE=$state
export NVMEOF_INTEROP_PORT NVMEOF_INTEROP_KVER NVMEOF_INTEROP_VM NVMEOF_INTEROP_STATE
echo "auth-interop: Linux kernel nvmet $NVMEOF_INTEROP_KVER on 127.0.0.1:$NVMEOF_INTEROP_PORT"
"$bin" --jobs 1 --verbose "$@"
