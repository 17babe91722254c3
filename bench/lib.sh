# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# bench/lib.sh: what the bench scripts share, sourced by bench/run,
# bench/fuse-fio.sh, bench/rss-soak.sh and bench/outages.sh (POSIX sh).
#
#   bench_install_deps          scripts/install-deps and scripts/bench-packages
#   bench_build                 the optimised tree build-bench/ (no sanitizers)
#   bench_programs INSTALL DIR  both as the soak scripts' --no-install and
#                               --builddir DIR ask (DIR "": build-bench/)
#   bench_usage                 the script's header comment, as --help
#   bench_gcm_rate CPU          AES-128-GCM bytes/s on one CPU (openssl speed)
#   bench_tls_runs N            the TLS scripts' paired runs
#   bench_tls_ceiling(s)        what TLS could keep if it added only the cipher
#   bench_tls_options BP ARGS...
#                               the options of bench/tls.sh and tls-mount.sh
#   bench_tls_target CPU ARGS...
#                               nvmeof-target with a plaintext and a TLS listener
#   bench_init                  a temporary directory $BT and the cleanup trap
#   bench_target CPU ARGS...    nvmeof-target on 127.0.0.1, port chosen by
#                               the kernel: sets TPID, TADDR, TCTL
#   bench_mount CPU DIR ARGS... nvmeof-mount -f in the background: sets MPID
#   bench_spawn_mount CPU DIR LOG CMD...
#                               any FUSE daemon that stays in the foreground
#   bench_target_cmd LINE       a command on the target's control socket
#   bench_track PID, bench_untrack PID, bench_reap PID [TENTHS]
#   bench_cpu_ticks PID, bench_rss PID, bench_status_field DIR FIELD
#   bench_uring_prepare         build bench/nullfs-uring, check the kernel:
#                               sets NULLFS_URING, or URING_WHY (the reason not)
#   bench_uring_enable          after bench_init: enable_uring=Y until exit
#
# Every process is started by us, remembered by pid and ended by pid;
# every mount is unmounted by the EXIT trap, also on failure or ^C.
# Network: 127.0.0.1 only.

BENCH_SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BENCH_NQN=nqn.2026-11.org.example:bench
BENCH_PIDS=
BENCH_MPIDS=
BENCH_MOUNTS=
BT=

bench_log() { echo "bench: $*" >&2; }
bench_die() { bench_log "$*"; exit 1; }

# Debian packages: the build's (scripts/install-deps) and the benches'
# (scripts/bench-packages, one a line).  Does nothing when all are there.
bench_install_deps() {
	"$BENCH_SRCDIR/scripts/install-deps" || return 1
	_missing=
	for _p in $(sed 's/#.*//' "$BENCH_SRCDIR/scripts/bench-packages" | tr '\n' ' '); do
		dpkg-query -W -f='${Status}\n' "$_p" 2>/dev/null |
			grep -q 'install ok installed' || _missing="$_missing $_p"
	done
	[ -z "$_missing" ] && return 0
	bench_log "installing:$_missing"
	_sudo=
	[ "$(id -u)" = 0 ] || _sudo=sudo
	$_sudo apt-get update -q >/dev/null || return 1
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $_sudo apt-get install -y -q \
		--no-install-recommends $_missing >/dev/null
}

# Build in $BENCH_BUILDDIR (default build-bench/ of the source tree):
# -O2, no sanitizers, whatever the developer's own build directories are.
# Sets top_builddir, NVMEOF_TARGET, NVMEOF_MOUNT, NVMEOF.
bench_build() {
	: "${BENCH_BUILDDIR:=$BENCH_SRCDIR/build-bench}"
	if [ ! -x "$BENCH_SRCDIR/configure" ]; then
		(cd "$BENCH_SRCDIR" && autoreconf -fi) || return 1
	fi
	mkdir -p "$BENCH_BUILDDIR" || return 1
	if [ ! -f "$BENCH_BUILDDIR/Makefile" ]; then
		bench_log "configuring $BENCH_BUILDDIR (CFLAGS='-O2 -g', no sanitizers)"
		(cd "$BENCH_BUILDDIR" &&
			"$BENCH_SRCDIR/configure" CFLAGS='-O2 -g' --disable-sanitizers \
				>configure.log 2>&1) ||
			{ tail -20 "$BENCH_BUILDDIR/configure.log" >&2; return 1; }
	fi
	if grep -q '^SAN_CFLAGS *= *[^ ]' "$BENCH_BUILDDIR/Makefile"; then
		bench_log "$BENCH_BUILDDIR is configured with sanitizers; use another BENCH_BUILDDIR"
		return 1
	fi
	make -C "$BENCH_BUILDDIR" -j"$(nproc)" >"$BENCH_BUILDDIR/make.log" 2>&1 ||
		{ tail -30 "$BENCH_BUILDDIR/make.log" >&2; return 1; }
	top_builddir=$BENCH_BUILDDIR
	bench_bins
}

