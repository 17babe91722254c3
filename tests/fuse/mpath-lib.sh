# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# Shared by the multipath mount tests (tests/fuse/test-multipath*.sh),
# sourced after lib.sh: the two listeners' ports of the target, fio in the
# background (FIO and stop_fio are lib.sh's) and the waits on the lines of a
# paths file (PF, set by the test).  Every wait has a 30 s hang guard.

now_ms() { date +%s%3N; }

# listener_ports: P0 and P1, the ports of the target's two listeners.
listener_ports() {
	P0=$(tr -s " \n" "  " <"$T/port" | awk "{print \$1}")
	P1=$(tr -s " \n" "  " <"$T/port" | awk "{print \$2}")
	[ -n "$P0" ] && [ -n "$P1" ] || fail "two listeners expected: $(cat "$T/port")"
}

fio_alive() { [ "$(sed -n 's/^[^)]*) \(.\).*/\1/p' "/proc/$FIO/stat" 2>/dev/null)" != Z ] && kill -0 "$FIO" 2>/dev/null; }

# pf ID FIELD: a field of path ID's line in the paths file PF.
pf() {
	awk -v id="$1" -v f="$2" '$1 == id {
		if (f == "addr") { print $2; exit }
		for (i = 3; i <= NF; i++)
			if (index($i, f "=") == 1) { print substr($i, length(f) + 2); exit }
	}' "$PF"
}
# until_pf ID FIELD VALUE: wait until path ID's FIELD is VALUE.
until_pf() {
	t_end=$(($(now_ms) + 30000))
	until [ "$(pf "$1" "$2")" = "$3" ]; do
		[ "$(now_ms)" -lt "$t_end" ] || fail "path $1: $2 is '$(pf "$1" "$2")', waited for '$3': $(cat "$PF")"
		sleep 0.02
	done
}
# until_more ID FIELD N: wait until path ID's FIELD exceeds N.
until_more() {
	t_end=$(($(now_ms) + 30000))
	until [ "$(pf "$1" "$2")" -gt "$3" ]; do
		[ "$(now_ms)" -lt "$t_end" ] || fail "path $1: $2 stays at $(pf "$1" "$2") (wanted > $3): $(cat "$PF")"
		fio_alive || fail "fio ended before path $1 did more $2 (make it longer): $(tail -n 5 "$T/fio.err")"
		sleep 0.02
	done
}
