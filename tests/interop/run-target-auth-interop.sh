#!/bin/bash
# nvmeof-target's DH-HMAC-CHAP proven by the Linux 6.12 kernel host: boot
# 6.12 once as an NVMe/TCP host (NVMEOF_VM_KERNEL=6.12; its nvme-auth is
# built in) with Debian 12's nvme-cli in the guest, and `nvme connect
# --dhchap-secret ... [--dhchap-ctrl-secret ...]` to nvmeof-target on this
# machine: unidirectional with each hash, bidirectional with ffdhe2048 and
# with ffdhe8192 (about 5 s a queue on the guest's emulated CPU: the
# target gets --login-timeout 120), the sha256 of the namespace equal to
# the file's; a wrong host secret, a wrong controller secret and no secret
# are refused. Exit 77 (skip, with the reason) when QEMU, the 6.12 package
# or nvme-cli is missing, except under CI=true.
set -u
here=$(cd "$(dirname "$0")" && pwd)
vm="$here/nvmet-vm"
target=${NVMEOF_BUILDDIR:-.}/src/nvmeof-target
nvmeof=${NVMEOF_BUILDDIR:-.}/cli/nvmeof
sub=nqn.2026-11.org.example:nvmeof-target-auth
export NVMEOF_VM_KERNEL=6.12
pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
ko() { echo "FAIL: $*"; fail=$((fail + 1)); }

[ -x "$target" ] && [ -x "$nvmeof" ] || { echo "FAIL: $target or $nvmeof not built"; exit 1; }
if ! command -v nvme > /dev/null 2>&1; then
	echo "SKIP: no nvme-cli on this machine for the guest (apt-get install nvme-cli)"
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
"$vm" prepare
rc=$?
[ $rc = 0 ] || exit $rc

tmp=$(mktemp -d "${TMPDIR:-/tmp}/target-auth.XXXXXX")
tpid=
cleanup() {
	"$vm" stop "$tmp/vm" > /dev/null 2>&1
	if [ -n "$tpid" ]; then kill "$tpid" 2> /dev/null; wait "$tpid" 2> /dev/null; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# host NQN, then nvmeof-target's options for it
h() { echo "nqn.2014-08.org.example:linux-auth-$1"; }
key() { "$nvmeof" gen-dhchap-key --hmac "$1" --nqn "$2"; }
K1=$(key 0 "$(h sha256)") K2=$(key 1 "$(h sha384)") K3=$(key 3 "$(h sha512)")
K4=$(key 2 "$(h bidi2048)") C4=$(key 0 "$(h bidi2048)")
K5=$(key 0 "$(h bidi8192)") C5=$(key 1 "$(h bidi8192)")
head -c $((16 << 20)) /dev/urandom > "$tmp/ns.img"
"$target" -v -l 127.0.0.1:0 --port-file "$tmp/port" --login-timeout 120 \
	-n "$sub" --ns "$tmp/ns.img" \
	--allow-host "$(h sha256)" --dhchap-key "$K1" --dhchap-hash sha256 --dhchap-dhgroup null \
	--allow-host "$(h sha384)" --dhchap-key "$K2" --dhchap-hash sha384 --dhchap-dhgroup null \
	--allow-host "$(h sha512)" --dhchap-key "$K3" --dhchap-hash sha512 --dhchap-dhgroup null \
	--allow-host "$(h bidi2048)" --dhchap-key "$K4" --dhchap-ctrl-key "$C4" \
		--dhchap-dhgroup ffdhe2048 \
	--allow-host "$(h bidi8192)" --dhchap-key "$K5" --dhchap-ctrl-key "$C5" \
		--dhchap-hash sha512 --dhchap-dhgroup ffdhe8192 \
	2> "$tmp/target.log" &
tpid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { cat "$tmp/target.log"; echo "FAIL: target did not start"; exit 1; }
port=$(cat "$tmp/port")
mkdir -p "$tmp/vm"
"$vm" start-host "$tmp/vm" "$port" || { echo "FAIL: guest did not start"; exit 1; }
"$vm" exec "$tmp/vm" "[ -x /usr/sbin/nvme ]" || {
	echo "FAIL: the guest image has no nvme-cli"; exit 1; }
echo "Linux $(cat "$tmp/vm/kver") host, $("$vm" exec "$tmp/vm" "/usr/sbin/nvme version" | head -n 1) -> nvmeof-target on 127.0.0.1:$port"
want=$(sha256sum "$tmp/ns.img" | cut -d' ' -f1)

# good NAME WHAT OPTIONS...: connect, compare the namespace, disconnect; the
# target must have logged the admin queue and an I/O queue authenticated.
good() {
	local hn what=$2 ctrl got
	hn=$(h "$1")
	shift 2
	ctrl=$("$vm" exec "$tmp/vm" "host_nvme_connect $sub $hn $*" 2>&1) || {
		ko "$what: connect: $ctrl"; tail -5 "$tmp/target.log"; return; }
	ctrl=$(echo "$ctrl" | tail -n 1)
	got=$("$vm" exec "$tmp/vm" "sha256sum /dev/${ctrl}n1" | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "$what: sha256 of the namespace equals the file's" ||
		ko "$what: sha256 $got, file $want"
	grep -q "host $hn authenticated on queue 0 (DH-HMAC-CHAP $what" "$tmp/target.log" &&
		grep -q "host $hn authenticated on queue 1 (DH-HMAC-CHAP $what" "$tmp/target.log" &&
		ok "$what: the admin queue and I/O queues authenticated" ||
		ko "$what: the target did not log the queues authenticated"
	"$vm" exec "$tmp/vm" "host_disconnect $ctrl" > /dev/null || ko "$what: disconnect"
}
# bad NAME WHAT LOGLINE OPTIONS...: the connection is refused, the target
# logged LOGLINE.
bad() {
	local hn what=$2 line=$3 out
	hn=$(h "$1")
	shift 3
	if out=$("$vm" exec "$tmp/vm" "host_nvme_connect $sub $hn $*" 2>&1); then

		ko "$what: connected: $out"
		"$vm" exec "$tmp/vm" "host_disconnect $(echo "$out" | tail -n 1)" > /dev/null
		return
	fi
	if [ -z "$line" ] || grep -qF "$line" "$tmp/target.log"; then
		ok "$what: refused"
	else
		ko "$what: refused, but the target did not log '$line'"
		echo "$out" | tail -n 3
		tail -5 "$tmp/target.log"
	fi
}

good sha256 "sha256, null" --dhchap-secret "$K1"
good sha384 "sha384, null" --dhchap-secret "$K2"
good sha512 "sha512, null" --dhchap-secret "$K3"
good bidi2048 "sha256, ffdhe2048, bidirectional" --dhchap-secret "$K4" --dhchap-ctrl-secret "$C4"
good bidi8192 "sha512, ffdhe8192, bidirectional" --dhchap-secret "$K5" --dhchap-ctrl-secret "$C5"
bad sha256 "wrong host secret" "the host's response is wrong: wrong host secret?" \
	--dhchap-secret "$K2"
bad bidi2048 "wrong controller secret" "it found the controller's response wrong" \
	--dhchap-secret "$K4" --dhchap-ctrl-secret "$K4"
bad sha256 "no secret" "" 
for k in "$K1" "$K2" "$K3" "$K4" "$C4" "$K5" "$C5"; do
	b64=${k#DHHC-1:??:}
	! grep -qF "${b64%:}" "$tmp/target.log" || ko "a secret is in the target's log"
done
echo "target-auth-interop: $pass passed, $fail failed"
[ $fail = 0 ]
