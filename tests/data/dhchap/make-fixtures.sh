#!/bin/bash
# make-fixtures.sh — record what Debian 12's nvme-cli (2.3, libnvme 1.3) says
# about DHHC-1 secrets, as fixtures for tests/test_auth_key.c and
# tests/cli/test-dhchap.sh. Needs `nvme` (apt-get install nvme-cli); not run
# by the tests: it rewrites gen.txt and check.txt beside it with new random
# secrets.
set -euo pipefail
cd "$(dirname "$0")"
nvme version | head -n 1
NQNS=(nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-0000000000a1
	nqn.2026-11.org.example:host-1
	nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000000)
# gen.txt: HMAC LEN SECRET_HEX NQN KEY, KEY = nvme gen-dhchap-key --secret
# SECRET_HEX --hmac HMAC --key-length LEN --nqn NQN (for HMAC 1-3 nvme-cli
# prints the secret transformed with NQN: HMAC(secret, NQN "NVMe-over-Fabrics")).
{
	echo "# hmac len secret-hex nqn nvme-gen-dhchap-key-output"
	for nqn in "${NQNS[@]}"; do
		for spec in 0:32 0:48 0:64 1:32 2:48 3:64; do
			h=${spec%:*} l=${spec#*:}
			s=$(head -c "$l" /dev/urandom | od -An -tx1 | tr -d ' \n')
			k=$(nvme gen-dhchap-key --secret="$s" --hmac="$h" --key-length="$l" --nqn="$nqn")
			echo "$h $l $s $nqn $k"
		done
	done
} > gen.txt
# check.txt: KEY<TAB>RC<TAB>nvme check-dhchap-key's output (one line)
{
	printf '# key\trc\tnvme-check-dhchap-key-output\n'
	while read -r h l s nqn k; do
		[[ $h == \#* ]] && continue
		out=$(nvme check-dhchap-key --key="$k" 2>&1) && rc=0 || rc=$?
		printf '%s\t%s\t%s\n' "$k" "$rc" "$out"
	done < gen.txt
	for k in \
		'DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaS:' \
		'DHHC-1:04:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:' \
		'DHHC-2:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:' \
		'DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+Kfi:' \
		'DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+Kf!aR:' \
		'DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=:' \
		'DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR' \
		'foo'; do
		out=$(nvme check-dhchap-key --key="$k" 2>&1) && rc=0 || rc=$?
		printf '%s\t%s\t%s\n' "$k" "$rc" "$out"
	done
} > check.txt
