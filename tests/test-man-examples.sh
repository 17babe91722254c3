#!/bin/bash
# The EXAMPLES of the man pages run as written against nvmeof-target:
#   nvmeof(8), nvmeof-mount(8): every command line of an example ("$ " or
#     "# " prompt, with its "\e" continuation lines) runs with bash -e;
#   libnvmeof(3): the example program compiles against the library and
#     prints the controller's model number;
#   nvmeof-target(8): each command starts a target that serves, the
#     configuration file loads, and the control-socket lines answer.
# One target (two subsystems, :disk and :disk1, as the pages name them)
# stands in for the pages' machines.  Substituted, the same every run
# (sed, below), and printed in the log:
#   192.0.2.7, 192.0.2.10[:4420|:8009] -> 127.0.0.1:PORT (the target's
#       kernel-chosen port; it serves discovery there too)
#   -a 192.0.2.7 [-s 4420] -> -a 127.0.0.1 -s PORT
#   /mnt/nvme, /etc/nvme, /run/nvmeof (nvmeof connect's mount base; also
#   NVMEOF_RUN_DIR), /etc/nvmeof-target.conf, /srv/lab.img,
#   /run/nvmeof.sock, /tmp/port, /var/tmp/disk.img -> scratch paths; the
#   commands run in the scratch directory (files they write land there)
#   perf -t 30 / -t 60 -> -t 1 (make check is no place for a minute of I/O)
#   nvmeof-target's own listen addresses -> 127.0.0.1:0 (or [::1]:0)
#   with --port-file, --daemon and --pidfile; /dev/loop0 -> a scratch file
# Left out, with a note: qemu-system lines (tests/fuse/test-qemu.sh boots a
# guest) and "mount -t fuse.nvmeof" (mount(8) runs /sbin/mount.fuse.nvmeof,
# which only a real install provides: tests/fuse/test-helper.sh).
set -u
: "${NVMEOF_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
B=${NVMEOF_BUILDDIR:?run by make check (NVMEOF_BUILDDIR)}
M=$NVMEOF_SRCDIR/man
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
	[ "${CI:-}" = true ] && fail "$* (CI=true: a missing prerequisite is a failure, not a skip)"
	echo "SKIP: $*" >&2
	exit 77
}
[ "$(id -u)" = 0 ] || skip "the examples run as root (mounts, /etc/nvme)"
[ -c /dev/fuse ] || skip "no /dev/fuse"
for p in fusermount3 jq socat python3; do
	command -v $p >/dev/null 2>&1 || skip "$p is not installed"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/test-man-examples.XXXXXX") || exit 1
