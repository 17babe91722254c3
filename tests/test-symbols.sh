#!/bin/sh
# libnvmeof.so exports exactly the functions lib/nvmeof.h declares: nothing
# internal (the library's error helpers once leaked out because they began
# with nvmeof_) and nothing declared but missing.  Both lists are derived:
# from the header through the C preprocessor (comments gone), and from the
# built library with nm -D.
set -u
B=${NVMEOF_BUILDDIR:?run by make check}
S=${NVMEOF_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
SO=$B/lib/.libs/libnvmeof.so
fail() { echo "FAIL: $*" >&2; exit 1; }
missing() {
	[ "${CI:-}" = true ] && fail "$1 (needed under CI)"
	echo "SKIP: $1" >&2
	exit 77
}
command -v nm >/dev/null 2>&1 || missing "no nm (binutils)"
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || missing "no C compiler ($CC) to read the header"
[ -e "$SO" ] || fail "no shared library at $SO (configure --disable-shared?)"
t=$(mktemp -d "${TMPDIR:-/tmp}/test-symbols.XXXXXX")
trap 'rm -rf "$t"' EXIT

# Declared: an identifier nvmeof_* directly followed by '(' is a function
# (a typedef's name is followed by ')': "(*nvmeof_cb)(").
"$CC" -E -P -I"$S/lib" -x c "$S/lib/nvmeof.h" >"$t/h" 2>"$t/err" ||
	fail "the preprocessor rejects nvmeof.h: $(cat "$t/err")"
tr '\n' ' ' <"$t/h" | grep -o 'nvmeof_[A-Za-z0-9_]* *(' | tr -d ' (' |
	sort -u >"$t/declared"
[ -s "$t/declared" ] || fail "found no function in nvmeof.h"

# Exported: every defined dynamic symbol, of any kind.
nm -D --defined-only "$SO" >"$t/nm" || fail "nm -D $SO failed"
awk 'NF >= 3 { print $3 }' "$t/nm" | sed 's/@.*//' | sort -u >"$t/exported"
[ -s "$t/exported" ] || fail "$SO exports nothing"

comm -13 "$t/declared" "$t/exported" >"$t/extra"
comm -23 "$t/declared" "$t/exported" >"$t/absent"
if [ -s "$t/extra" ]; then
	echo "exported but not declared in nvmeof.h (internal symbols leak):" >&2
	sed 's/^/  /' "$t/extra" >&2
fi
if [ -s "$t/absent" ]; then
	echo "declared in nvmeof.h but not exported by libnvmeof.so:" >&2
	sed 's/^/  /' "$t/absent" >&2
fi
[ -s "$t/extra" ] || [ -s "$t/absent" ] && exit 1
echo "libnvmeof.so exports the $(wc -l <"$t/declared") functions of nvmeof.h and nothing else"
exit 0
