#!/bin/sh
# Issue 19: connect mounts a subsystem with nvmeof-mount (under --base, a
# name without ':'), connect-all mounts every NVM subsystem a discovery
# controller lists (from the address, or from discovery.conf), and
# list-subsys lists the mounts with NQN, serial, model, firmware,
# namespaces, path and state, in text and JSON.  Never the real
# /etc/nvme or /run/nvmeof: NVMEOF_ETC_DIR and --base point into $T.
. "$(dirname "$0")/lib.sh"
need() {
	if [ "${CI:-}" = true ]; then
		fail "$*"
	fi
	skip "$*"
}
[ -c /dev/fuse ] || need "no /dev/fuse"
command -v fusermount3 >/dev/null 2>&1 || need "no fusermount3 (apt-get install fuse3)"
if [ "$(id -u)" -ne 0 ] && [ ! -u "$(command -v fusermount3)" ]; then
	need "not root and fusermount3 is not set-uid"
fi
NVMEOF_MOUNT="$top_builddir/fuse/nvmeof-mount"
[ -x "$NVMEOF_MOUNT" ] || fail "no $NVMEOF_MOUNT"
export NVMEOF_MOUNT
SECOND="nqn.2026-11.org.example:cli-second"
mkdir -p "$T/etc" "$T/run"
echo "nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-2222-3333-4444-555555555555" >"$T/etc/hostnqn"
echo "bbbbbbbb-2222-3333-4444-555555555555" >"$T/etc/hostid"
NVMEOF_ETC_DIR="$T/etc"
export NVMEOF_ETC_DIR

# Unmount whatever this test mounted, also when it fails.
unmount_all() {
	for m in "$T"/run/* "$T/mnt"; do
		[ -d "$m" ] || continue
		grep -qF " $m " /proc/self/mountinfo 2>/dev/null || continue
		fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}
trap 'unmount_all; cleanup' EXIT

start_target -n "$SECOND" --ns ram:16M --serial SECONDSERIAL

# connect: under --base, the NQN's ':' made '-'
DIR1="$T/run/nqn.2026-11.org.example-cli-test"
expect 0 connect "$ADDR" -n "$TEST_NQN" --base "$T/run" --ctrl-loss-tmo 5
out_has "connected $TEST_NQN"
grep -qF " $DIR1 " /proc/self/mountinfo || fail "$DIR1 is not mounted"
[ -e "$DIR1/n1" ] || fail "no $DIR1/n1"
# again: left as it is
expect 0 connect "$ADDR" -n "$TEST_NQN" --base "$T/run"
out_has "already connected"
# -m: a directory of one's own, nvme-cli's addressing
mkdir -p "$T/mnt"
expect 0 connect -t tcp -a 127.0.0.1 -s "$TPORT" -n "$SECOND" -m "$T/mnt"
grep -qF " $T/mnt " /proc/self/mountinfo || fail "$T/mnt is not mounted"
fusermount3 -u "$T/mnt" || fail "fusermount3 -u $T/mnt"
# an unknown subsystem: nvmeof-mount's error, its exit code (76: Connect
# refused, as for identify)
expect 76 connect "$ADDR" -n nqn.2026-11.org.example:nothing --base "$T/run"
err_has "nvmeof-mount of nqn.2026-11.org.example:nothing"
[ -d "$T/run/nqn.2026-11.org.example-nothing" ] && fail "the failed mount point was left behind"
# a directory of the user's own stays, mounted or not
expect 76 connect "$ADDR" -n nqn.2026-11.org.example:nothing -m "$T/mnt"
[ -d "$T/mnt" ] || fail "a failed connect removed the user's directory $T/mnt"

# connect-all from discovery.conf: the second subsystem, the first skipped
cat >"$T/etc/discovery.conf" <<CONF
# nvme-cli's format
--transport=tcp --traddr=127.0.0.1 --trsvcid=$TPORT
CONF
expect 0 connect-all --base "$T/run"
out_has "$TEST_NQN already connected"
out_has "connected $SECOND"
DIR2="$T/run/nqn.2026-11.org.example-cli-second"
grep -qF " $DIR2 " /proc/self/mountinfo || fail "$DIR2 is not mounted"
expect 0 connect-all "$ADDR" --base "$T/run" --dry-run
out_has "$NVMEOF_MOUNT -n $SECOND"
printf -- '-t rdma -a 127.0.0.1\n' >"$T/bad.conf"
expect 78 connect-all --discovery-conf "$T/bad.conf" --base "$T/run"
err_has "bad.conf:1: transport 'rdma' is not supported"

# list-subsys: both mounts, their identity, paths and states
expect 0 list-subsys
out_has "$DIR1 - NQN=$TEST_NQN"
out_has "serial=$TEST_SERIAL"
out_has "$DIR2 - NQN=$SECOND"
out_has "traddr=127.0.0.1:$TPORT"
out_has " live"
expect 0 list-subsys -o json
# other mounts of this machine may be listed too (and come and go)
n=$(json '#Subsystems')
[ "$n" -ge 2 ] || fail "list-subsys lists $n mounts, expected ours two at least"
found=0
found2=0
i=0
while [ $i -lt "$n" ]; do
	if [ "$(json "Subsystems.$i.NQN")" = "$TEST_NQN" ]; then
		[ "$(json "Subsystems.$i.SerialNumber")" = "$TEST_SERIAL" ] || fail "SerialNumber"
		[ "$(json "Subsystems.$i.ModelNumber")" = "$TEST_MODEL" ] || fail "ModelNumber"
		[ -n "$(json "Subsystems.$i.Firmware")" ] || fail "Firmware"
		[ "$(json "Subsystems.$i.Namespaces.0")" = 1 ] || fail "Namespaces"
		[ "$(json "Subsystems.$i.Paths.0.State")" = live ] || fail "State"
		[ "$(json "Subsystems.$i.Paths.0.Address")" = "127.0.0.1:$TPORT" ] || fail "Address"
		found=1
	fi
	if [ "$(json "Subsystems.$i.Directory")" = "$DIR2" ]; then
		[ "$(json "Subsystems.$i.SerialNumber")" = SECONDSERIAL ] || fail "second: SerialNumber"
		found2=1
	fi
	i=$((i + 1))
done
[ $found -eq 1 ] || fail "list-subsys -o json has no $TEST_NQN"
[ $found2 -eq 1 ] || fail "list-subsys -o json has no $DIR2"

unmount_all
expect 0 list-subsys
grep -qF "$DIR1" "$T/out" && fail "list-subsys still lists $DIR1 after unmounting"
echo "connect, connect-all, list-subsys: ok"
