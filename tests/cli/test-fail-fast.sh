#!/bin/sh
# Issue 14: one-shot commands fail fast when the connection is lost
# (ctrl-loss-tmo 0 by default), ride an outage out with --ctrl-loss-tmo,
# and perf stops within -t + 2 s whatever the target does.  Each case
# checks the exit status, the message and the time taken; the time limits
# are hang guards with a wide margin (printed), never measurements.
. "$(dirname "$0")/lib.sh"
MARGIN_MS=8000
N="$TEST_NQN"

stop_target() {
	kill "$TPID" 2>/dev/null
	wait "$TPID" 2>/dev/null
	TPID=
}

# timed CMD...: run the tool, set RC and MS (wall time in ms)
timed() {
	_t0=$(now_ms)
	run "$@"
	MS=$(($(now_ms) - _t0))
}

# within LIMIT_MS WHAT: the hang guard
within() {
	[ "$MS" -le "$1" ] || fail "$2 took $MS ms, more than the $1 ms allowed"
	echo "$2: $MS ms (limit $1 ms, with a margin of $MARGIN_MS ms)"
}

# 1. identify with the admin connection dropped after the n-th answer:
#    for some n (1 today: the connect reads one Identify) the connect has
#    finished and the command finds the connection gone.  By default that is an error at once (74)
#    that says why; nothing hangs with --ctrl-loss-tmo either.
failed_after_connect=0
rode_through=0
for n in 1 2 3 4; do
	start_target --fault "drop-after:$n@admin"
	timed identify "$ADDR" -n "$N"
	within $((10000 + MARGIN_MS)) "identify, drop-after:$n@admin"
	case $RC in
	0) ;;
	74)
		err_has "closed the connection"
		# after connecting (not while): the hint to ride through
		grep -qF -- "--ctrl-loss-tmo SECONDS rides through an outage" "$T/err" &&
			failed_after_connect=$((failed_after_connect + 1)) ;;
	*) fail "identify with drop-after:$n@admin exited $RC" ;;
	esac
	stop_target
	start_target --fault "drop-after:$n@admin"
	timed identify "$ADDR" -n "$N" --ctrl-loss-tmo 20 --reconnect-delay 1
	within $((20000 + MARGIN_MS)) "identify --ctrl-loss-tmo 20, drop-after:$n@admin"
	case $RC in
	0)
		out_has "$TEST_SERIAL"
		grep -qF "reconnecting" "$T/err" && rode_through=$((rode_through + 1)) ;;
	74) err_has "closed the connection" ;;
	*) fail "identify --ctrl-loss-tmo with drop-after:$n@admin exited $RC" ;;
	esac
	stop_target
done
[ "$failed_after_connect" -gt 0 ] || fail "no identify failed fast after connecting"
# Whether a command sent just as the connection closes waits for the
# reconnect or fails depends on who sees the close first: not asserted
# here (perf below rides through deterministically).
echo "identify failed fast $failed_after_connect times of 4; with --ctrl-loss-tmo it rode through $rode_through times"

# 2. perf, the I/O connection dropped mid-run: error at once by default.
start_target --fault drop-after:2000
timed perf "$ADDR" -n "$N" -q 4 -t 2
within $((2000 + 2000 + MARGIN_MS)) "perf -t 2, drop-after:2000"
[ "$RC" -eq 74 ] || fail "perf with a dropped connection exited $RC, expected 74"
err_has "connection failed: not reconnecting (ctrl-loss-tmo 0)"
err_has "closed the connection"
stop_target

# 3. The same with --ctrl-loss-tmo: each loss and reconnect said as it
#    happens, the run completes, and the output counts them.
start_target --fault drop-after:2000
timed perf "$ADDR" -n "$N" -q 4 -t 2 --ctrl-loss-tmo 20 --reconnect-delay 1
within $((2000 + 2000 + MARGIN_MS)) "perf -t 2 --ctrl-loss-tmo 20, drop-after:2000"
[ "$RC" -eq 0 ] || fail "perf riding through a drop exited $RC"
err_has "connection reconnecting: association lost"
err_has "connection live again"
out_has "(lost 1 time, reconnected 1)"
stop_target

# 4. A target that goes silent mid-run (armed through its control socket):
#    perf still stops within -t + 2 s, exit 74, and says why.
start_target --control "$T/ctl"
_t0=$(now_ms)
"$NVMEOF" perf "$ADDR" -n "$N" -q 4 -t 2 >"$T/out" 2>"$T/err" &
PERF=$!
wait_io_association
ctl fault silent || fail "arming the silent fault: $(cat "$T/ctl.out")"
RC=0
wait "$PERF" || RC=$?
MS=$(($(now_ms) - _t0))
within $((2000 + 6000 + MARGIN_MS)) "perf -t 2, target silent mid-run"
[ "$RC" -eq 74 ] || fail "perf against a silent target exited $RC, expected 74"
err_has "still had no completion 5.0 s after the end of the run"
stop_target

# 5. An outage of a few hundred ms (the target killed and started again on
#    the same port): the figures count only the live time, and the JSON
#    says how long the association was not live.
start_target --control "$T/ctl"
port=$TPORT
"$NVMEOF" perf "$ADDR" -n "$N" -q 4 -t 4 --ctrl-loss-tmo 30 --reconnect-delay 1 \
	--output-format json >"$T/out" 2>"$T/err" &
PERF=$!
wait_io_association
kill -9 "$TPID"
wait "$TPID" 2>/dev/null
TPID=
sleep 0.3 # the outage itself; nothing below depends on its length
"$NVMEOF_TARGET" -l "127.0.0.1:$port" -n "$N" --ns ram:64M >"$T/target2.log" 2>&1 &
TPID=$!
RC=0
wait "$PERF" || RC=$?
[ "$RC" -eq 0 ] || fail "perf across a target restart exited $RC"
err_has "connection live again"
secs=$(json seconds)
live=$(json live_seconds)
down=$(json down_seconds)
[ "$(json losses)" -ge 1 ] || fail "losses: $(json losses)"
awk -v s="$secs" -v l="$live" -v d="$down" 'BEGIN {
	if (!(d > 0)) { print "down_seconds is " d; exit 1 }
	if (l + d < s - 0.01 || l + d > s + 0.01) { print "live " l " + down " d " != " s; exit 1 }
}' || fail "perf accounting: $(cat "$T/out")"
echo "perf across a restart: $secs s run, $live s live, $down s not"
stop_target
echo "fail-fast: ok"
