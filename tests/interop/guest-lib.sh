#!/bin/sh
# guest-lib.sh — shell functions for the nvmet-vm guest (busybox sh).
# Installed as /etc/nvmetvm.sh in the initramfs; guest-init.sh uses it to set
# up the target and every `nvmet-vm exec` command runs with it sourced, so a
# test can say e.g.
#   nvmet-vm exec D 'port_unlink nqn.2026-11.org.example:linux-nvmet'
#   nvmet-vm exec D 'ns_add nqn.2026-11.org.example:linux-nvmet 3 8'
#   nvmet-vm exec D '(port_drop 5 >/dev/null 2>&1 &)'     # in the background
# Every function prints a reason and returns non-zero when it fails.
# shellcheck disable=SC3043  # busybox sh has `local`

NVMET=/sys/kernel/config/nvmet
NVMETVM_NSDIR=/tmp/ns
NVMETVM_STATE=/tmp/nvmetvm
SUBNQN1=nqn.2026-11.org.example:linux-nvmet
SUBNQN2=nqn.2026-11.org.example:linux-nvmet-2
NVMETVM_PORT=4420
if [ -r "$NVMETVM_STATE/port" ]; then read -r NVMETVM_PORT < "$NVMETVM_STATE/port"; fi
NVMETVM_PORT2=0   # nvmet port 2 (nvmet-vm's STATEDIR/port2); 0: none
if [ -r "$NVMETVM_STATE/port2" ]; then read -r NVMETVM_PORT2 < "$NVMETVM_STATE/port2"; fi

nvmetvm_err() { echo "nvmetvm: $*" >&2; return 1; }

# wr VALUE FILE: write one configfs attribute, saying which one on failure.
wr() {
	printf '%s\n' "$1" > "$2" 2>/dev/null || nvmetvm_err "cannot write '$1' to $2"
}

# subsys_add NQN [SERIAL]: a subsystem that allows any host.
subsys_add() {
	local s="$NVMET/subsystems/$1"
	[ -n "$1" ] || { nvmetvm_err "usage: subsys_add NQN [SERIAL]"; return; }
	mkdir "$s" || return
	wr 1 "$s/attr_allow_any_host" || return
	if [ -n "${2:-}" ]; then wr "$2" "$s/attr_serial" || return; fi
}

# subsys_remove NQN: unlink it from every port, drop its namespaces, remove it.
subsys_remove() {
	local s="$NVMET/subsystems/$1" p n
	[ -d "$s" ] || { nvmetvm_err "no subsystem $1"; return; }
	for p in "$NVMET"/ports/*; do
		[ -L "$p/subsystems/$1" ] && rm "$p/subsystems/$1"
	done
	for n in "$s"/namespaces/*; do
		[ -d "$n" ] && { ns_remove "$1" "${n##*/}" || return; }
	done
	rmdir "$s"
}

nvmetvm_nsfile() {
	printf '%s/%s.ns%s.img\n' "$NVMETVM_NSDIR" "$(printf '%s' "$1" | tr -c 'A-Za-z0-9._-' _)" "$2"
}

# ns_add_dev SUBNQN NSID PATH: a namespace backed by a block device or file.
ns_add_dev() {
	local n="$NVMET/subsystems/$1/namespaces/$2"
	[ $# -eq 3 ] || { nvmetvm_err "usage: ns_add_dev SUBNQN NSID PATH"; return; }
	[ -d "$NVMET/subsystems/$1" ] || { nvmetvm_err "no subsystem $1"; return; }
	mkdir "$n" || return
	wr "$3" "$n/device_path" || return
	# tmpfs has no O_DIRECT: file namespaces must use buffered I/O.
	if [ -f "$3" ] && [ -e "$n/buffered_io" ]; then wr 1 "$n/buffered_io" || return; fi
	wr 1 "$n/enable"
}

# ns_add SUBNQN NSID SIZE_MB [zero|pattern]: a file namespace on tmpfs
# (4096-byte LBAs), zero-filled (sparse) or filled with the known pattern.
ns_add() {
	local f
	[ $# -ge 3 ] || { nvmetvm_err "usage: ns_add SUBNQN NSID SIZE_MB [zero|pattern]"; return; }
	mkdir -p "$NVMETVM_NSDIR"
	f=$(nvmetvm_nsfile "$1" "$2")
	[ ! -e "$f" ] || { nvmetvm_err "$f exists"; return; }
	case "${4:-zero}" in
	zero) truncate -s "$3"M "$f" || return ;;
	pattern) pattern gen "$3"M > "$f" || { rm -f "$f"; return 1; } ;;
	*) nvmetvm_err "ns_add: fill is zero or pattern, not '$4'"; return ;;
	esac
	ns_add_dev "$1" "$2" "$f" || { rmdir "$NVMET/subsystems/$1/namespaces/$2" 2>/dev/null; rm -f "$f"; return 1; }
}

