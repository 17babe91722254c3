#!/bin/bash
# Boot Linux 6.12's nvmet in QEMU (NVMEOF_VM_KERNEL=6.12: DH-HMAC-CHAP) with
# a subsystem that admits only authenticated hosts, and run
# tests/interop/test_auth_interop against it, then fio --verify on
# nvmeof-mount across a port unlink/link. Exit 77 (skip, with the
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
"$bin" --jobs 1 --verbose "$@" || exit
[ $# = 0 ] || exit 0   # a --filter of the library cases: those only

# fio --verify=crc32c on nvmeof-mount (bidirectional DH-HMAC-CHAP, the
# secrets as 0600 files) across a port unlink/link: what was written
# before, while the port was gone (fio rate-limited so that it still
# writes when the port goes) and after reads back right at the end.
builddir=${NVMEOF_BUILDDIR:-.}
mountprog=$builddir/fuse/nvmeof-mount
nvmeof=$builddir/cli/nvmeof
need() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: auth-interop: fio on nvmeof-mount: $* (CI=true: not a skip)"
		exit 1
	fi
	echo "SKIP: auth-interop: fio on nvmeof-mount: $*"
	exit 77
}
command -v fio >/dev/null 2>&1 || need "no fio (apt-get install fio)"
[ -c /dev/fuse ] || need "no /dev/fuse"
command -v fusermount3 >/dev/null 2>&1 || need "no fusermount3"
if [ "$(id -u)" -ne 0 ] && [ ! -u "$(command -v fusermount3)" ]; then
	need "not root and fusermount3 is not set-uid"
fi
[ -x "$mountprog" ] && [ -x "$nvmeof" ] || { echo "FAIL: no $mountprog or $nvmeof"; exit 1; }
host=nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-0000000000bd
hk=$("$nvmeof" gen-dhchap-key --hmac 1 --nqn "$host") &&
	ck=$("$nvmeof" gen-dhchap-key --hmac 2 --nqn "$host") || { echo "FAIL: gen-dhchap-key"; exit 1; }
"$vm" exec "$state" "host_auth_add $host '$hk' '$ck' sha256 ffdhe2048 &&
	subsys_allow_host $sub $host" || { echo "FAIL: auth-interop: cannot allow $host"; exit 1; }
(umask 077 && printf '%s\n' "$hk" >"$state/hk" && printf '%s\n' "$ck" >"$state/ck")
mnt=$state/mnt
mkdir "$mnt"
cleanup() {
	if grep -qF " $mnt " /proc/self/mountinfo 2>/dev/null; then
		fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	fi
	[ -z "${fiopid:-}" ] || { kill "$fiopid" 2>/dev/null; wait "$fiopid" 2>/dev/null; }
	"$vm" stop "$state" >/dev/null 2>&1
	rm -rf "$state"
}
"$mountprog" -n "$sub" --hostnqn "$host" -i 2 -k 2 -c 1 --log stderr \
	-o "dhchap_secret_file=$state/hk,dhchap_ctrl_secret_file=$state/ck" \
	"127.0.0.1:$NVMEOF_INTEROP_PORT" "$mnt" ||
	{ echo "FAIL: auth-interop: nvmeof-mount with DH-HMAC-CHAP"; exit 1; }
stat_of() { sed -n "s/^$1 *: *//p" "$mnt/status" | head -n 1; }
# job NAME OFFSET SIZE [fio options]: 4 KiB random writes on namespace 2,
# crc32c in every block, verified at the end of the job
job() {
	local name=$1 off=$2 size=$3
	shift 3
	fio --name="$name" --filename="$mnt/n2" --offset="$off" --size="$size" \
		--rw=randwrite --bs=4k --ioengine=libaio --direct=1 --iodepth=8 \
		--randseed=16 --verify=crc32c --verify_fatal=1 "$@"
}
job before 0 2M >"$state/fio.before" 2>&1 ||
	{ cat "$state/fio.before"; echo "FAIL: fio before the drop"; exit 1; }
w0=$(stat_of bytes_written)
r0=$(stat_of reconnects)
job during 2M 4M --rate_iops=100 >"$state/fio.during" 2>&1 &
fiopid=$!
# the port goes once fio has written (a state, not a delay)
i=0
while [ "$(stat_of bytes_written)" = "$w0" ]; do
	i=$((i + 1))
	[ $i -lt 6000 ] || { echo "FAIL: fio wrote nothing in 60 s"; exit 1; }
	sleep 0.01
done
wd=$(stat_of bytes_written)
"$vm" exec "$state" "port_unlink $sub && sleep 2 && port_link $sub" ||
	{ echo "FAIL: auth-interop: port unlink/link"; exit 1; }
w1=$(stat_of bytes_written)
rc=0
wait "$fiopid" || rc=$?
fiopid=
[ $rc = 0 ] || { cat "$state/fio.during"; echo "FAIL: fio across the drop (exit $rc)"; exit 1; }
r1=$(stat_of reconnects)
[ "$r1" -gt "$r0" ] ||
	{ cat "$mnt/status"; echo "FAIL: the mount did not reconnect ($r0 -> $r1)"; exit 1; }
job after 6M 2M >"$state/fio.after" 2>&1 ||
	{ cat "$state/fio.after"; echo "FAIL: fio after the drop"; exit 1; }
# what was written before and during the drop, read back once more
job before 0 2M --verify_only >"$state/fio.v1" 2>&1 &&
	job during 2M 4M --verify_only >"$state/fio.v2" 2>&1 ||
	{ cat "$state/fio.v1" "$state/fio.v2" 2>/dev/null; echo "FAIL: fio --verify_only"; exit 1; }
grep -q "err= 0" "$state/fio.during" || { echo "FAIL: fio reported errors"; exit 1; }
echo "auth-interop: fio --verify=crc32c on nvmeof-mount across a port unlink/link: ok" \
	"(reconnects $r0 -> $r1; bytes written: $w0 before, $wd when the port went, $w1 when it was back," \
	"$(stat_of bytes_written) in all)"
fusermount3 -u "$mnt" || { echo "FAIL: fusermount3 -u $mnt"; exit 1; }
