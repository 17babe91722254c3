#!/bin/bash
# SPDX-License-Identifier: MIT
# Record the pdu_rx seed corpus from real sessions: what nvmeof-target and
# Linux nvmet (booted in QEMU by tests/interop/nvmet-vm) send for the
# harness's command table, with and without digests.
#   tests/fuzz/record-seeds.sh            (from a configured build directory)
# Writes tests/fuzz/corpus/pdu_rx/{nvmeof-target,linux-nvmet-KVER}-*.
set -euo pipefail
S=${NVMEOF_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${NVMEOF_BUILDDIR:-$(pwd)}
out=$S/tests/fuzz/corpus/pdu_rx
make -C "$B" tests/fuzz/record_pdu_rx src/nvmeof-target >/dev/null
rec=$B/tests/fuzz/record_pdu_rx
vm=$S/tests/interop/nvmet-vm
tmp=$(mktemp -d "${TMPDIR:-/tmp}/record-seeds.XXXXXX")
tpid=
cleanup() {
	[ -z "$tpid" ] || kill "$tpid" 2>/dev/null || true
	[ ! -d "$tmp/vm" ] || "$vm" stop "$tmp/vm" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

record_all() { # PORT SUBNQN PREFIX
	"$rec" 127.0.0.1 "$1" "$2" "$out/$3-plain"
	"$rec" 127.0.0.1 "$1" "$2" "$out/$3-hdgst" hdgst
	"$rec" 127.0.0.1 "$1" "$2" "$out/$3-ddgst" nohdgst ddgst
	"$rec" 127.0.0.1 "$1" "$2" "$out/$3-hdgst-ddgst" hdgst ddgst
}

"$B/src/nvmeof-target" -l 127.0.0.1:0 --port-file "$tmp/port" \
	-n nqn.2026-11.org.example:record --ns ram:16M 2>"$tmp/target.log" &
tpid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
record_all "$(head -1 "$tmp/port")" nqn.2026-11.org.example:record nvmeof-target
kill "$tpid"
tpid=

"$vm" prepare
mkdir "$tmp/vm"
"$vm" start "$tmp/vm"
record_all "$(cat "$tmp/vm/port")" nqn.2026-11.org.example:linux-nvmet \
	"linux-nvmet-$(cat "$tmp/vm/kver" | cut -d- -f1)"