# ns_remove SUBNQN NSID: disable and remove a namespace (and its tmpfs file).
ns_remove() {
	local n="$NVMET/subsystems/$1/namespaces/$2" f
	[ -d "$n" ] || { nvmetvm_err "no namespace $2 in $1"; return; }
	f=$(cat "$n/device_path")
	wr 0 "$n/enable" || return
	rmdir "$n" || return
	case "$f" in "$NVMETVM_NSDIR"/*) rm -f "$f" ;; esac
}

# stall_dev_add NAME SIZE_MB: a memory-backed null_blk device (4096-byte
# blocks) under a device-mapper linear device whose I/O can be held; prints
# the dm device (/dev/dm-N) for ns_add_dev.  stall_dev_hold NAME: I/O sent
# to it from now on waits (nothing fails, nvmet cannot complete it) until
# stall_dev_release NAME.  stall_dev_remove NAME: the device and its null_blk.
stall_dev_add() {
	local b="/sys/kernel/config/nullb/$1" i=0 d
	[ $# -eq 2 ] || { nvmetvm_err "usage: stall_dev_add NAME SIZE_MB"; return; }
	mkdir "$b" || return
	wr "$2" "$b/size" && wr 4096 "$b/blocksize" && wr 1 "$b/memory_backed" &&
		wr 1 "$b/power" || return
	# 6.1 names the disk after the configfs item; older kernels nullbN
	until [ -b "/dev/$1" ] || [ -b "/dev/nullb$(cat "$b/index")" ]; do
		i=$((i + 1))
		[ $i -lt 50 ] || { nvmetvm_err "no block device for null_blk $1"; return; }
		sleep 0.1
	done
	if [ -b "/dev/$1" ]; then d=/dev/$1; else d=/dev/nullb$(cat "$b/index"); fi
	vmhelper dm create "$1" "$d" $(($2 * 2048))
}
stall_dev_hold() { vmhelper dm suspend "$1"; }
stall_dev_release() { vmhelper dm resume "$1"; }
stall_dev_remove() {
	vmhelper dm remove "$1" || return
	rmdir "/sys/kernel/config/nullb/$1"
}

# port_add [PORTID [TRSVCID]]: a TCP port on 127.0.0.1 (the relay forwards the
# guest NIC's connections there).
port_add() {
	local p="$NVMET/ports/${1:-1}"
	mkdir "$p" || return
	wr tcp "$p/addr_trtype" && wr ipv4 "$p/addr_adrfam" &&
		wr 127.0.0.1 "$p/addr_traddr" && wr "${2:-$NVMETVM_PORT}" "$p/addr_trsvcid"
}

# port_link SUBNQN [PORTID] / port_unlink SUBNQN [PORTID]: expose a subsystem on
# a port, or take it away (its controllers on that port are torn down; the
# port stops listening when no subsystem is left on it).
port_link() {
	[ -d "$NVMET/subsystems/$1" ] || { nvmetvm_err "no subsystem $1"; return; }
	ln -s "$NVMET/subsystems/$1" "$NVMET/ports/${2:-1}/subsystems/$1"
}
port_unlink() {
	[ -L "$NVMET/ports/${2:-1}/subsystems/$1" ] ||
		{ nvmetvm_err "$1 is not linked to port ${2:-1}"; return; }
	rm "$NVMET/ports/${2:-1}/subsystems/$1"
}

# port_down [PORTID]: unlink every subsystem (the listener closes), remembering
# them for port_up [PORTID].
port_down() {
	local id="${1:-1}" l
	mkdir -p "$NVMETVM_STATE"
	: > "$NVMETVM_STATE/port$id.down"
	for l in "$NVMET/ports/$id/subsystems"/*; do
		[ -L "$l" ] || continue
		echo "${l##*/}" >> "$NVMETVM_STATE/port$id.down"
		rm "$l" || return
	done
}
port_up() {
	local id="${1:-1}" s
	[ -f "$NVMETVM_STATE/port$id.down" ] || { nvmetvm_err "port $id is not down"; return; }
	while read -r s; do
		port_link "$s" "$id" || return
	done < "$NVMETVM_STATE/port$id.down"
	rm -f "$NVMETVM_STATE/port$id.down"
}

