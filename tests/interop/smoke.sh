#!/bin/bash
# smoke.sh — the interop test bed itself works: prepare, boot Linux nvmet in
# QEMU, run commands in it, speak NVMe/TCP to it from the host (ICReq/ICResp),
# boot a Linux NVMe/TCP host VM that reads the pattern namespace through the
# target, stop both. Exit 0 pass, 77 skip (never under CI=true), 1 fail.
# Guest-side variables ($NVMET, $SUBNQN1 ...) are single-quoted on purpose,
# and functions run through trap and check:
# shellcheck disable=SC2016,SC2317
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM=$HERE/nvmet-vm
SUBNQN1=nqn.2026-11.org.example:linux-nvmet
SUBNQN2=nqn.2026-11.org.example:linux-nvmet-2
pass=0 fail=0
TD='' HD=''

cleanup() {
	[[ -z $HD ]] || "$VM" stop "$HD"
	[[ -z $TD ]] || "$VM" stop "$TD"
	[[ -z ${WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() {
	echo "ok - $*"
	pass=$((pass + 1))
}
not_ok() {
	echo "not ok - $*"
	fail=$((fail + 1))
}
check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
	echo "smoke: $pass passed, $fail failed"
	((fail == 0)) && exit 0
	exit 1
}
secs() { awk -v a="$1" -v b="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%.1f", b - a }'; }

t0=${EPOCHREALTIME/,/.}
"$VM" prepare
rc=$?
((rc == 77)) && exit 77
((rc == 0)) || { not_ok "prepare (exit $rc)"; finish; }
ok "prepare ($(secs "$t0") s)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nvmet-vm-smoke.XXXXXX")
TD=$WORK/target
t0=${EPOCHREALTIME/,/.}
if ! line=$("$VM" start "$TD"); then
	not_ok "start"
	finish
fi
echo "$line"
port=$(< "$TD/port") kver=$(< "$TD/kver")
ok "start: kernel $kver, port $port, boot $(< "$TD/boot-seconds") s (start took $(secs "$t0") s)"
check "start prints 'Linux nvmet <kver> on 127.0.0.1:<port>'" \
	test "$line" = "Linux nvmet $kver on 127.0.0.1:$port"

out=$("$VM" exec "$TD" 'echo hi; false')
rc=$?
if [[ $out == hi && $rc -eq 1 ]]; then
	ok "exec 'echo hi; false' prints hi, exits 1"
else
	not_ok "exec 'echo hi; false' printed '$out', exited $rc"
fi

out=$("$VM" exec "$TD" 'cat /sys/kernel/config/nvmet/ports/1/addr_trsvcid; ls /sys/kernel/config/nvmet/subsystems')
while IFS= read -r l; do echo "  | $l"; done <<< "$out"
check "port 1 listens on the forwarded port" test "$(head -n 1 <<< "$out")" = "$port"
check "both subsystems exist" grep -qF "$SUBNQN1 $SUBNQN2" <<< "$(tail -n +2 <<< "$out" | xargs)"

check "ns 1 holds the known pattern" "$VM" exec "$TD" \
	'pattern check "$(cat $NVMET/subsystems/$SUBNQN1/namespaces/1/device_path)"'
check "ns 2 is null_blk" test "$("$VM" exec "$TD" 'cat $NVMET/subsystems/$SUBNQN1/namespaces/2/device_path')" = /dev/nullb0
check "ns_add / ns_remove" "$VM" exec "$TD" \
	'ns_add $SUBNQN2 5 4 && [ -e $NVMET/subsystems/$SUBNQN2/namespaces/5 ] && ns_remove $SUBNQN2 5 && [ ! -e $NVMET/subsystems/$SUBNQN2/namespaces/5 ]'
check "port_unlink / port_link" "$VM" exec "$TD" \
	'port_unlink $SUBNQN2 && [ ! -e $NVMET/ports/1/subsystems/$SUBNQN2 ] && port_link $SUBNQN2 && [ -L $NVMET/ports/1/subsystems/$SUBNQN2 ]'

# NVMe/TCP 1.0 §3.6.2.2: a 128-byte ICReq (type 0, hlen 128, plen 128)
# answered by a 128-byte ICResp (type 1), through hostfwd and the relay.
icresp() {
	local hex
	exec 3<> "/dev/tcp/127.0.0.1/$port" || return 1
	{
		printf '\x00\x00\x80\x00\x80\x00\x00\x00'
		head -c 120 /dev/zero
	} >&3
	hex=$(timeout 10 head -c 8 <&3 | od -An -tx1 | tr -d ' \n')
	exec 3>&-
	echo "  | ICResp header: $hex"
	[[ $hex == 0100800080000000 ]]
}
check "127.0.0.1:$port answers ICReq with ICResp" icresp

# The closed port: QEMU accepts on the host side, then closes (no listener).
closed_eof() {
	local closed n
	closed=$(< "$TD/closed_port")
	exec 3<> "/dev/tcp/127.0.0.1/$closed" || return 1
	n=$(timeout 10 head -c 1 <&3 | wc -c)
	exec 3>&-
	[[ $closed != "$port" && $n == 0 ]]
}
check "closed_port: connect, then end of stream" closed_eof

# A Linux NVMe/TCP host in a second VM, its 10.0.2.100:4420 forwarded to
# 127.0.0.1:$port, reads namespace 1 through the target.
HD=$WORK/host
t0=${EPOCHREALTIME/,/.}
if line=$("$VM" start-host "$HD" "$port"); then
	echo "$line"
	ok "start-host (boot $(< "$HD/boot-seconds") s, start took $(secs "$t0") s)"
	check "Linux host connects and reads the pattern through nvmet" "$VM" exec "$HD" "
		echo transport=tcp,traddr=10.0.2.100,trsvcid=4420,nqn=$SUBNQN1,hostnqn=nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-000000000001,hostid=6e766d65-6f66-4000-8000-000000000001 > /dev/nvme-fabrics || exit 1
		d=\$(host_ns_dev nvme0 1) || exit 1
		dd if=\$d bs=1M count=64 2>/dev/null | pattern check - 0 64M"
	check "host_connect with digests, write + read back, host_disconnect" "$VM" exec "$HD" '
		host_disconnect nvme0 || exit 1
		c=$(host_connect $SUBNQN1 hdr_digest,data_digest,nr_io_queues=1) || exit 1
		d=$(host_ns_dev $c 1) || exit 1
		pattern gen 1M 1M | dd of=$d bs=1M seek=1 oflag=direct 2>/dev/null || exit 1
		dd if=$d bs=1M count=4 iflag=direct 2>/dev/null | pattern check - 0 4M || exit 1
		host_disconnect $c'
	"$VM" stop "$HD"
	HD=
else
	not_ok "start-host"
fi

pid=$(< "$TD/qemu.pid")
t0=${EPOCHREALTIME/,/.}
"$VM" stop "$TD"
TD=
gone() { # qemu exited (a zombie waiting for its reaper counts) and state removed
	{ [[ ! -e /proc/$pid ]] || grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"; } &&
		[[ ! -e $WORK/target ]]
}
check "stop ($(secs "$t0") s): qemu gone, state removed" gone
finish
