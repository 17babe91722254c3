#!/bin/sh
# The manual pages are clean for mandoc -T lint at warning level (missing
# cross-referenced pages are reported at style level only and depend on
# what the machine has installed).
. "$(dirname "$0")/lib.sh"
command -v mandoc >/dev/null 2>&1 || skip "mandoc is not installed"
for page in "$top_srcdir/man/nvmeof.8" "$top_srcdir/man/libnvmeof.3"; do
	mandoc -T lint -W warning "$page" >"$T/err" 2>&1 || fail "mandoc -T lint $page"
	[ ! -s "$T/err" ] || fail "mandoc -T lint $page: $(cat "$T/err")"
	mandoc -T lint -W style "$page" 2>&1 |
		grep -v -e 'referenced manual not found' -e 'mandoc.db' >"$T/err" || true
	[ ! -s "$T/err" ] || fail "mandoc -T lint -W style $page: $(cat "$T/err")"
done