# Where the programs are: the environment, else $top_builddir.
bench_bins() {
	: "${top_builddir:=$(pwd)}"
	: "${NVMEOF_MOUNT:=$top_builddir/fuse/nvmeof-mount}"
	: "${NVMEOF_TARGET:=$top_builddir/src/nvmeof-target}"
	: "${NVMEOF:=$top_builddir/cli/nvmeof}"
	for _p in "$NVMEOF_MOUNT" "$NVMEOF_TARGET"; do
		[ -x "$_p" ] || bench_die "$_p is not built"
	done
}

# A process is alive when it exists and is not a zombie.
bench_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	case $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) in
	Z | X | "") return 1 ;;
	esac
	return 0
}

# bench_reap PID [TENTHS]: wait up to TENTHS/10 s for PID to end, then
# TERM, then KILL it; reap it.  Only ever pids this shell started.
bench_reap() {
	_i=0
	while bench_alive "$1" && [ "$_i" -lt "${2:-0}" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if bench_alive "$1"; then
		kill "$1" 2>/dev/null
		_i=0
		while bench_alive "$1" && [ $_i -lt 50 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		bench_alive "$1" && kill -9 "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	return 0
}

bench_mounted() { grep -q " $1 fuse" /proc/mounts; }

bench_unmount() {
	if bench_mounted "$1"; then
		fusermount3 -u "$1" 2>/dev/null || fusermount3 -uz "$1" 2>/dev/null ||
			umount -l "$1" 2>/dev/null
	fi
}

bench_cleanup() {
	for _m in $BENCH_MOUNTS; do
		bench_unmount "$_m"
	done
	# The FUSE daemons end by themselves once unmounted: give them 10 s.
	for _q in $BENCH_MPIDS; do
		bench_reap "$_q" 100
		bench_untrack "$_q"
	done
	# The rest (targets, servers, a fio cut short) are told to stop.
	for _q in $BENCH_PIDS; do
		bench_reap "$_q" 0
	done
	BENCH_PIDS=
	BENCH_MPIDS=
	BENCH_MOUNTS=
	[ -n "$BT" ] && [ -z "${BENCH_KEEP:-}" ] && rm -rf "$BT"
	return 0
}

# bench_init: $BT, a fresh temporary directory, removed at exit with
# everything mounted and started (set BENCH_KEEP=1 to keep it).
# bench_programs INSTALL BUILDDIR: install the packages unless INSTALL is
# empty; then the programs of BUILDDIR, or of build-bench/ built now.
bench_programs() {
	if [ -n "$1" ]; then
		bench_install_deps || bench_die "could not install the packages"
	fi
	if [ -n "$2" ]; then
		top_builddir=$(cd "$2" && pwd) || exit 1
		bench_bins
	else
		bench_build || bench_die "build failed"
	fi
}

# bench_usage: the comment at the top of the script (from line 3 to the
# first "set -"), without its "# ".
bench_usage() {
	sed -n '3,/^set -/p' "$0" | sed -e '/^set -/d' -e 's/^# \{0,1\}//'
}

bench_init() {
	BT=$(mktemp -d "${TMPDIR:-/tmp}/nvmeof-bench.XXXXXX") || exit 1
	trap 'bench_cleanup' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
}

bench_track() { BENCH_PIDS="$1 $BENCH_PIDS"; }
# bench_untrack PID: forget a pid once reaped (it may be reused).
bench_untrack() {
	_l=
	for _p in $BENCH_PIDS; do
		[ "$_p" = "$1" ] || _l="$_l $_p"
	done
	BENCH_PIDS=$_l
}

# bench_pin CPU: the taskset prefix for a CPU, nothing for "".
bench_pin() { [ -n "$1" ] && printf 'taskset -c %s' "$1"; }

# bench_target CPU [TARGET OPTIONS...]: nvmeof-target on 127.0.0.1, the
# kernel picks the port; log in $BT/target.log, control socket $BT/target.ctl.
bench_target() {
	_cpu=$1
	shift
	rm -f "$BT/target.port"
	TCTL=$BT/target.ctl
	# shellcheck disable=SC2046
	$(bench_pin "$_cpu") "$NVMEOF_TARGET" -l "127.0.0.1:${BENCH_TARGET_PORT:-0}" \
		--port-file "$BT/target.port" --control "$TCTL" "$@" \
		>>"$BT/target.log" 2>&1 &
	TPID=$!
	bench_track "$TPID"
	_i=0
	while [ ! -s "$BT/target.port" ]; do
		bench_alive "$TPID" || { cat "$BT/target.log" >&2; return 1; }
		_i=$((_i + 1))
		[ $_i -lt 200 ] || { bench_log "nvmeof-target wrote no port file"; return 1; }
		sleep 0.05
	done
	TPORT=$(head -n 1 "$BT/target.port")
	TADDR=127.0.0.1:$TPORT
}

# bench_target_cmd LINE: the target's answer to one control command.
bench_target_cmd() {
	printf '%s\nquit\n' "$1" | socat -t 5 - "UNIX-CONNECT:$TCTL"
}

# bench_target_cpu_io: "<cpu seconds> <I/O commands>" of the target so far.
bench_target_cpu_io() {
	bench_target_cmd stats | awk '/stats total/ {
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			v[kv[1]] = kv[2]
		}
		printf "%.3f %d\n", v["cpu_user_s"] + v["cpu_sys_s"], v["io"]
	}'
}

