#!/bin/sh
# systemd/nvmeof-mount@.service parses: systemd-analyze verify on an
# instance of it (mnt-nvme: /mnt/nvme), with its ExecStart pointing at
# this build's nvmeof-mount and its configuration file in place; and
# make install puts it where systemd looks for this prefix's units.
set -u
: "${NVMEOF_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
B=${NVMEOF_BUILDDIR:?run by make check (NVMEOF_BUILDDIR)}
fail() { echo "FAIL: $*" >&2; exit 1; }
if ! command -v systemd-analyze >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && fail "systemd-analyze is not installed (scripts/install-deps installs systemd; CI=true)"
	echo "SKIP: systemd-analyze is not installed (apt-get install systemd)" >&2
	exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/test-systemd-unit.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
unit=$B/systemd/nvmeof-mount@.service
[ -f "$unit" ] || make -s -C "$B" systemd/nvmeof-mount@.service || fail "cannot make the unit"
grep -q '@bindir@' "$unit" && fail "@bindir@ not substituted in $unit"
# The unit names /etc/nvmeof/mount-%i.conf and the installed daemon: point
# them at scratch files and this build, so that verify checks them.
sed -e "s|/etc/nvmeof/|$T/etc/|g" -e "s|^ExecStart=[^ ]*/nvmeof-mount |ExecStart=$B/fuse/nvmeof-mount |" \
	"$unit" >"$T/nvmeof-mount@.service"
mkdir -p "$T/etc"
echo 'NVMEOF_ARGS="127.0.0.1:4420 -n nqn.2026-11.org.example:disk"' >"$T/etc/mount-mnt-nvme.conf"
cp "$T/nvmeof-mount@.service" "$T/nvmeof-mount@mnt-nvme.service"
(cd "$T" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
	"$T/nvmeof-mount@mnt-nvme.service") >"$T/out" 2>&1
rc=$?
# verify also judges the host's own units that ours pulls in; only lines
# about ours count.
grep -i 'nvmeof-mount' "$T/out" >"$T/ours"
cat "$T/out"
[ $rc = 0 ] || [ ! -s "$T/ours" ] || fail "systemd-analyze verify: $(cat "$T/ours")"
[ -s "$T/ours" ] && fail "systemd-analyze verify complains: $(cat "$T/ours")"
# The instance expands to the mount point.
[ "$(systemd-escape -p --unescape mnt-nvme)" = /mnt/nvme ] || fail "systemd-escape"
# make install (its install-systemdunitDATA part) puts it in
# PREFIX/lib/systemd/system.
make -s -C "$B" install-systemdunitDATA DESTDIR="$T/root" >"$T/log" 2>&1 ||
	{ cat "$T/log"; fail "make install-systemdunitDATA"; }
prefix=$(sed -n 's/^prefix=//p' "$B/lib/libnvmeof.pc")
[ -f "$T/root$prefix/lib/systemd/system/nvmeof-mount@.service" ] ||
	fail "make install did not install $prefix/lib/systemd/system/nvmeof-mount@.service"
echo "PASS: nvmeof-mount@.service verifies and installs to $prefix/lib/systemd/system"
