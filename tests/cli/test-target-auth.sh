#!/bin/sh
# DH-HMAC-CHAP between our host (nvmeof --dhchap-secret) and nvmeof-target
# as the controller: unidirectional with each hash, bidirectional with the
# DH groups ffdhe2048 and ffdhe8192, I/O queues authenticated too (perf
# --verify), a wrong host secret, a wrong controller secret and no secret
# each with its message and exit 76; the secrets from the command line, a
# 0600 file, the configuration file and the control socket, and never in
# the target's log.
. "$(dirname "$0")/lib.sh"
need_target
H1=nqn.2014-08.org.example:auth-sha256
H2=nqn.2014-08.org.example:auth-sha384
H3=nqn.2014-08.org.example:auth-bidi-2048
H4=nqn.2014-08.org.example:auth-bidi-8192
H5=nqn.2014-08.org.example:auth-control
H6=nqn.2014-08.org.example:auth-config
OPEN=nqn.2014-08.org.example:auth-none
key() { "$NVMEOF" gen-dhchap-key --hmac "$1" --nqn "$2" || fail "gen-dhchap-key"; }
K1=$(key 0 "$H1"); K2=$(key 1 "$H2"); K3=$(key 2 "$H3"); C3=$(key 3 "$H3")
K4=$(key 0 "$H4"); C4=$(key 0 "$H4"); K5=$(key 1 "$H5"); K6=$(key 0 "$H6")
umask 077
printf '%s\n' "$K3" >"$T/k3"
printf '%s\n' "$C3" >"$T/c3"
cp "$T/k3" "$T/k3-open" && chmod 644 "$T/k3-open"

# A secret file others may read is refused, naming the file.
RC=0
"$NVMEOF_TARGET" -l 127.0.0.1:0 -n "$TEST_NQN" --ns ram:1M --allow-host "$H3" \
	--dhchap-key "$T/k3-open" >"$T/out" 2>"$T/err" || RC=$?
[ "$RC" = 64 ] || fail "a 0644 secret file: exit $RC, not 64"
err_has "k3-open is readable or writable by group or others (mode 0644)"

cat >"$T/cfg" <<CFG
subsystem nqn.2014-08.org.example:auth-cfg
ns 1 ram:1M
allow-host $H6 dhchap-key=$K6 dhchap-hash=sha512
CFG
start_target --control "$T/ctl" -c "$T/cfg" \
	--allow-host "$H1" --dhchap-key "$K1" --dhchap-hash sha256 --dhchap-dhgroup null \
	--allow-host "$H2" --dhchap-key "$K2" --dhchap-hash sha384 \
	--allow-host "$H3" --dhchap-key "$T/k3" --dhchap-ctrl-key "$T/c3" \
		--dhchap-hash sha512 --dhchap-dhgroup ffdhe2048 \
	--allow-host "$H4" --dhchap-key "$K4" --dhchap-ctrl-key "$C4" \
		--dhchap-dhgroup ffdhe8192 \
	--allow-host "$OPEN" -v
# The target's own arguments no longer show the secrets it was given.
! grep -qF "$K1" "/proc/$TPID/cmdline" || fail "a secret is left in the target's arguments"

# unidirectional, each hash
expect 0 identify "$ADDR" -n "$TEST_NQN" -q "$H1" --dhchap-secret "$K1"
out_has "$TEST_SERIAL"
grep -q "host $H1 authenticated on queue 0 (DH-HMAC-CHAP sha256, null)" "$T/target.log" ||
	fail "the target did not log the sha256 authentication"
expect 0 identify "$ADDR" -n "$TEST_NQN" -q "$H2" --dhchap-secret "$K2"
grep -q "host $H2 authenticated on queue 0 (DH-HMAC-CHAP sha384, null)" "$T/target.log" ||
	fail "the target did not log the sha384 authentication"
# bidirectional with ffdhe2048 and sha512, on the I/O queues too
expect 0 perf "$ADDR" -n "$TEST_NQN" --hostnqn "$H3" --dhchap-secret "$T/k3" \
	--dhchap-ctrl-secret "$T/c3" --verify --span 1M -t 1 -j 2
grep -q "host $H3 authenticated on queue 2 (DH-HMAC-CHAP sha512, ffdhe2048, bidirectional)" \
	"$T/target.log" || fail "the target did not log the I/O queue's authentication"
# bidirectional with ffdhe8192 (slow: once)
expect 0 identify "$ADDR" -n "$TEST_NQN" -q "$H4" --dhchap-secret "$K4" \
	--dhchap-ctrl-secret "$C4"