# bench_spawn_mount CPU DIR LOG CMD...: run a FUSE daemon that stays in
# the foreground, in the background, and wait until DIR is mounted.
# Sets MPID.
bench_spawn_mount() {
	_cpu=$1 _dir=$2 _log=$3
	shift 3
	mkdir -p "$_dir"
	# shellcheck disable=SC2046
	$(bench_pin "$_cpu") "$@" >>"$_log" 2>&1 &
	MPID=$!
	bench_track "$MPID"
	BENCH_MPIDS="$MPID $BENCH_MPIDS"
	BENCH_MOUNTS="$_dir $BENCH_MOUNTS"
	_i=0
	while ! bench_mounted "$_dir"; do
		bench_alive "$MPID" || { cat "$_log" >&2; return 1; }
		_i=$((_i + 1))
		[ $_i -lt 300 ] || { bench_log "$_dir: not mounted after 15 s"; return 1; }
		sleep 0.05
	done
	# The mount is in /proc/mounts before the daemon serves; wait for it.
	_i=0
	while ! ls "$_dir" >/dev/null 2>&1 && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}

# bench_mount CPU DIR [nvmeof-mount OPTIONS...]: mount subsystem
# $BENCH_NQN of the target; nvmeof-mount -f, our child, pinned to CPU.
bench_mount() {
	_cpu=$1 _mdir=$2
	shift 2
	bench_spawn_mount "$_cpu" "$_mdir" "$BT/mount.log" \
		"$NVMEOF_MOUNT" -f -n "$BENCH_NQN" "$@" "$TADDR" "$_mdir"
}

# bench_cpu_ticks PID: utime + stime of all its threads, in clock ticks.
bench_cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}

# bench_rss PID: "VmRSS VmHWM" in KiB.
bench_rss() {
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r + 0, h + 0 }' \
		"/proc/$1/status" 2>/dev/null
}

# bench_status_field DIR FIELD: a field of nvmeof-mount's status file.
bench_status_field() {
	sed -n "s/^$2 *: *//p" "$1/status" 2>/dev/null
}

# bench_uring_prepare: bench/nullfs-uring needs liburing
# (scripts/bench-packages), which the project's own build does not: built
# here, warning-free, beside bench/nullfs in $top_builddir.  Then whether
# this kernel and user may serve FUSE over io_uring.  Sets NULLFS_URING;
# URING_WHY is empty when the io_uring rows can run, else the reason.
URING_PARAM=/sys/module/fuse/parameters/enable_uring
URING_OLD=
bench_uring_prepare() {
	URING_WHY=
	NULLFS_URING=$top_builddir/bench/nullfs-uring
	_log=$top_builddir/nullfs-uring.log
	# shellcheck disable=SC2046 # pkg-config's flags are words
	if ! pkg-config --exists liburing fuse3 2>/dev/null; then
		URING_WHY="liburing-dev is not installed (scripts/bench-packages)"
	elif ! ${CC:-cc} -std=gnu11 -O2 -g -Wall -Wextra -Wshadow -Wformat=2 -Wvla \
		-Wpointer-arith $(pkg-config --cflags fuse3 liburing) -o "$NULLFS_URING" \
		"$BENCH_SRCDIR/bench/nullfs-uring.c" $(pkg-config --libs fuse3 liburing) \
		-pthread >"$_log" 2>&1 || [ -s "$_log" ]; then
		cat "$_log" >&2
		URING_WHY="bench/nullfs-uring did not build warning-free (above)"
	elif [ ! -e "$URING_PARAM" ]; then
		URING_WHY="this kernel has no FUSE over io_uring ($URING_PARAM missing: CONFIG_FUSE_IO_URING, Linux 6.14+)"
	elif [ "$(id -u)" != 0 ]; then
		URING_WHY="needs root, to set $URING_PARAM (now $(cat "$URING_PARAM"))"
	fi
}

