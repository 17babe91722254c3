#!/bin/sh
# Issue 16: connect and connect-all take --dhchap-secret and
# --dhchap-ctrl-secret as nvme-cli's connect does, and the secret never
# reaches nvmeof-mount's command line (ps, /proc/PID/cmdline): a DHHC-1
# string goes to a 0600 file under $NVMEOF_RUN_DIR/.dhchap (0700), a file
# path goes as it is (made absolute); nvmeof disconnect removes the files
# it wrote.  Bidirectional against nvmeof-target, the mount reads back
# what it wrote; a wrong secret fails with nvmeof-mount's message and leaves nothing.
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
H=nqn.2014-08.org.example:connect-auth
# a subsystem NQN of its own: test-connect.sh, maybe running meanwhile,
# looks for its mounts by NQN in list-subsys
TEST_NQN=nqn.2026-11.org.example:connect-auth
key() { "$NVMEOF" gen-dhchap-key --hmac "$1" --nqn "$H" || fail "gen-dhchap-key"; }
K=$(key 1); C=$(key 2); WRONG=$(key 1)
mkdir -p "$T/run" "$T/mnt"
NVMEOF_RUN_DIR="$T/run"
export NVMEOF_RUN_DIR
umask 077
printf '%s\n' "$K" >"$T/k"

