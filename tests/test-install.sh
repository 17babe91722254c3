#!/bin/sh
# `make install` puts libnvmeof.so, nvmeof.h and libnvmeof.pc in place (with
# the programs, man pages and completion), and a program built with
# `pkg-config --cflags --libs libnvmeof` against them runs.
set -u
B=${NVMEOF_BUILDDIR:?run by make check}
t=$(mktemp -d "${TMPDIR:-/tmp}/test-install.XXXXXX")
trap 'rm -rf "$t"' EXIT
# One make install at a time in a build tree (libtool relinks in .libs/;
# tests/test-readme.sh installs too, maybe at the same moment).
flock "$B/.make-install.lock" make -s -C "$B" install DESTDIR="$t/root" >"$t/log" 2>&1 ||
	{ cat "$t/log"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$B/lib/libnvmeof.pc")
libdir=$(find "$t/root" -name libnvmeof.pc -printf '%h\n' | head -n 1)
for f in include/nvmeof.h bin/nvmeof bin/nvmeof-mount bin/nvmeof-target \
	share/man/man3/libnvmeof.3 share/man/man8/nvmeof.8; do
	[ -e "$t/root$prefix/$f" ] || { echo "FAIL: $prefix/$f not installed"; exit 1; }
done
# mount -t fuse.nvmeof: mount(8) runs /sbin/mount.fuse.nvmeof, a link to
# the daemon; `man mount.fuse.nvmeof` shows nvmeof-mount(8).
[ "$(readlink "$t/root/sbin/mount.fuse.nvmeof")" = "$prefix/bin/nvmeof-mount" ] ||
	{ echo "FAIL: /sbin/mount.fuse.nvmeof is not a link to $prefix/bin/nvmeof-mount"; exit 1; }
so=$t/root$prefix/share/man/man8/mount.fuse.nvmeof.8
[ "$(cat "$so" 2>/dev/null)" = ".so man8/nvmeof-mount.8" ] ||
	{ echo "FAIL: man8/mount.fuse.nvmeof.8 is not a .so link to nvmeof-mount(8)"; exit 1; }
if command -v mandoc >/dev/null 2>&1; then
	(cd "$t/root$prefix/share/man" && mandoc -T ascii man8/mount.fuse.nvmeof.8) |
		grep -q 'nvmeof-mount' ||
		{ echo "FAIL: man8/mount.fuse.nvmeof.8 does not render nvmeof-mount(8)"; exit 1; }
fi
[ -n "$libdir" ] && [ -e "${libdir%/pkgconfig}/libnvmeof.so" ] ||
	{ echo "FAIL: libnvmeof.so or libnvmeof.pc not installed"; exit 1; }
cat >"$t/use.c" <<'C'
#include <nvmeof.h>
#include <stdio.h>
int main(void)
{
	char n[256];

	if (nvmeof_gen_hostnqn(n, sizeof n) < 0)
		return 1;
	puts(n);
	return nvmeof_nqn_validate(n) < 0;
}
C
export PKG_CONFIG_PATH="$libdir" PKG_CONFIG_SYSROOT_DIR="$t/root"
# shellcheck disable=SC2046
${CC:-cc} "$t/use.c" $(pkg-config --cflags --libs libnvmeof) ${NVMEOF_SAN_LDFLAGS:-} -o "$t/use" ||
	{ echo "FAIL: cannot build against the installed library"; exit 1; }
LD_LIBRARY_PATH="${libdir%/pkgconfig}" "$t/use" | grep -q '^nqn\.2014-08\.org\.nvmexpress:uuid:' ||
	{ echo "FAIL: the program built with pkg-config did not run"; exit 1; }
echo "PASS: installed under $prefix; a program built with pkg-config libnvmeof runs"
