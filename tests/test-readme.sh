#!/bin/bash
# README.md's "Using it" block runs as written on a fresh build: the first
# ```sh block after "## Using it", run as one script with `set -e`, as
# root.  What a test cannot do to the machine is substituted, the same way
# every time (sed, below), and said in the log:
#   make install               -> make -C BUILDDIR install DESTDIR=SCRATCH
#                                 (under flock: one install at a time in
#                                 the build tree, test-install.sh installs too)
#                                 (a staged install: PATH and LD_LIBRARY_PATH
#                                 point into it, since its RUNPATH is the
#                                 real prefix)
#   /var/tmp/disk.img, /var/tmp/nvmeof-target.pid, /mnt/nvme
#                              -> files and a mount point under SCRATCH
#   -l 127.0.0.1:4420          -> -l 127.0.0.1:0 --port-file SCRATCH/port
#                                 (tests never take a fixed port), and
#   127.0.0.1:4420 elsewhere   -> 127.0.0.1:$PORT, the port the target took
#   qemu-system-* lines        -> left out, with a note (booting a guest is
#                                 tests/fuse/test-qemu.sh's job)
# Every other line runs unchanged; any failure fails the test.  README
# links to files of the repository must exist.
set -u
: "${NVMEOF_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
B=${NVMEOF_BUILDDIR:?run by make check (NVMEOF_BUILDDIR)}
readme=$NVMEOF_SRCDIR/README.md
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
	if [ "${CI:-}" = true ]; then
		fail "$* (CI=true: a missing prerequisite is a failure, not a skip)"
	fi
	echo "SKIP: $*" >&2
	exit 77
}
[ "$(id -u)" = 0 ] || skip "the README's block runs as root (mkdir /mnt/nvme, make install)"
[ -c /dev/fuse ] || skip "no /dev/fuse"
command -v fusermount3 >/dev/null 2>&1 || skip "no fusermount3 (apt-get install fuse3)"

T=$(mktemp -d "${TMPDIR:-/tmp}/test-readme.XXXXXX") || exit 1
cleanup() {
	rc=$?
	trap - EXIT
	if grep -q " $T/mnt/nvme " /proc/mounts; then
		fusermount3 -u "$T/mnt/nvme" 2>/dev/null || umount -l "$T/mnt/nvme"
		rc=1
	fi
	if [ -s "$T/target.pid" ] && kill -0 "$(cat "$T/target.pid")" 2>/dev/null; then
		kill "$(cat "$T/target.pid")"
		rc=1
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

# Links to files of the repository.
for l in $(grep -o '](\([^)#:]*\))' "$readme" | sed 's/^](\(.*\))$/\1/'); do
	[ -e "$NVMEOF_SRCDIR/$l" ] || fail "README.md links to $l, which is not in the repository"
done

awk '/^## Using it/ { s = 1 } s && /^```sh$/ { b = 1; next } b && /^```$/ { exit } b' \
	"$readme" >"$T/block"
[ -s "$T/block" ] || fail "no \`\`\`sh block under \"## Using it\" in README.md"
grep -q '^make install' "$T/block" || fail "the block does not say to run make install"

sed -e "s|^make install|flock '$B/.make-install.lock' make -s -C '$B' install DESTDIR='$T/root'|" \
	-e "s|/var/tmp/disk.img|$T/disk.img|g" \
	-e "s|/var/tmp/nvmeof-target.pid|$T/target.pid|g" \
	-e "s|/mnt/nvme|$T/mnt/nvme|g" \
	-e "s|-l 127.0.0.1:4420|-l 127.0.0.1:0 --port-file '$T/port'|" \
	-e "s|127.0.0.1:4420|127.0.0.1:\$(head -n 1 '$T/port')|g" \
	-e 's|^\(qemu-system-[^ ]*\) .*|echo "test-readme: not run here: \1 ... (tests/fuse/test-qemu.sh boots a guest)"|' \
	"$T/block" >"$T/script"
echo "--- README.md \"Using it\", as run (substitutions: see the head of this script):"
cat "$T/script"
echo "---"

prefix=$(sed -n 's/^prefix=//p' "$B/lib/libnvmeof.pc")
libdir=$(sed -n 's/^libdir=//p' "$B/lib/libnvmeof.pc" | sed "s|\${prefix}|$prefix|; s|\${exec_prefix}|$prefix|")
export PATH="$T/root$prefix/bin:$PATH"
export LD_LIBRARY_PATH="$T/root$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# the daemons' sanitizer reports (their stderr may be gone) land in $T
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/asan"
# the suppressions of tests/lsan.supp (libraries' own allocations), which
# tests/sanitizer-check.sh takes out of LSAN_OPTIONS to judge leaks itself
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$NVMEOF_SRCDIR/tests/lsan.supp:print_suppressions=0"

bash -e "$T/script" >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out"
[ $rc = 0 ] || { cat "$T/err" >&2; fail "the README block failed (exit $rc)"; }
# What it did: the target answered, the mount showed identify data and the
# SMART log, and it ended clean.
grep -q 'nqn.2026-11.org.example:disk' "$T/out" || fail "discover/identify printed no subsystem"
command -v nvmeof-target | grep -q "^$T/root" || fail "nvmeof-target did not come from the install"
grep -q " $T/mnt/nvme " /proc/mounts && fail "still mounted after the block"
if [ -s "$T/target.pid" ]; then
	i=0
	while kill -0 "$(cat "$T/target.pid")" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "the target is still running 10 s after the block's kill"
		sleep 0.05
	done
fi
for f in "$T"/asan.*; do
	[ -e "$f" ] && { cat "$f" >&2; fail "a sanitizer report"; }
done
echo "PASS: README.md \"Using it\" ran as written (with the substitutions above)"
