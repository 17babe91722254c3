#!/bin/sh
# man/nvmeof-mount.8 is clean for mandoc -T lint (warning level; style
# level apart from cross-references to pages this machine lacks), and
# documents every option that --help prints.
set -u
: "${top_srcdir:=${NVMEOF_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}}"
: "${top_builddir:=${NVMEOF_BUILDDIR:-$(pwd)}}"
: "${NVMEOF_MOUNT:=$top_builddir/fuse/nvmeof-mount}"
page="$top_srcdir/man/nvmeof-mount.8"
T=$(mktemp -d "${TMPDIR:-/tmp}/nvmeof-fuse-man.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
if ! command -v mandoc >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && fail "mandoc is not installed (CI=true: a missing prerequisite is a failure)"
	echo "SKIP: mandoc is not installed" >&2; exit 77
fi
[ -x "$NVMEOF_MOUNT" ] || fail "nvmeof-mount is not built at $NVMEOF_MOUNT"

mandoc -T lint -W warning "$page" >"$T/err" 2>&1 || fail "mandoc -T lint: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "mandoc -T lint: $(cat "$T/err")"
mandoc -T lint -W style "$page" 2>&1 |
	grep -v -e 'referenced manual not found' -e 'mandoc.db' >"$T/err" || true
[ ! -s "$T/err" ] || fail "mandoc -T lint -W style: $(cat "$T/err")"

mandoc -T ascii "$page" 2>/dev/null | sed 's/.\x08//g' >"$T/man.txt" || fail "mandoc"
"$NVMEOF_MOUNT" --help >"$T/help" || fail "--help exited $?"
head -n 1 "$T/help" | grep -q "^Usage: nvmeof-mount " || fail "no usage line"
"$NVMEOF_MOUNT" --version | grep -q "^nvmeof-mount [0-9]" || fail "--version"
# "  -n, --nqn=NQN ..." and "      --hostnqn=NQN ..."
sed -n 's/^  \(-[A-Za-z]\), \(--[a-z-]*\).*/\1 \2/p; s/^      \(--[a-z-]*\).*/\1/p' \
	"$T/help" >"$T/opts"
[ "$(wc -w <"$T/opts")" -ge 20 ] || fail "--help lists too few options: $(cat "$T/opts")"
for opt in $(cat "$T/opts"); do
	grep -qE -- "(^|[^-a-z])$opt([^-a-z]|\$)" "$T/man.txt" ||
		fail "--help prints $opt, which nvmeof-mount(8) does not document"
done
# every -o key of the page's -o item is in --help's -o list, and back
sed -n '/^\.It Fl o Ar option/,/^a dash may stand/s/^\.Cm \([a-z_]*=\{0,1\}\).*/\1/p' "$page" |
	sort -u >"$T/man-keys"
sed -n '/^  -o OPT/,/others go/p' "$T/help" | grep -o '[a-z_]*=\{0,1\}[,;]' |
	tr -d ',;' | grep . | sort -u >"$T/help-keys"
[ "$(wc -l <"$T/man-keys")" -ge 20 ] || fail "too few -o keys in the page: $(cat "$T/man-keys")"
cmp -s "$T/man-keys" "$T/help-keys" ||
	fail "-o keys differ (< page, > --help): $(diff "$T/man-keys" "$T/help-keys" | grep '^[<>]' | tr '\n' ' ')"
# an -o key nobody knows is a usage error, 64 as EXIT STATUS says
RC=0
"$NVMEOF_MOUNT" -o bogus=1 127.0.0.1:1 "$T" 2>"$T/err" || RC=$?
[ $RC -eq 64 ] || fail "-o bogus=1 exited $RC: $(cat "$T/err")"
grep -q "^     64 " "$T/man.txt" || fail "EXIT STATUS does not list 64"
# the -o names of the options, and the tree
for word in nqn= hostnqn= hostid= nr_io_queues= queue_size= keep_alive_tmo= \
	io_timeout= hdr_digest data_digest host_iface= host_traddr= threads= \
	identify.bin status log/ smart firmware changed-ns cmd-effects ana \
	fstab mount.fuse.nvmeof EXIT; do
	grep -qF -- "$word" "$T/man.txt" || fail "the manual does not mention $word"
done
exit 0