# port_drop SECONDS [PORTID]: port_down, sleep, port_up.
port_drop() {
	port_down "${2:-1}" && sleep "$1" && port_up "${2:-1}"
}

# --- ANA (Asymmetric Namespace Access) ----------------------------------------

# ana_set PORTID GROUP STATE: the ANA state of GROUP seen through port PORTID
# (optimized, non-optimized, inaccessible, persistent-loss, change); the
# group is made on that port if it is not there (group 1 always is, and
# starts optimized).  nvmet sends the ANA Change notice to the controllers
# of the port.
ana_set() {
	local g="$NVMET/ports/$1/ana_groups/$2"
	[ $# -eq 3 ] || { nvmetvm_err "usage: ana_set PORTID GROUP STATE"; return; }
	case "$3" in
	optimized | non-optimized | inaccessible | persistent-loss | change) ;;
	*) nvmetvm_err "ana_set: unknown ANA state '$3'"; return ;;
	esac
	[ -d "$NVMET/ports/$1" ] || { nvmetvm_err "no port $1"; return; }
	[ -d "$g" ] || mkdir "$g" || return
	wr "$3" "$g/ana_state"
}

# ana_get PORTID GROUP: print the state ana_set wrote.
ana_get() {
	cat "$NVMET/ports/$1/ana_groups/$2/ana_state"
}

# ns_ana_grpid SUBNQN NSID GROUP: put a namespace in ANA group GROUP.
ns_ana_grpid() {
	local n="$NVMET/subsystems/$1/namespaces/$2"
	[ $# -eq 3 ] || { nvmetvm_err "usage: ns_ana_grpid SUBNQN NSID GROUP"; return; }
	[ -d "$n" ] || { nvmetvm_err "no namespace $2 in $1"; return; }
	wr "$3" "$n/ana_grpid"
}

# nvmetvm_target_setup PORT: the standard target of `nvmet-vm start`.
nvmetvm_target_setup() {
	NVMETVM_PORT=$1
	subsys_add "$SUBNQN1" linuxnvmet0001 || return
	ns_add "$SUBNQN1" 1 64 pattern || return
	ns_add_dev "$SUBNQN1" 2 /dev/nullb0 || return
	subsys_add "$SUBNQN2" || return
	ns_add "$SUBNQN2" 1 16 zero || return
	ns_add_dev "$SUBNQN2" 2 /dev/ram0 || return
	port_add 1 "$NVMETVM_PORT" || return
	port_link "$SUBNQN1" 1 || return
	port_link "$SUBNQN2" 1
}

# --- in-band authentication (DH-HMAC-CHAP; kernels with NVME_TARGET_AUTH) ---

# host_auth_add HOSTNQN KEY [CTRL_KEY [HASH [DHGROUP]]]: the host NQN's entry
# in $NVMET/hosts with its DHHC-1 secret (KEY), the controller's secret for
# bidirectional authentication (CTRL_KEY; "" or "-" for none), the hash
# (sha256, sha384, sha512: nvmet's "hmac(shaN)") and the DH group (null,
# ffdhe2048 ... ffdhe8192). An existing entry is updated.
host_auth_add() {
	local h="$NVMET/hosts/$1"
	[ $# -ge 2 ] || { nvmetvm_err "usage: host_auth_add HOSTNQN KEY [CTRL_KEY [HASH [DHGROUP]]]"; return; }
	[ -d "$NVMET/hosts" ] || { nvmetvm_err "no $NVMET/hosts"; return; }
	[ -e "$h" ] || mkdir "$h" || return
	[ -e "$h/dhchap_key" ] || { nvmetvm_err "this kernel has no in-band authentication (NVME_TARGET_AUTH)"; return; }
	wr "$2" "$h/dhchap_key" || return
	case "${3:-}" in
	"" | -) wr "" "$h/dhchap_ctrl_key" 2>/dev/null || : ;;
	*) wr "$3" "$h/dhchap_ctrl_key" || return ;;
	esac
	if [ -n "${4:-}" ]; then wr "hmac($4)" "$h/dhchap_hash" || return; fi
	if [ -n "${5:-}" ]; then wr "$5" "$h/dhchap_dhgroup" || return; fi
}

