#!/bin/sh
# guest-init.sh — /init of the nvmet-vm guest (busybox sh, PID 1).
# The kernel command line says what to be:
#   nvmetvm.mode=target  load nvmet + nvmet-tcp, set up the standard target on
#                        127.0.0.1:nvmetvm.port, relay 10.0.2.15:port to it
#   nvmetvm.mode=host    load nvme-tcp (the host reaches 10.0.2.100:4420)
# Then it prints NVMETVM-READY (or NVMETVM-FAILED) on the console and serves
# commands on the control serial port /dev/ttyS1 (protocol: vmhelper.c).
# shellcheck disable=SC3043  # busybox sh has `local`

export PATH=/bin
umask 022
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=90% tmpfs /tmp
exec </dev/console >/dev/console 2>&1

mode=target
port=4420
port2=0
read -r cmdline < /proc/cmdline
for a in $cmdline; do
	case "$a" in
	nvmetvm.mode=*) mode=${a#*=} ;;
	nvmetvm.port=*) port=${a#*=} ;;
	nvmetvm.port2=*) port2=${a#*=} ;;
	esac
done
mkdir -p /tmp/nvmetvm
echo "$port" > /tmp/nvmetvm/port
echo "$port2" > /tmp/nvmetvm/port2
# Nothing to autoload from: fail a module request at once instead of calling
# a modprobe that cannot find it.
echo > /proc/sys/kernel/modprobe

# shellcheck disable=SC1091  # guest-lib.sh, installed as /etc/nvmetvm.sh
. /etc/nvmetvm.sh

fail() {
	echo "NVMETVM-FAILED: $*"
	dmesg | tail -n 30
	poweroff -f
}

# Modules, dependencies first (the list was made on the host from modinfo).
while read -r m args; do
	[ -n "$m" ] || continue
	# shellcheck disable=SC2086  # args are module parameters, split on purpose
	insmod "/lib/modules/$m.ko" $args || fail "insmod $m"
done < "/lib/modules/$mode.list"

if [ -d /sys/kernel/config ] && ! grep -q ' /sys/kernel/config ' /proc/mounts; then
	mount -t configfs configfs /sys/kernel/config
fi

# NVMEOF_VM_TLS=1 images: tlshd does the TLS handshakes of nvmet and
# nvme-tcp (nvme-keyring is loaded by now).
if [ -x /bin/tlshd ]; then
	tlshd_start || fail "tlshd"
fi

# QEMU user networking: the guest is 10.0.2.15/24, the gateway 10.0.2.2.
ip link set lo up
nic=
for n in /sys/class/net/*; do
	[ "${n##*/}" = lo ] || { nic=${n##*/}; break; }
done
[ -n "$nic" ] || fail "no network interface"
ip link set "$nic" up || fail "ip link $nic"
ip addr add 10.0.2.15/24 dev "$nic" || fail "ip addr $nic"
ip route add default via 10.0.2.2 || fail "ip route"

case "$mode" in
target)
	[ -e /dev/nullb0 ] || fail "no /dev/nullb0"
	[ -e /dev/ram0 ] || fail "no /dev/ram0"
	nvmetvm_target_setup "$port" || fail "nvmet setup"
	# hostfwd delivers to 10.0.2.15:port; nvmet listens on (and its discovery
	# log advertises) 127.0.0.1:port.
	vmhelper relay 10.0.2.15 "$port" 127.0.0.1 "$port" &
	i=0
	until netstat -ltn | grep -q " 10\.0\.2\.15:$port "; do
		[ $i -lt 100 ] || fail "the relay does not listen"
		i=$((i + 1))
		sleep 0.05
	done
	# nvmet port 2 (a second path): nothing linked until a test links it
	if [ "$port2" != 0 ]; then
		port_add 2 "$port2" || fail "nvmet port 2"
		vmhelper relay 10.0.2.15 "$port2" 127.0.0.1 "$port2" &
		i=0
		until netstat -ltn | grep -q " 10\.0\.2\.15:$port2 "; do
			[ $i -lt 100 ] || fail "the relay of port 2 does not listen"
			i=$((i + 1))
			sleep 0.05
		done
	fi
	;;
host)
	[ -e /dev/nvme-fabrics ] || fail "no /dev/nvme-fabrics"
	;;
*)
	fail "unknown mode $mode"
	;;
esac

# The control channel. Open it before saying READY and keep it open for good:
# the first open of a serial port resets its FIFO (a command that arrived
# earlier would lose its first bytes), and so would a reopen after a last close.
# Raw tty: no echo, no line editing, no CR/LF mangling.
ctl=/dev/ttyS1
exec 3<> "$ctl"
stty -F "$ctl" raw -echo clocal || fail "stty $ctl"

echo "NVMETVM-READY $(uname -r) $mode"

run_cmd() {
	printf '\036NVMETVM-BEGIN %s\n' "$1" >&3
	# shellcheck disable=SC1091  # the command, and the library again
	(cd /tmp && . /etc/nvmetvm.sh && . /tmp/nvmetvm/cmd.sh) < /dev/null >&3 2>&1 3>&-
	printf '\036NVMETVM-RC %s %d\n' "$1" "$?" >&3
}
tok=
while :; do
	if ! IFS= read -r line <&3; then
		sleep 1 # the port went away? do not spin
		continue
	fi
	case "$line" in
	"NVMETVM-CMD "*)
		tok=${line#NVMETVM-CMD }
		: > /tmp/nvmetvm/cmd.sh
		;;
	*)
		[ -n "$tok" ] || continue
		if [ "$line" = "NVMETVM-END $tok" ]; then
			run_cmd "$tok"
			tok=
		else
			printf '%s\n' "$line" >> /tmp/nvmetvm/cmd.sh
		fi
		;;
	esac
done
