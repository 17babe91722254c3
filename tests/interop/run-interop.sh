#!/bin/bash
# Boot the Linux kernel's NVMe/TCP target in QEMU and run the interop tests
# (tests/interop/test_interop) against it.  Exit 77 (skip, with the reason)
# when QEMU or the guest's parts are missing, except under CI=true.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${NVMEOF_BUILDDIR:-.}/tests/interop/test_interop
vm="$here/nvmet-vm"
"$vm" prepare
rc=$?
[ $rc = 0 ] || exit $rc
state=$(mktemp -d "${TMPDIR:-/tmp}/nvmet-vm.XXXXXX")
cleanup() { "$vm" stop "$state" >/dev/null 2>&1; rm -rf "$state"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
"$vm" start "$state" || { echo "interop: the guest did not start"; exit 1; }
NVMEOF_INTEROP_PORT=$(cat "$state/port")
NVMEOF_INTEROP_KVER=$(cat "$state/kver")
NVMEOF_INTEROP_CLOSED_PORT=$(cat "$state/closed_port" 2>/dev/null || echo "")
NVMEOF_INTEROP_VM=$vm
NVMEOF_INTEROP_STATE=$state
export NVMEOF_INTEROP_PORT NVMEOF_INTEROP_KVER NVMEOF_INTEROP_CLOSED_PORT \
	NVMEOF_INTEROP_VM NVMEOF_INTEROP_STATE
echo "interop: Linux kernel nvmet $NVMEOF_INTEROP_KVER on 127.0.0.1:$NVMEOF_INTEROP_PORT"
"$bin" --jobs 2 --verbose "$@"
rc=$?
"$here/cli-linux.sh" || rc=1
# These take the guest's port down: alone, after the others.
"${bin%/*}/test_resilience" --jobs 1 --verbose "$@" || rc=1
exit $rc