# host_auth_remove HOSTNQN: drop it from every subsystem's allowed_hosts and
# remove its entry.
host_auth_remove() {
	local s
	for s in "$NVMET"/subsystems/*; do
		[ -L "$s/allowed_hosts/$1" ] && { rm "$s/allowed_hosts/$1" || return; }
	done
	rmdir "$NVMET/hosts/$1"
}

# subsys_allow_host SUBNQN HOSTNQN: only the hosts allowed so far (an entry
# made by host_auth_add or mkdir $NVMET/hosts/HOSTNQN) may connect.
subsys_allow_host() {
	local s="$NVMET/subsystems/$1"
	[ $# -eq 2 ] || { nvmetvm_err "usage: subsys_allow_host SUBNQN HOSTNQN"; return; }
	[ -d "$s" ] || { nvmetvm_err "no subsystem $1"; return; }
	[ -d "$NVMET/hosts/$2" ] || mkdir "$NVMET/hosts/$2" || return
	wr 0 "$s/attr_allow_any_host" || return
	[ -L "$s/allowed_hosts/$2" ] || ln -s "$NVMET/hosts/$2" "$s/allowed_hosts/$2"
}

# subsys_allow_any SUBNQN: back to any host, no authentication.
subsys_allow_any() {
	local s="$NVMET/subsystems/$1" l
	[ -d "$s" ] || { nvmetvm_err "no subsystem $1"; return; }
	for l in "$s"/allowed_hosts/*; do
		[ -L "$l" ] && { rm "$l" || return; }
	done
	wr 1 "$s/attr_allow_any_host"
}

# --- host mode (nvmet-vm start-host): the Linux NVMe/TCP host ---------------

NVMETVM_HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-000000000001
NVMETVM_HOSTID=6e766d65-6f66-4000-8000-000000000001

# host_connect SUBNQN [EXTRA_OPTIONS]: connect to the target behind
# 10.0.2.100:4420 (EXTRA_OPTIONS e.g. "hdr_digest,data_digest,nr_io_queues=1"),
# wait for its namespaces' block devices, print the controller (nvme0).
host_connect() {
	local opts r inst i=0
	[ -n "$1" ] || { nvmetvm_err "usage: host_connect SUBNQN [EXTRA_OPTIONS]"; return; }
	opts="transport=tcp,traddr=10.0.2.100,trsvcid=4420,nqn=$1,hostnqn=$NVMETVM_HOSTNQN,hostid=$NVMETVM_HOSTID"
	[ -z "${2:-}" ] || opts="$opts,$2"
	exec 4<> /dev/nvme-fabrics || return
	printf '%s' "$opts" >&4 || { exec 4>&-; nvmetvm_err "connect $1 failed (dmesg says why)"; return; }
	IFS= read -r r <&4
	exec 4>&-
	inst=${r#instance=}
	inst=${inst%%,*}
	[ -n "$inst" ] || { nvmetvm_err "connect $1: unexpected answer '$r'"; return; }
	while ! ls /sys/class/nvme/nvme"$inst"/nvme*n* > /dev/null 2>&1 && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "nvme$inst"
}

# host_ns_dev nvmeN NSID: the block device of namespace NSID of controller
# nvmeN (6.12 numbers disks in the order it finds them: nvme0n1 may be nsid 2).
host_ns_dev() {
	local b i=0
	while [ $i -lt 50 ]; do
		for b in /sys/block/"$1"n*; do
			[ -e "$b/nsid" ] && [ "$(cat "$b/nsid")" = "$2" ] &&
				[ -b "/dev/${b##*/}" ] && { echo "/dev/${b##*/}"; return 0; }
		done
		sleep 0.1
		i=$((i + 1))
	done
	nvmetvm_err "$1 has no block device for namespace $2"
}