# bench_uring_enable: after bench_init, when URING_WHY is empty: set
# enable_uring to Y, and put the previous value back at exit, after the
# mounts are gone (the EXIT trap becomes bench_cleanup, then that).
bench_uring_enable() {
	[ -z "$URING_WHY" ] || return 0
	URING_OLD=$(cat "$URING_PARAM")
	trap 'bench_cleanup; [ -n "$URING_OLD" ] && echo "$URING_OLD" >"$URING_PARAM"' EXIT
	echo Y >"$URING_PARAM" 2>/dev/null || URING_WHY="could not set $URING_PARAM to Y"
}

# Paired runs (bench/tls.sh, bench/tls-mount.sh): FILE has one line per run,
# "K MODE RUN value...", MODE plain or tls.
# bench_pair_med FILE K MODE COLUMN [EMPTY]: the median of a column over
# the runs (EMPTY, default 0, when there is none).
bench_pair_med() {
	awk -v k="$2" -v m="$3" -v c="$4" '$1 == k && $2 == m && $c != "-" { print $c }' "$1" |
		sort -g | awk -v e="${5:-0}" '{ v[NR] = $1 } END { if (!NR) print e; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# bench_pair_ratio FILE K: the median over the runs of tls / plain (column
# 4) of the same run, or "-".
bench_pair_ratio() {
	awk -v k="$2" '$1 == k { v[$2, $3] = $4 } END {
		for (r = 1; (("plain", r) in v) || (("tls", r) in v); r++)
			if (v["plain", r] > 0 && (("tls", r) in v)) print v["tls", r] / v["plain", r] }' "$1" |
		sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_gcm_rate CPU: bytes per second of AES-128-GCM (TLS_AES_128_GCM_SHA256's
# cipher) on one CPU, 16 KiB at a time (a full TLS record), by OpenSSL's own
# `openssl speed`; empty when it cannot be measured.
bench_gcm_rate() {
	# shellcheck disable=SC2046
	$(bench_pin "$1") openssl speed -evp aes-128-gcm -bytes 16384 -seconds 1 2>/dev/null |
		awk '$1 == "AES-128-GCM" { v = $2 } END { if (v != "") { sub(/k$/, "", v); printf "%.0f\n", v * 1000 } }'
}

# bench_tls_ceiling IOPS BYTES RATE US...: the highest share of the
# plaintext IOPS that TLS could keep if it added nothing but the cipher:
# each side of an I/O runs it once over the I/O's BYTES (one encrypts, the
# other decrypts) at RATE bytes/s, on top of the US of CPU per I/O that the
# side spent on plaintext (one US per side, each on a CPU of its own).  The
# side that limited plaintext caps TLS at 1e6 / (US + cipher) IOPS; which
# side that was is not known, so the most generous side is taken: an upper
# bound when the limiting side's CPU was busy with the I/O and nothing else.
# Prints "SHARE CIPHER_US", or "-" when a figure is missing.
bench_tls_ceiling() {
	_p=$1 _b=$2 _r=$3
	shift 3
	awk -v p="$_p" -v b="$_b" -v r="$_r" -v us="$*" 'BEGIN {
		if (p <= 0 || r <= 0 || us == "") { print "-"; exit }
		c = b / r * 1e6; best = 0
		n = split(us, u, " ")
		for (i = 1; i <= n; i++) {
			if (u[i] <= 0) { print "-"; exit }
			s = 1e6 / ((u[i] + c) * p); if (s > best) best = s
		}
		if (best > 1) best = 1
		printf "%.2f %.1f\n", best, c }'
}

# bench_tls_runs N: for bench/tls.sh and bench/tls-mount.sh, $RUNS paired
# runs of workloads 0 .. N-1 into $BT/runs.txt, through the script's
# one(): plaintext, then TLS, for each workload in turn.
bench_tls_runs() {
	: >"$BT/runs.txt"
	_run=1
	while [ "$_run" -le "$RUNS" ]; do
		_k=0
		while [ "$_k" -lt "$1" ]; do
			one "$_run" "$_k" plain
			one "$_run" "$_k" tls
			_k=$((_k + 1))
		done
		_run=$((_run + 1))
	done
}

# bench_tls_ceilings N COLUMN...: for bench/tls.sh and bench/tls-mount.sh
# (bash), a line per workload K = 0 .. N-1 with bench_tls_ceiling's
# share: the plaintext CPU per I/O of each side from those columns of the
# script's runs, through its med() and its arrays W_NAME, W_BYTES and
# W_GOAL; the cipher measured on $CPU_I.
bench_tls_ceilings() {
	_n=$1
	shift
	_rate=$(bench_gcm_rate "$CPU_I")
	if [ -z "$_rate" ]; then
		echo "(the cipher's own speed: openssl speed did not run)"
		return
	fi
	awk -v r="$_rate" 'BEGIN { printf "The cipher alone: AES-128-GCM %.2f GB/s on one CPU (openssl speed, 16 KiB records). If TLS added\n", r / 1e9 }'
	echo "nothing but it to each side's plaintext CPU per I/O, it could keep at most:"
	_k=0
	while [ "$_k" -lt "$_n" ]; do
		_us=
		for _col in "$@"; do _us="$_us $(med "$_k" plain "$_col")"; done
		# shellcheck disable=SC2086 # one word per side
		_c=$(bench_tls_ceiling "$(med "$_k" plain 4)" "$(eval "echo \${W_BYTES[$_k]}")" "$_rate" $_us)
		if [ "$_c" != - ]; then
			awk -v c="${_c% *}" -v cu="${_c#* }" -v g="$(eval "echo \${W_GOAL[$_k]}")" \
				-v n="$(eval "echo \"\${W_NAME[$_k]}\"")" 'BEGIN {
				printf "  %-20s %.2f of plaintext (the cipher %s us per I/O and side): the %d%% goal is %s\n",
					n, c, cu, g, (c * 100 >= g ? "within reach" : "beyond this machine") }'
		fi
		_k=$((_k + 1))
	done
}