unmount_all() {
	for m in "$T"/run/* "$T/mnt"; do
		[ -d "$m" ] || continue
		grep -qF " $m " /proc/self/mountinfo 2>/dev/null || continue
		fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}
trap 'unmount_all; cleanup' EXIT

# daemon_of DIR: the pid of the nvmeof-mount serving DIR (its last argument)
daemon_of() {
	for p in /proc/[0-9]*; do
		[ -r "$p/cmdline" ] || continue
		if tr '\0' '\n' 2>/dev/null <"$p/cmdline" | tail -n 1 | grep -qxF "$1"; then
			if tr '\0' '\n' <"$p/cmdline" | head -n 1 | grep -q 'nvmeof-mount$'; then
				echo "${p#/proc/}"
				return 0
			fi
		fi
	done
	return 1
}
# no_secret_in_ps: no process of the machine shows a secret in its
# arguments (the secrets to look for in a file, not in grep's arguments)
no_secret_in_ps() {
	printf '%s\n%s\n' "$K" "$C" >"$T/secrets"
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" >"$T/cmdline" || continue
		if grep -qF -f "$T/secrets" "$T/cmdline"; then
			fail "process ${p#/proc/} shows a secret: $(cat "$T/cmdline")"
		fi
	done
	ps -eo args >"$T/ps" 2>/dev/null || fail "ps -eo args"
	grep -qF -f "$T/secrets" "$T/ps" && fail "ps shows a secret"
	return 0
}

start_target --allow-host "$H" --dhchap-key "$K" --dhchap-ctrl-key "$C" \
	--dhchap-dhgroup ffdhe2048 -v

DIR="$T/run/nqn.2026-11.org.example-connect-auth"
ESC=$(printf '%s' "$DIR" | sed 's/%/%25/g; s|/|%2F|g')
HF="$T/run/.dhchap/$ESC.host"
CF="$T/run/.dhchap/$ESC.ctrl"

# --dry-run: the command names the files, holds no secret, writes nothing
expect 0 connect "$ADDR" -n "$TEST_NQN" -q "$H" --dhchap-secret "$K" \
	--dhchap-ctrl-secret "$C" --dry-run
out_has "-o dhchap_secret_file=$HF,dhchap_ctrl_secret_file=$CF"
grep -qF -- "$K" "$T/out" && fail "--dry-run printed the host secret"
[ -e "$HF" ] && fail "--dry-run wrote $HF"

# bidirectional, both secrets as DHHC-1 strings
expect 0 connect "$ADDR" -n "$TEST_NQN" -q "$H" --dhchap-secret "$K" \
	--dhchap-ctrl-secret "$C" --ctrl-loss-tmo 5
out_has "connected $TEST_NQN"
grep -qF " $DIR " /proc/self/mountinfo || fail "$DIR is not mounted"
grep -q "host $H authenticated on queue 0 (DH-HMAC-CHAP .*, ffdhe2048, bidirectional)" \
	"$T/target.log" || fail "the target did not log a bidirectional authentication"
[ "$(cat "$HF")" = "$K" ] || fail "$HF does not hold the host secret"
[ "$(cat "$CF")" = "$C" ] || fail "$CF does not hold the controller secret"
[ "$(stat -c %a "$HF")" = 600 ] || fail "$HF: mode $(stat -c %a "$HF"), not 600"
[ "$(stat -c %a "$CF")" = 600 ] || fail "$CF: mode $(stat -c %a "$CF"), not 600"
[ "$(stat -c %a "$T/run/.dhchap")" = 700 ] || fail "$T/run/.dhchap is not 0700"
# the mount reads back what it wrote (the I/O queues authenticated too)
head -c 1048576 /dev/urandom >"$T/pattern"
dd if="$T/pattern" of="$DIR/n1" bs=64k conv=notrunc,fsync status=none ||
	fail "writing $DIR/n1"
[ "$(head -c 1048576 "$DIR/n1" | sha256sum)" = "$(sha256sum <"$T/pattern")" ] ||
	fail "$DIR/n1 does not read back what was written"
PID=$(daemon_of "$DIR") || fail "no nvmeof-mount process serves $DIR"
tr '\0' ' ' <"/proc/$PID/cmdline" | grep -qF "dhchap_secret_file=$HF,dhchap_ctrl_secret_file=$CF" ||
	fail "the daemon's arguments do not name the secret files: $(tr '\0' ' ' <"/proc/$PID/cmdline")"
no_secret_in_ps

# a reconnect reads the file again: the association authenticates again
n0=$(grep -c "host $H authenticated on queue 0" "$T/target.log")
expect 0 reconnect "$DIR"
i=0
while [ "$(grep -c "host $H authenticated on queue 0" "$T/target.log")" -le "$n0" ]; do
	i=$((i + 1))
	[ $i -lt 3000 ] || fail "no authentication after the reconnect"
	sleep 0.01
done
[ "$(head -c 1048576 "$DIR/n1" | sha256sum)" = "$(sha256sum <"$T/pattern")" ] ||
	fail "$DIR/n1 does not read back after the reconnect"

# disconnect removes the files connect wrote
expect 0 disconnect "$DIR"
[ -e "$HF" ] && fail "disconnect left $HF"
[ -e "$CF" ] && fail "disconnect left $CF"

# a file: passed by its absolute path, nothing written
(cd "$T" && "$NVMEOF" connect "$ADDR" -n "$TEST_NQN" -q "$H" --dhchap-secret k \
	-m "$T/mnt" >"$T/out" 2>"$T/err") || fail "connect with a secret file"
PID=$(daemon_of "$T/mnt") || fail "no nvmeof-mount process serves $T/mnt"
tr '\0' ' ' <"/proc/$PID/cmdline" | grep -qF "dhchap_secret_file=$T/k " ||
	fail "the daemon was not given $T/k: $(tr '\0' ' ' <"/proc/$PID/cmdline")"
[ "$(head -c 1048576 "$T/mnt/n1" | sha256sum)" = "$(sha256sum <"$T/pattern")" ] ||
	fail "$T/mnt/n1 does not read back"
no_secret_in_ps
expect 0 disconnect "$T/mnt"
[ -e "$T/k" ] || fail "disconnect removed the user's own secret file"

# a wrong host secret: nvmeof-mount's message and exit code (76, as
# nvmeof(8) says for a refused authentication); no secret file left behind,
# no mount
expect 76 connect "$ADDR" -n "$TEST_NQN" -q "$H" --dhchap-secret "$WRONG"
err_has "authentication failed"
[ -e "$HF" ] && fail "a failed connect left $HF"
grep -qF " $DIR " /proc/self/mountinfo && fail "a failed connect mounted $DIR"
# neither a secret nor a file
expect 64 connect "$ADDR" -n "$TEST_NQN" -q "$H" --dhchap-secret "$T/none"
err_has "neither a DHHC-1 secret nor a file"

# connect-all: the discovery controller is open; the subsystem mounts
# with the secret, as a file again
expect 0 connect-all "$ADDR" -q "$H" --dhchap-secret "$K" --dhchap-ctrl-secret "$C"
out_has "connected $TEST_NQN"
grep -qF " $DIR " /proc/self/mountinfo || fail "connect-all did not mount $DIR"
[ "$(cat "$HF")" = "$K" ] || fail "connect-all: $HF does not hold the host secret"
no_secret_in_ps
expect 0 disconnect "$DIR"
[ -e "$HF" ] && fail "disconnect left $HF"

# nvme-cli's config.json (libnvme's schema): dhchap_key per host,
# subsystem or port (the most specific wins), dhchap_ctrl_key per port;
# the command line still wins over it.
cat >"$T/config.json" <<JSON
[ { "hostnqn": "$H", "dhchap_key": "$WRONG",
    "subsystems": [ { "nqn": "$TEST_NQN",
      "ports": [ { "transport": "tcp", "traddr": "127.0.0.1", "trsvcid": "$TPORT",
                   "dhchap_key": "$K", "dhchap_ctrl_key": "$C" } ] } ] } ]
JSON
n0=$(grep -c "host $H authenticated on queue 0 (DH-HMAC-CHAP .*, bidirectional)" "$T/target.log")
expect 0 identify "$ADDR" -n "$TEST_NQN" --config "$T/config.json"
out_has "$TEST_SERIAL"
[ "$(grep -c "host $H authenticated on queue 0 (DH-HMAC-CHAP .*, bidirectional)" "$T/target.log")" -gt "$n0" ] ||
	fail "identify with config.json's secrets did not authenticate bidirectionally"
expect 76 identify "$ADDR" -n "$TEST_NQN" --config "$T/config.json" --dhchap-secret "$WRONG"
err_has "authentication failed"
# another subsystem's key is not ours: the host's (wrong) key is used
cat >"$T/host-only.json" <<JSON
[ { "hostnqn": "$H", "dhchap_key": "$WRONG",
    "subsystems": [ { "nqn": "nqn.2026-11.org.example:other",
      "ports": [ { "transport": "tcp", "traddr": "127.0.0.1", "trsvcid": "$TPORT",
                   "dhchap_key": "$K" } ] } ] } ]
JSON
expect 76 identify "$ADDR" -n "$TEST_NQN" --config "$T/host-only.json"
err_has "authentication failed"
# connect and connect-all from config.json: files again, never arguments
NVMEOF_CONFIG_JSON="$T/config.json" expect 0 connect "$ADDR" -n "$TEST_NQN"
out_has "connected $TEST_NQN"
[ "$(cat "$HF")" = "$K" ] || fail "config.json: $HF does not hold the port's host secret"
[ "$(cat "$CF")" = "$C" ] || fail "config.json: $CF does not hold the controller secret"
[ "$(head -c 1048576 "$DIR/n1" | sha256sum)" = "$(sha256sum <"$T/pattern")" ] ||
	fail "config.json: $DIR/n1 does not read back"
no_secret_in_ps
expect 0 disconnect "$DIR"
NVMEOF_CONFIG_JSON="$T/config.json" expect 0 connect-all "$ADDR"
out_has "connected $TEST_NQN"
[ "$(cat "$CF")" = "$C" ] || fail "connect-all, config.json: $CF does not hold the controller secret"
expect 0 disconnect "$DIR"
echo "connect --dhchap-secret, config.json: ok"