# host_nvme_connect SUBNQN HOSTNQN [nvme connect options]: the same
# connection made by nvme-cli (in the image when the machine that built it
# has nvme-cli), e.g. with --dhchap-secret KEY --dhchap-ctrl-secret KEY;
# prints the controller (nvme0) once its namespaces' block devices exist.
host_nvme_connect() {
	local sub=$1 hn=$2 c found= i=0
	[ -x /usr/sbin/nvme ] || { nvmetvm_err "no nvme-cli in this image"; return; }
	shift 2
	/usr/sbin/nvme connect -t tcp -a 10.0.2.100 -s 4420 -n "$sub" \
		--hostnqn "$hn" --hostid "$NVMETVM_HOSTID" "$@" >&2 ||
		{ nvmetvm_err "nvme connect $sub as $hn failed (dmesg says why)"; return; }
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$sub" ] &&
			[ "$(cat "$c/hostnqn" 2>/dev/null)" = "$hn" ] && found=${c##*/}
	done
	[ -n "$found" ] || { nvmetvm_err "nvme connect made no controller of $sub"; return; }
	while ! ls /sys/class/nvme/"$found"/nvme*n* > /dev/null 2>&1 && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "$found"
}

# host_disconnect nvmeN: delete a controller host_connect made.
host_disconnect() {
	wr 1 "/sys/class/nvme/$1/delete_controller"
}

# --- NVMe/TCP over TLS (NVMEOF_VM_TLS=1 images: trixie's tlshd, keyctl) -----

# tlshd_start: write /etc/tlshd.conf (keyrings=.nvme) and start tlshd, once
# nvme-keyring is loaded (tlshd links the .nvme keyring into its session
# keyring at start-up only); its log is /tmp/tlshd.log. guest-init.sh calls
# it at boot when the image has tlshd.
tlshd_start() {
	local i=0 pid
	[ -x /bin/tlshd ] || { nvmetvm_err "no tlshd in this image (NVMEOF_VM_TLS=1)"; return; }
	tls_keyring > /dev/null || return
	if [ -r "$NVMETVM_STATE/tlshd.pid" ] && kill -0 "$(cat "$NVMETVM_STATE/tlshd.pid")" 2>/dev/null; then
		return 0
	fi
	mkdir -p "$NVMETVM_STATE"
	printf '[debug]\nloglevel=%s\ntls=0\nnl=0\n\n[authenticate]\nkeyrings=.nvme\n\n[authenticate.client]\n\n[authenticate.server]\n' \
		"${TLSHD_LOGLEVEL:-7}" > /etc/tlshd.conf
	tlshd -s -c /etc/tlshd.conf >> /tmp/tlshd.log 2>&1 < /dev/null &
	echo $! > "$NVMETVM_STATE/tlshd.pid"
	# Up once it has linked .nvme (it says so in its log) and listens on
	# the kernel's handshake family: the one generic netlink socket here
	# (protocol 16) with a multicast group. A hang guard of 60 s.
	pid=$(cat "$NVMETVM_STATE/tlshd.pid")
	until grep -q 'linked into our session keyring' /tmp/tlshd.log 2>/dev/null &&
		awk '$2 == 16 && $4 != "00000000" { f = 1 } END { exit !f }' /proc/net/netlink; do
		kill -0 "$pid" 2>/dev/null || { cat /tmp/tlshd.log >&2; nvmetvm_err "tlshd exited"; return; }
		i=$((i + 1))
		[ $i -lt 1200 ] || break
		sleep 0.05
	done
	grep -q 'linked into our session keyring' /tmp/tlshd.log 2>/dev/null ||
		{ cat /tmp/tlshd.log >&2; nvmetvm_err "tlshd did not link the .nvme keyring"; return; }
	[ $i -lt 1200 ] || echo "nvmetvm: note: no netlink multicast listener seen for tlshd" >&2
	return 0
}

# tls_keyring: print the serial (decimal) of the kernel's .nvme keyring.
tls_keyring() {
	local id
	id=$(awk '$9 == ".nvme:" || $9 == ".nvme" { print $1; exit }' /proc/keys 2>/dev/null)
	[ -n "$id" ] || { nvmetvm_err "no .nvme keyring (nvme-keyring not loaded?)"; return; }
	printf '%d\n' "0x$id"
}

# tls_key_insert HOSTNQN SUBNQN HEX [HMAC]: insert the TLS PSK (already
# derived, in hex, e.g. from `nvmeof check-tls-key --hostnqn --subnqn`) as
# a key of type psk, description "NVMe0R0<HMAC> HOSTNQN SUBNQN" (HMAC 1:
# SHA-256, the default; 2: SHA-384), in the .nvme keyring; prints its serial.
# An existing key of that identity is replaced.
tls_key_insert() {
	[ $# -ge 3 ] || { nvmetvm_err "usage: tls_key_insert HOSTNQN SUBNQN HEX [HMAC]"; return; }
	tls_key_insert_identity "NVMe0R0${4:-1} $1 $2" "$3"
}

# tls_key_insert_identity IDENTITY HEX: the same under any identity, e.g. a
# version 1 one ("NVMe1R01 HOSTNQN SUBNQN DIGEST").
tls_key_insert_identity() {
	local kr bin
	[ $# -eq 2 ] || { nvmetvm_err "usage: tls_key_insert_identity IDENTITY HEX"; return; }
	kr=$(tls_keyring) || return
	case "$2" in
	*[!0-9a-fA-F]* | "") nvmetvm_err "tls_key_insert: '$2' is not hex"; return ;;
	esac
	bin=$(printf '%s' "$2" | sed 's/\(..\)/\\x\1/g')
	# shellcheck disable=SC2059  # the format is the key's bytes as \xHH
	printf "$bin" | keyctl padd psk "$1" "$kr" ||
		nvmetvm_err "keyctl padd psk '$1' failed"
}

# tls_key_remove HOSTNQN SUBNQN [HMAC]: revoke and unlink that key.
tls_key_remove() {
	local kr k
	kr=$(tls_keyring) || return
	k=$(tls_key_find "$@") || return
	keyctl revoke "$k" > /dev/null 2>&1
	keyctl unlink "$k" "$kr" > /dev/null
}

# tls_key_find HOSTNQN SUBNQN [HMAC]: the serial of that psk key.
tls_key_find() {
	local id
	id=$(awk -v d="NVMe0R0${3:-1} $1 $2" '$8 == "psk" && index($0, d ":") { print $1; exit }' /proc/keys)
	[ -n "$id" ] || { nvmetvm_err "no psk key 'NVMe0R0${3:-1} $1 $2'"; return; }
	printf '%d\n' "0x$id"
}

# tls_key_hex SERIAL: the key's bytes in hex (psk keys can be read only by
# a possessor: the .nvme keyring is linked into root's user session keyring
# first, which is the session keyring of every process here: @s would be a
# new keyring of that one keyctl process).
tls_key_hex() {
	keyctl link "$(tls_keyring)" @us > /dev/null 2>&1
	keyctl pipe "$1" | od -An -v -tx1 | tr -d ' \n'
	echo
}

# tls_port_setup SECTYPE [TREQ [PORTID]]: the port's secure channel:
# SECTYPE tls1.3 or none, TREQ required (default), not required or "not
# specified". nvmet takes addr_tsas/addr_treq only while no subsystem is
# linked to the port (port_down ... port_up around them), and a write of
# addr_tsas resets addr_treq, so tsas goes first.
tls_port_setup() {
	local id="${3:-1}" p
	[ $# -ge 1 ] || { nvmetvm_err "usage: tls_port_setup tls1.3|none [TREQ [PORTID]]"; return; }
	p="$NVMET/ports/$id"
	[ -e "$p/addr_tsas" ] || { nvmetvm_err "this kernel has no $p/addr_tsas"; return; }
	port_down "$id" || return
	wr "$1" "$p/addr_tsas" || { port_up "$id"; return 1; }
	wr "${2:-required}" "$p/addr_treq" || { port_up "$id"; return 1; }
	port_up "$id"
}