# bench_tls_options BP ARGS...: the options bench/tls.sh and
# bench/tls-mount.sh share (see their headers): sets RUNS (3), SECS (5),
# BUILDDIR, INSTALL (1) and NOPIN; with BP "busy-poll" also
# --target-busy-poll, TBP (50).  --help prints the script's header; a
# usage error exits 64.
# shellcheck disable=SC2034 # the settings are the caller's
bench_tls_options() {
	_bp=$1
	shift
	RUNS=3
	SECS=5
	BUILDDIR=
	INSTALL=1
	NOPIN=
	TBP=50
	_me=$(basename "$0")
	_nums="--runs and --time"
	[ -n "$_bp" ] && _nums="--runs, --time and --target-busy-poll"
	while [ $# -gt 0 ]; do
		case $1 in
		--runs) RUNS=${2:?}; shift ;;
		--time) SECS=${2:?}; shift ;;
		--quick) RUNS=1 SECS=1 ;;
		--builddir) BUILDDIR=${2:?}; shift ;;
		--no-install) INSTALL= ;;
		--no-pin) NOPIN=1 ;;
		--target-busy-poll)
			[ -n "$_bp" ] || { echo "$_me: unknown option $1 (see --help)" >&2; exit 64; }
			TBP=${2:?}; shift ;;
		-h | --help) bench_usage; exit 0 ;;
		*) echo "$_me: unknown option $1 (see --help)" >&2; exit 64 ;;
		esac
		shift
	done
	case "$RUNS$SECS$TBP" in *[!0-9]*) echo "$_me: $_nums take numbers" >&2; exit 64 ;; esac
	if [ "$RUNS" -lt 1 ] || [ "$SECS" -lt 1 ]; then
		echo "$_me: --runs and --time must be >= 1" >&2
		exit 64
	fi
}

# bench_tls_target CPU [TARGET OPTIONS...]: bench_target listening twice,
# in plaintext (PLAIN) and with --tls required (TLSADDR), for the host
# HOSTNQN whose PSK is $BT/tls.key (made by nvmeof gen-tls-key).
# shellcheck disable=SC2034 # PLAIN and TLSADDR are the caller's
bench_tls_target() {
	_cpu=$1
	shift
	HOSTNQN=nqn.2014-08.org.example:bench-tls-host
	(umask 077 && "$NVMEOF" gen-tls-key >"$BT/tls.key") || bench_die "gen-tls-key failed"
	bench_target "$_cpu" -l 127.0.0.1:0 --tls required --tls-key-file "$HOSTNQN=$BT/tls.key" \
		"$@" || bench_die "nvmeof-target did not start"
	PLAIN=$TADDR
	TLSADDR=127.0.0.1:$(sed -n 2p "$BT/target.port")
}
