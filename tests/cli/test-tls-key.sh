#!/bin/sh
# gen-tls-key and check-tls-key against what nvme-cli computed
# (tests/data/tls, see its README): 2.3's verdict and CRC for every key, and
# for every key and NQN pair the identity and TLS PSK that 2.16 (RFC 8446)
# and 2.13 (compat) inserted into a keyring, identity versions 0 and 1; every
# bad input refused with its reason.
. "$(dirname "$0")/lib.sh"
D="$top_srcdir/tests/data/tls"
tab=$(printf '\t')

good=0 bad=0
while IFS="$tab" read -r key rc msg; do
	case $key in '#'*) continue ;; esac
	case $msg in
	*"Invalid HMAC identifier 0"*) # nvme-cli 2.3 refuses 00; the specification does not
		expect 0 check-tls-key "$key"
		out_has "Key is valid (HMAC 0, "
		continue ;;
	esac
	if [ "$rc" = 0 ]; then
		expect 0 check-tls-key "$key"
		[ "$(cat "$T/out")" = "$msg" ] || fail "check $key: $(cat "$T/out"), nvme-cli: $msg"
		expect 0 check-tls-key --key "$key"
		good=$((good + 1))
	else
		expect 65 check-tls-key "$key"
		[ -s "$T/err" ] || fail "check $key: no reason given"
		bad=$((bad + 1))
	fi
done <"$D/check.txt"
[ "$good" -ge 5 ] && [ "$bad" -ge 8 ] || fail "check.txt: $good good, $bad bad keys"

n=0
while IFS="$tab" read -r h s v key d id psk; do
	case $h in '#'*) continue ;; esac
	expect 0 check-tls-key "$key" --hostnqn "$h" --subnqn "$s" --identity "$v"
	out_has "Identity ($d): $id"
	out_has "TLS PSK ($d): $psk"
	# gen-tls-key from the same bytes prints the same (01/02 keys only).
	case $key in NVMeTLSkey-1:00:*) ;; *)
		hex=$(printf '%s' "$key" | cut -d: -f3 | base64 -d | od -An -v -tx1 | tr -d ' \n')
		hex=${hex%????????}
		hm=$(printf '%s' "$key" | cut -d: -f2)
		expect 0 gen-tls-key --hmac "${hm#0}" --secret "$hex" --hostnqn "$h" --subnqn "$s" -I "$v"
		[ "$(head -n 1 "$T/out")" = "$key" ] || fail "gen-tls-key --secret $hex: $(head -n 1 "$T/out")"
		out_has "TLS PSK ($d): $psk" ;;
	esac
	n=$((n + 1))
done <"$D/derive.txt"
[ "$n" -ge 48 ] || fail "only $n rows in derive.txt"

# JSON carries the same.
IFS="$tab" read -r h s v key d id psk <<EOT
$(grep -v '^#' "$D/derive.txt" | head -n 1)
EOT
expect 0 check-tls-key -o json "$key" --hostnqn "$h" --subnqn "$s" -I "$v"
[ "$(json derived.0.psk)" = "$psk" ] || [ "$(json derived.1.psk)" = "$psk" ] ||
	fail "JSON PSKs: $(cat "$T/out")"
[ "$(json valid)" = true ] || fail "JSON: $(cat "$T/out")"

# The reasons.
expect 65 check-tls-key 'NVMeTLSkey-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdv:'
err_has "CRC mismatch"
expect 65 check-tls-key 'NVMeTLSkey-1:03:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu:'
err_has "unknown hash 03"
expect 65 check-tls-key 'DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:'
err_has "must start with 'NVMeTLSkey-1:'"
expect 64 check-tls-key
err_has "no key to check"
expect 64 check-tls-key a b
err_has "unexpected argument 'b'"
good=NVMeTLSkey-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu:
expect 64 check-tls-key "$good" --hostnqn nqn.2026-12.org.example:h
err_has "--hostnqn needs --subnqn"
expect 64 check-tls-key "$good" --subnqn nqn.2026-12.org.example:s -I 2
err_has "--identity"
expect 64 gen-tls-key --hmac 3
err_has "--hmac"
expect 64 gen-tls-key --hmac 0
err_has "--hmac"
expect 64 gen-tls-key --secret 00112233
err_has "8 hex digits, a 32-byte key (--hmac 1) takes 64"
expect 64 gen-tls-key --secret "$(printf 'zz%062d' 0)"
err_has "'zz' at 0 is not hex"
expect 64 check-tls-key "$good" --subnqn 'not an nqn'

# Random keys: each valid, each different, the asked hash and length.
for spec in "1 32" "2 48"; do
	set -- $spec
	expect 0 gen-tls-key --hmac "$1"
	k=$(cat "$T/out")
	case $k in "NVMeTLSkey-1:0$1:"*:) ;; *) fail "gen-tls-key --hmac $1: $k" ;; esac
	expect 0 check-tls-key "$k"
	out_has "Key is valid (HMAC $1, length $2,"
	expect 0 gen-tls-key --hmac "$1"
	[ "$(cat "$T/out")" != "$k" ] || fail "the same random key twice"
done
expect 0 gen-tls-key -o json
json key | grep -q '^NVMeTLSkey-1:01:' || fail "gen-tls-key -o json: $(cat "$T/out")"
expect 0 check-tls-key -o json "$(json key)"
exit 0
