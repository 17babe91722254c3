#!/bin/sh
# libnvmeof(3) has every public function of lib/nvmeof.h in its synopsis.
. "$(dirname "$0")/lib.sh"
h="$top_srcdir/lib/nvmeof.h"
m="$top_srcdir/man/libnvmeof.3"
fns=$(sed -n 's/^[a-z].*[ *]\(nvmeof_[a-z0-9_]*\)(.*/\1/p' "$h" | sort -u)
[ -n "$fns" ] || fail "no functions found in $h"
for f in $fns; do
	grep -qE "^\.(Fn|Fo) $f( |\$)" "$m" || fail "$f is not in the synopsis of libnvmeof(3)"
done
echo "$(echo "$fns" | wc -l) functions documented"
