#!/bin/bash
# nvmeof-target proven by an independent host: the Linux kernel's NVMe/TCP
# host (Debian's nvme-tcp, in QEMU) connects to nvmeof-target on this
# machine through QEMU's guestfwd (one relay per guest connection, so each
# queue has its own TCP connection), reads the namespace (its sha256 equals
# the file's), writes (the file changes), does it again with header and
# data digests, and disconnects.
set -u
here=$(cd "$(dirname "$0")" && pwd)
vm="$here/nvmet-vm"
target=${NVMEOF_BUILDDIR:-.}/src/nvmeof-target
nqn=nqn.2026-11.org.example:nvmeof-target-interop
pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
ko() { echo "FAIL: $*"; fail=$((fail + 1)); }

[ -x "$target" ] || { echo "FAIL: $target not built"; exit 1; }
"$vm" prepare
rc=$?
[ $rc = 0 ] || exit $rc

tmp=$(mktemp -d "${TMPDIR:-/tmp}/linux-host.XXXXXX")
tpid=
cleanup() {
	"$vm" stop "$tmp/vm" >/dev/null 2>&1
	if [ -n "$tpid" ]; then kill "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

head -c $((32 << 20)) /dev/urandom > "$tmp/ns.img"
"$target" -l 127.0.0.1:0 --port-file "$tmp/port" -n "$nqn" \
	--ns "$tmp/ns.img" --serial LINUXHOST0001 --model "nvmeof-target" \
	2> "$tmp/target.log" &
tpid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { cat "$tmp/target.log"; echo "FAIL: target did not start"; exit 1; }
port=$(cat "$tmp/port")
mkdir -p "$tmp/vm"
"$vm" start-host "$tmp/vm" "$port" || { echo "FAIL: guest did not start"; exit 1; }
echo "Linux NVMe/TCP host $(cat "$tmp/vm/kver") -> nvmeof-target on 127.0.0.1:$port"

for opts in "" "hdr_digest,data_digest"; do
	what="Linux host${opts:+ with $opts}"
	ctrl=$("$vm" exec "$tmp/vm" "host_connect $nqn '$opts'") || {
		ko "$what: connect: $ctrl"; tail -5 "$tmp/target.log"; continue; }
	ctrl=$(echo "$ctrl" | tail -n 1)
	ok "$what: connected as $ctrl"
	serial=$("$vm" exec "$tmp/vm" "cat /sys/class/nvme/$ctrl/serial")
	[ "$(echo $serial)" = LINUXHOST0001 ] && ok "$what: serial $serial" ||
		ko "$what: serial '$serial'"
	want=$(sha256sum "$tmp/ns.img" | cut -d' ' -f1)
	got=$("$vm" exec "$tmp/vm" "sha256sum /dev/${ctrl}n1" | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "$what: sha256 of the namespace equals the file's" ||
		ko "$what: sha256 $got, file $want"
	# 1 MiB at a different offset each round, written with O_DIRECT
	off=$(( ${#opts} ? 8 << 20 : 4 << 20 ))
	"$vm" exec "$tmp/vm" "pattern gen 1M $off > /tmp/p && dd if=/tmp/p of=/dev/${ctrl}n1 bs=4096 seek=$((off / 4096)) oflag=direct conv=fsync 2>&1" >/dev/null ||
		ko "$what: dd in the guest"
	if dd if="$tmp/ns.img" bs=4096 skip=$((off / 4096)) count=256 status=none |
		"$vm" pattern check - "$off" >/dev/null; then
		ok "$what: its write reached the file"
	else
		ko "$what: the file does not hold what the guest wrote"
	fi
	"$vm" exec "$tmp/vm" "host_disconnect $ctrl" >/dev/null &&
		ok "$what: disconnected" || ko "$what: disconnect"
done
echo "linux-host: $pass passed, $fail failed"
[ $fail = 0 ]