grep -q "host $H4 authenticated on queue 0 (DH-HMAC-CHAP sha256, ffdhe8192, bidirectional)" \
	"$T/target.log" || fail "the target did not log the ffdhe8192 authentication"
# a host without a secret connects as before
expect 0 identify "$ADDR" -n "$TEST_NQN" -q "$OPEN"

# wrong host secret
expect 76 identify "$ADDR" -n "$TEST_NQN" -q "$H1" --dhchap-secret "$K2"
err_has "authentication failed: the controller rejected the host's response (reason 01h/01h: authentication failed): wrong host secret?"
grep -q "DH-HMAC-CHAP of host $H1 on queue 0 failed: the host's response is wrong: wrong host secret?" \
	"$T/target.log" || fail "the target did not log the wrong host secret"
# wrong controller secret
expect 76 identify "$ADDR" -n "$TEST_NQN" -q "$H3" --dhchap-secret "$K3" \
	--dhchap-ctrl-secret "$K3"
err_has "the controller failed our check (bidirectional): wrong controller secret?"
grep -q "DH-HMAC-CHAP of host $H3 on queue 0 failed: the host ended the authentication with AUTH_Failure2" \
	"$T/target.log" || fail "the target did not log the host's Failure2"
# no secret where one is required
expect 76 identify "$ADDR" -n "$TEST_NQN" -q "$H1"
err_has "the subsystem requires authentication (DH-HMAC-CHAP): give --dhchap-secret"
# a hash the host's record does not allow: H2 may only use sha384, and
# our host offers all three, so it gets sha384 (checked above); H1 with
# the right secret but a DH group it may not use is not expressible from
# our host (it offers every group).

# the control socket
ctl host-add "$TEST_NQN" "$H5" "dhchap-key=$K5" dhchap-dhgroup=ffdhe2048 ||
	fail "host-add with a secret: $(cat "$T/ctl.out")"
expect 0 identify "$ADDR" -n "$TEST_NQN" -q "$H5" --dhchap-secret "$K5"
grep -q "control: host-add $TEST_NQN $H5 dhchap-key=(secret) dhchap-dhgroup=ffdhe2048" \
	"$T/target.log" || fail "the control line is not logged with the secret hidden"
! ctl host-add "$TEST_NQN" "$H2" dhchap-key=DHHC-1:00:nonsense: ||
	fail "host-add took a bad secret"
grep -q "error: dhchap-key: " "$T/ctl.out" || fail "no error for a bad secret: $(cat "$T/ctl.out")"
! ctl host-add "$TEST_NQN" nqn.2014-08.org.example:x dhchap-hash=md5 ||
	fail "host-add took an unknown hash"
grep -q "unknown hash 'md5'" "$T/ctl.out" || fail "no error for md5: $(cat "$T/ctl.out")"
ctl hosts "$TEST_NQN" || fail "hosts"
grep -q "host $H3 DH-HMAC-CHAP bidirectional" "$T/ctl.out" || fail "hosts does not show the authentication"

# the configuration file
expect 0 identify "$ADDR" -n nqn.2014-08.org.example:auth-cfg -q "$H6" --dhchap-secret "$K6"
grep -q "host $H6 authenticated on queue 0 (DH-HMAC-CHAP sha512, null)" "$T/target.log" ||
	fail "the configuration file's host did not authenticate with sha512"
expect 76 identify "$ADDR" -n nqn.2014-08.org.example:auth-cfg -q "$H6"
# a new secret on reload ends the host's association made with the old one
RC=0
"$NVMEOF" perf "$ADDR" -n nqn.2014-08.org.example:auth-cfg --hostnqn "$H6" \
	--dhchap-secret "$K6" -w randread -t 60 >"$T/perf.out" 2>"$T/perf.err" &
PERF=$!
wait_io_association
K6B=$(key 0 "$H6")
sed -i "s|dhchap-key=$K6|dhchap-key=$K6B|" "$T/cfg"
ctl reload || fail "reload: $(cat "$T/ctl.out")"
wait "$PERF" || RC=$?
[ "$RC" != 0 ] || fail "perf went on after its host's secret changed"
grep -q "its host's DH-HMAC-CHAP settings changed" "$T/target.log" ||
	fail "the target did not say why the association ended"
expect 0 identify "$ADDR" -n nqn.2014-08.org.example:auth-cfg -q "$H6" --dhchap-secret "$K6B"

# no secret in the target's log, ever
for k in "$K1" "$K2" "$K3" "$C3" "$K4" "$C4" "$K5" "$K6" "$K6B"; do
	b64=${k#DHHC-1:??:}
	! grep -qF "${b64%:}" "$T/target.log" || fail "a secret is in the target's log"
done
exit 0