TPIDS=
cleanup() {
	rc=$?
	trap - EXIT
	unmount_ours
	for f in "$T"/*.pid; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	rm -rf "$T"
	exit $rc
}
# unmount_ours: whatever the examples left mounted under $T.
unmount_ours() {
	awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do
			fusermount3 -u "$m" 2>/dev/null || umount -l "$m"
		done
}
trap cleanup EXIT
export PATH="$B/cli:$B/fuse:$B/src:$PATH"
# nvmeof connect's mount base, its configuration files, its daemon
export NVMEOF_RUN_DIR="$T/run" NVMEOF_CONFIG_JSON=none
export NVMEOF_MOUNT="$B/fuse/nvmeof-mount"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/asan"
# the suppressions of tests/lsan.supp (libraries' own allocations), which
# tests/sanitizer-check.sh takes out of LSAN_OPTIONS to judge leaks itself
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$NVMEOF_SRCDIR/tests/lsan.supp:print_suppressions=0"
mkdir -p "$T/mnt/nvme"

# examples PAGE: the command lines of PAGE's EXAMPLES ("$ "/"# " prompts,
# continuation lines joined back with their backslash), one per line.
examples() {
	python3 - "$1" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
out, inex, lit, cont = [], False, False, False
for l in lines:
    if l.startswith(".Sh "):
        inex = l.strip() == ".Sh EXAMPLES"
        continue
    if not inex:
        continue
    if l.startswith(".Bd -literal"):
        lit = True; continue
    if l.startswith(".Ed"):
        lit = False; continue
    if not lit:
        continue
    t = l.replace("\\e", "\\")
    if cont:
        out[-1] += "\n" + t
    elif t.startswith("$ ") or t.startswith("# "):
        out.append(t[2:])
    else:
        continue
    cont = t.rstrip().endswith("\\")
print("\0".join(out), end="")
PY
}

"$B/src/nvmeof-target" --daemon --pidfile "$T/target.pid" -l 127.0.0.1:0 \
	--port-file "$T/port" \
	-n nqn.2026-11.org.example:disk --model "man page example" --ns ram:64M \
	-n nqn.2026-11.org.example:disk1 --model "man page example" --ns ram:64M \
	2>"$T/target.err" ||
	fail "nvmeof-target: $(cat "$T/target.err")"
PORT=$(head -n 1 "$T/port")
A=127.0.0.1:$PORT

subst() {
	sed -e "s|192\.0\.2\.10:4420|$A|g; s|192\.0\.2\.10:8009|$A|g; s|192\.0\.2\.10|$A|g" \
		-e "s|-a 192\.0\.2\.7 -s 4420|-a 127.0.0.1 -s $PORT|g" \
		-e "s|-a 192\.0\.2\.7|-a 127.0.0.1 -s $PORT|g" \
		-e "s|192\.0\.2\.7|$A|g" \
		-e "s|/run/nvmeof|$T/run|g" \
		-e "s|/mnt/nvme|$T/mnt/nvme|g; s|/etc/nvme|$T/etc/nvme|g" \
		-e "s|-t 30 |-t 1 |; s|-t 30\$|-t 1|; s|-t 60\$|-t 1|; s|-t 60 |-t 1 |"
}

n=0
for page in nvmeof.8 nvmeof-mount.8; do
	while IFS= read -r -d '' cmd; do
		case $cmd in
		qemu-system-*)
			echo "[$page] not run here: ${cmd%% *} ... (tests/fuse/test-qemu.sh boots a guest)"
			continue ;;
		"mount -t fuse.nvmeof"*)
			echo "[$page] not run here: mount -t fuse.nvmeof ... (needs /sbin/mount.fuse.nvmeof of a real install; tests/fuse/test-helper.sh)"
			continue ;;
		esac
		run=$(printf '%s\n' "$cmd" | subst)
		echo "[$page] \$ $run"
		(cd "$T" && bash -e -c "$run") >"$T/out" 2>"$T/err" ||
			{ cat "$T/out" "$T/err" >&2; fail "$page: example failed: $cmd"; }
		head -n 5 "$T/out" | sed 's/^/    /'
		n=$((n + 1))
	done < <(examples "$M/$page"; printf '\0')
done
unmount_ours
[ -s "$T/etc/nvme/hostnqn" ] || fail "gen-hostnqn wrote no host NQN"

# libnvmeof(3): the program, pointed at our target.
awk '/^\.Sh EXAMPLES/ { s = 1 } s && /^\.Bd -literal/ { b = 1; next } b && /^\.Ed/ { exit } b' \
	"$M/libnvmeof.3" | sed -e 's/\\e/\\/g' \
	-e "s|o.traddr = \"192.0.2.7\";|o.traddr = \"127.0.0.1\"; o.trsvcid = \"$PORT\";|" >"$T/example.c"
grep -q "o.trsvcid = \"$PORT\"" "$T/example.c" || fail "libnvmeof(3): no o.traddr line to point at the target"
san=$(sed -n 's/^SAN_LDFLAGS = //p' "$B/Makefile")
# shellcheck disable=SC2086
${CC:-cc} -I"$NVMEOF_SRCDIR/lib" "$T/example.c" -L"$B/lib/.libs" -lnvmeof $san \
	-o "$T/example" 2>"$T/err" || { cat "$T/err" >&2; fail "libnvmeof(3): the example does not compile"; }
LD_LIBRARY_PATH="$B/lib/.libs" "$T/example" >"$T/out" 2>"$T/err" ||
	{ cat "$T/err" >&2; fail "libnvmeof(3): the example failed"; }
grep -q "man page example" "$T/out" || fail "libnvmeof(3): no model number in: $(head -c 500 "$T/out")"
echo "[libnvmeof.3] the example program printed: $(grep -m1 'man page example' "$T/out")"
n=$((n + 1))

# nvmeof-target(8): each nvmeof-target line, as a daemon on a free port.
truncate -s 64M "$T/disk.img" "$T/lab.img" "$T/loop0" || fail "truncate"
awk '/^\.Sh EXAMPLES/ { s = 1 } /^\.Sh / && !/EXAMPLES/ { s = 0 } s' "$M/nvmeof-target.8" |
	sed 's/\\e/\\/g' >"$T/target-ex"
# the configuration file, as the page writes it
awk '/^# \/etc\/nvmeof-target.conf/ { c = 1; next } c && /^\.Ed/ { exit } c' "$T/target-ex" |
	sed "s|/srv/lab.img|$T/lab.img|" >"$T/nvmeof-target.conf"
grep -q '^subsystem ' "$T/nvmeof-target.conf" || fail "nvmeof-target(8): no configuration file example"
# cmdlines WORD FILE: the commands of FILE that start with WORD, with the
# lines that continue them (after a trailing backslash or pipe).
cmdlines() {
	python3 - "$1" "$2" <<'PY'
import sys
out, cont = [], False
for l in open(sys.argv[2]).read().split("\n"):
    if cont:
        out[-1] += "\n" + l
    elif l.startswith(sys.argv[1] + " "):
        out.append(l)
    else:
        continue
    cont = l.rstrip().endswith(("\\", "|"))
print("\0".join(out), end="")
PY
}
k=0
while IFS= read -r -d '' cmd; do
	k=$((k + 1))
	run=$(printf '%s\n' "$cmd" | sed -e "s|/etc/nvmeof-target.conf|$T/nvmeof-target.conf|g" \
		-e "s|/run/nvmeof.sock|$T/ctl.sock|g; s|/tmp/port|$T/port$k|g" \
		-e "s|/var/tmp/disk.img|$T/disk.img|g; s|/dev/loop0|$T/loop0|g" \
		-e "s|-l 127\.0\.0\.1:0 |-l 127.0.0.1:0 |; s|-l \[::1\]:4420|-l [::1]:0|" \
		-e "s| &\$||" -e "s|--discovery-port |--discovery-port=0 |")
	case $run in *"-l "*) ;; *) run="${run/nvmeof-target /nvmeof-target -l 127.0.0.1:0 }" ;; esac
	case $run in *--port-file*) ;; *) run="${run/nvmeof-target /nvmeof-target --port-file $T/port$k }" ;; esac
	run="${run/nvmeof-target /nvmeof-target --daemon --pidfile $T/ex$k.pid }"
	echo "[nvmeof-target.8] \$ $run"
	bash -e -c "$run" >"$T/out" 2>"$T/err" || {
		if grep -q '\[::1\]' <<<"$run" && ! ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
			echo "    (no IPv6 on lo here: that example is not run)"; continue
		fi
		cat "$T/err" >&2; fail "nvmeof-target(8): example failed: $cmd"; }
	p=$(head -n 1 "$T/port$k")
	case $run in *"[::1]"*) h="[::1]:$p" ;; *) h="127.0.0.1:$p" ;; esac
	nvmeof discover "$h" >"$T/out" 2>"$T/err" ||
		{ cat "$T/err" >&2; fail "nvmeof-target(8): nothing serves at $h for: $cmd"; }
	echo "    serves: $(awk 'NR > 1 { print $6 }' "$T/out" | paste -sd' ')"
	if [ -S "$T/ctl.sock" ]; then
		while IFS= read -r -d '' c2; do
			c2=$(printf '%s\n' "$c2" | sed "s|/run/nvmeof.sock|$T/ctl.sock|g")
			echo "[nvmeof-target.8] \$ $c2"
			out=$(bash -e -c "$c2" 2>&1) || fail "nvmeof-target(8): $c2: $out"
			grep -q '^ok' <<<"$out" || fail "nvmeof-target(8): $c2 answered: $out"
		done < <(cmdlines echo "$T/target-ex"; printf '\0')
		rm -f "$T/ctl.sock"
	fi
	kill "$(cat "$T/ex$k.pid")"
	n=$((n + 1))
done < <(cmdlines nvmeof-target "$T/target-ex"; printf '\0')
[ $k -ge 4 ] || fail "nvmeof-target(8): $k nvmeof-target examples found, expected 4 or more"

for f in "$T"/asan.*; do
	[ -e "$f" ] && { cat "$f" >&2; fail "a sanitizer report"; }
done
echo "PASS: $n man page examples ran"
