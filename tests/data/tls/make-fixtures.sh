#!/bin/sh
# Makes the TLS PSK fixtures of this directory (see README.md). Needs:
#   nvme     Debian 12's nvme-cli 2.3 (apt-get install nvme-cli)
#   NVME213  a wrapper running Debian 13's nvme-cli 2.13 (libnvme 1.13) with
#            trixie's own libc (ld-linux --library-path)
#   NVME216  the same for Debian sid's nvme-cli 2.16 (libnvme 1.16.2)
#   KEYCTL   keyutils' keyctl (trixie's, run the same way)
# The keyring is a private session keyring of this script; keys are inserted
# as type "user" so that keyctl can read them back.
set -eu
: "${NVME213:?}" "${NVME216:?}" "${KEYCTL:?}"
out=$(cd "$(dirname "$0")" && pwd)

# A key in the interchange format, built here only for indicator 00 (nvme-cli
# generates 01/02 only); nvme 2.3 check-tls-key validates it below.
mkkey() { # HMAC HEX
	python3 -c 'import base64,sys,zlib
k=bytes.fromhex(sys.argv[2]); c=zlib.crc32(k).to_bytes(4,"little")
print("NVMeTLSkey-1:%02x:%s:" % (int(sys.argv[1]), base64.b64encode(k+c).decode()))' "$1" "$2"
}

H1=nqn.2014-08.org.nvmexpress:uuid:0f8b0f5e-6f1e-4b9a-9d55-7b0e4c2f1a10
S1=nqn.2026-12.org.example:tls-target
H2=nqn.2026-12.org.example:host-a
S2=nqn.2014-08.org.nvmexpress:uuid:b2a1c3d4-e5f6-4711-8899-aabbccddeeff

{
echo "# KEY<TAB>RC<TAB>OUTPUT of nvme 2.3 check-tls-key --key=KEY"
} >"$out/check.txt"
{
echo "# HOSTNQN<TAB>SUBNQN<TAB>IDVER<TAB>KEY<TAB>rfc|compat<TAB>IDENTITY<TAB>TLS PSK (hex)"
} >"$out/derive.txt"

for spec in "1 32" "2 48" "0 32" "0 48" "1 32" "2 48"; do
	set -- $spec
	hex=$(openssl rand -hex "$2")
	if [ "$1" = 0 ]; then
		key=$(mkkey 0 "$hex")
	else
		key=$($NVME213 gen-tls-key --secret="$hex" --hmac="$1")
		[ "$key" = "$(mkkey "$1" "$hex")" ] || { echo "2.13 formats differently: $key" >&2; exit 1; }
	fi
	msg=$(nvme check-tls-key --key="$key" 2>&1) && rc=0 || rc=$?
	printf '%s\t%s\t%s\n' "$key" "$rc" "$msg" >>"$out/check.txt"
	for nqns in "$H1 $S1" "$H2 $S2"; do
		set -- $nqns
		for idv in 0 1; do
			for d in rfc compat compat216; do
				case $d in
				rfc) cmd=$NVME216 fl= ;; compat) cmd=$NVME213 fl= ;; compat216) cmd=$NVME216 fl=--compat ;;
				esac
				line=$($KEYCTL session - sh -c '
					r=$('"$KEYCTL"' newring nvmefx @s)
					$5 check-tls-key --keyring=nvmefx --keytype=user \
						--hostnqn="$1" --subsysnqn="$2" --identity="$3" \
						--keydata="$4" --insert $6 >/dev/null
					k=$('"$KEYCTL"' rlist $r)
					id=$('"$KEYCTL"' rdescribe $k | sed "s/^[^;]*;[^;]*;[^;]*;[^;]*;//")
					printf "%s\t%s\n" "$id" "$('"$KEYCTL"' pipe $k | od -An -v -tx1 | tr -d " \n")"
				' sh "$1" "$2" "$idv" "$key" "$cmd" "$fl" 2>/dev/null)
				case $d in
				compat216) [ "$line" = "$prev" ] || { echo "2.16 --compat differs from 2.13: $line / $prev" >&2; exit 1; } ;;
				*) printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$idv" "$key" "$d" "$line" >>"$out/derive.txt" ;;
				esac
				prev=$line
			done
		done
	done
done

# Broken keys: CRC, indicator, header, base64, length, no trailing ':'.
good=NVMeTLSkey-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu:
for key in "$good" \
	NVMeTLSkey-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdv: \
	NVMeTLSkey-1:03:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu: \
	NVMeTLSkey-2:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu: \
	DHHC-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu: \
	NVMeTLSkey-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yaz: \
	NVMeTLSkey-1:01:meGtuwaxQDZciRze+2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu \
	"NVMeTLSkey-1:01:meGtuwaxQDZciRze*2fmLmfGhyDZ6/AKBi2Pw1feU60Yazdu:" \
	"$(mkkey 1 "$(openssl rand -hex 64)")" \
	"$(mkkey 1 "$(openssl rand -hex 16)")"; do
	msg=$(nvme check-tls-key --key="$key" 2>&1) && rc=0 || rc=$?
	printf '%s\t%s\t%s\n' "$key" "$rc" "$(echo "$msg" | tr '\n' ' ' | sed 's/ *$//')" >>"$out/check.txt"
done
