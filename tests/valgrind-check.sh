#!/bin/sh
# SPDX-License-Identifier: MIT
# LOG_COMPILER of `make check-valgrind`: run one test under valgrind
# memcheck.  Every process gets its own log (--log-file=...%p: Criterion's
# forked workers too); the test FAILS if any log has errors, definite
# leaks counted among them (--errors-for-leak-kinds=definite), whatever
# the exit status says.  Libtool's wrapper scripts are seen through with
# `libtool --mode=execute`.  tests/interop/run-interop.sh, a script that
# boots QEMU, is run as it is with its two test programs replaced by
# valgrind wrappers (through NVMEOF_BUILDDIR), so that QEMU is not traced.
set -u
: "${VALGRIND:=valgrind}"
B=${NVMEOF_BUILDDIR:-$(pwd)}
dir=$(mktemp -d "${TMPDIR:-/tmp}/vgcheck.XXXXXX") || exit 99
# --trace-children: Criterion re-executes itself for each test's worker;
# system programs (shells, QEMU, socat) that tests start are not traced.
VG="$VALGRIND --tool=memcheck --error-exitcode=99 --leak-check=full"
VG="$VG --errors-for-leak-kinds=definite --show-leak-kinds=definite"
VG="$VG --trace-children=yes --trace-children-skip=/bin/*,/usr/*,/sbin/*,*/nvmet-vm,*.sh"
VG="$VG --track-fds=no --num-callers=30 --log-file=$dir/vg.%p"
S=${NVMEOF_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
VG="$VG --suppressions=$S/tests/valgrind.supp"
# More time for everything under valgrind (tests that read it).
NVMEOF_TEST_SLOWDOWN=${NVMEOF_TEST_SLOWDOWN:-10}
export NVMEOF_TEST_SLOWDOWN

case "$1" in
*run-interop.sh)
	# A mirror of the build tree whose test programs and CLI run under
	# valgrind (libtool sees through its wrapper scripts).
	shim="$dir/shim"
	mkdir -p "$shim"
	for e in "$B"/* "$B"/.libs; do
		[ -e "$e" ] && ln -s "$e" "$shim/"
	done
	for d in tests tests/interop cli; do
		rm -f "$shim/$d"
		mkdir -p "$shim/$d"
		for e in "$B/$d"/* "$B/$d"/.libs; do
			[ -e "$e" ] && [ ! -e "$shim/$d/$(basename "$e")" ] &&
				ln -s "$e" "$shim/$d/"
		done
	done
	for t in tests/interop/test_interop tests/interop/test_resilience cli/nvmeof; do
		rm -f "$shim/$t"
		cat >"$shim/$t" <<EOS
#!/bin/sh
exec "$B/libtool" --mode=execute $VG "$B/$t" "\$@"
EOS
		chmod +x "$shim/$t"
	done
	NVMEOF_BUILDDIR=$shim "$@"
	rc=$?
	;;
*.sh)
	"$@"
	rc=$?
	;;
*)
	# shellcheck disable=SC2086
	"$B/libtool" --mode=execute $VG "$@"
	rc=$?
	;;
esac
bad=0
for f in "$dir"/vg.*; do
	[ -f "$f" ] || continue
	if grep -q -e 'ERROR SUMMARY: [1-9]' "$f"; then
		bad=1
		echo "valgrind-check: errors in $(basename "$f"):"
		cat "$f"
	fi
done
rm -rf "$dir"
if [ $bad = 1 ]; then
	echo "valgrind-check: FAIL: $*: memcheck found errors (exit status was $rc)"
	exit 1
fi
exit $rc
