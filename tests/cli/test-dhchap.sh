#!/bin/sh
# gen-dhchap-key and check-dhchap-key against what Debian 12's nvme-cli 2.3
# printed (tests/data/dhchap, see its README): the same key for the same
# secret, indicator, length and NQN; the same verdict, HMAC, length and CRC
# for every key it checked; and every bad input refused with its reason.
. "$(dirname "$0")/lib.sh"
D="$top_srcdir/tests/data/dhchap"
n=0
while read -r h l s nqn key; do
	case $h in '#'*) continue ;; esac
	expect 0 gen-dhchap-key --hmac "$h" --key-length "$l" --secret "$s" --nqn "$nqn"
	[ "$(cat "$T/out")" = "$key" ] ||
		fail "gen-dhchap-key --hmac $h -l $l --nqn $nqn: $(cat "$T/out"), nvme-cli: $key"
	n=$((n + 1))
done <"$D/gen.txt"
[ "$n" -ge 18 ] || fail "only $n rows in gen.txt"

tab=$(printf '\t')
good=0 bad=0
while IFS="$tab" read -r key rc msg; do
	case $key in '#'*) continue ;; esac
	if [ "$rc" = 0 ]; then
		expect 0 check-dhchap-key "$key"
		[ "$(cat "$T/out")" = "$msg" ] || fail "check $key: $(cat "$T/out"), nvme-cli: $msg"
		expect 0 check-dhchap-key --key "$key"
		good=$((good + 1))
	else
		expect 65 check-dhchap-key "$key"
		[ -s "$T/err" ] || fail "check $key: no reason given"
		bad=$((bad + 1))
	fi
done <"$D/check.txt"
if [ "$good" -lt 18 ] || [ "$bad" -lt 8 ]; then
	fail "check.txt: $good good, $bad bad keys"
fi

# The reasons.
expect 65 check-dhchap-key 'DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaS:'
err_has "CRC mismatch"
expect 65 check-dhchap-key 'DHHC-1:04:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:'
err_has "unknown transformation 04"
expect 65 check-dhchap-key 'foo'
err_has "must start with 'DHHC-1:'"
expect 64 check-dhchap-key
err_has "no key to check"
expect 64 check-dhchap-key a b
err_has "unexpected argument 'b'"

# Random keys: each valid, each different, the asked length and indicator.
for spec in "0 32" "0 48" "0 64" "1 32" "2 48" "3 64"; do
	# shellcheck disable=SC2086  # "HMAC LEN", split on purpose
	set -- $spec
	expect 0 gen-dhchap-key --hmac "$1" --key-length "$2" --nqn nqn.2026-11.org.example:h
	k=$(cat "$T/out")
	case $k in "DHHC-1:0$1:"*:) ;; *) fail "gen-dhchap-key --hmac $1: $k" ;; esac
	expect 0 check-dhchap-key "$k"
	out_has "Key is valid (HMAC $1, length $2,"
	expect 0 gen-dhchap-key --hmac "$1" --key-length "$2" --nqn nqn.2026-11.org.example:h
	[ "$(cat "$T/out")" != "$k" ] || fail "the same random key twice"
done
expect 0 gen-dhchap-key -o json
json key | grep -q '^DHHC-1:00:' || fail "gen-dhchap-key -o json: $(cat "$T/out")"
expect 0 check-dhchap-key -o json "$(json key)"
[ "$(json length)" = 32 ] || fail "check-dhchap-key -o json length"

# Bad input.
expect 64 gen-dhchap-key --hmac 4
err_has "--hmac"
expect 64 gen-dhchap-key --key-length 40
err_has "32, 48 or 64"
expect 64 gen-dhchap-key --hmac 1 --key-length 64 --nqn nqn.2026-11.org.example:h
err_has "is 32 bytes"
expect 64 gen-dhchap-key --secret 00
err_has "2 hex digits, a 32-byte key takes 64"
expect 64 gen-dhchap-key --secret 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eXY
err_has "'XY' at 62 is not hex"
expect 64 gen-dhchap-key --nqn 'not an nqn'
# --hmac without --nqn takes the host NQN in use; none: exit 78.
mkdir "$T/empty"
NVMEOF_ETC_DIR="$T/empty" expect 78 gen-dhchap-key --hmac 1
err_has "needs a host NQN"
exit 0
