#!/bin/sh
# A tree mount of 16 subsystems, fio with crc32c verification on every
# namespace at once (issue 14).  The daemon's worker threads each use all
# 16 associations: a thread that lost its binding to one of them would
# leave the commands it had in flight there unpolled until the I/O
# timeout (30 s).  No command may take longer than 1 s; the worst latency
# fio saw is printed.
. "$(dirname "$0")/lib.sh"
need fio python3

N=16
set --
i=0
while [ $i -lt $N ]; do
	set -- "$@" -n "nqn.2026-11.org.example:tree$(printf %02d $i)" --ns ram:4M
	i=$((i + 1))
done
start_target "$@"
# More I/O queues than worker threads: a thread that lost a binding and
# made a new one would poll another queue than the one its commands are on.
NO_NQN=1 do_mount --nr-io-queues=4 --threads=2

set -- --output-format=json --ioengine=libaio --direct=1 --iodepth=4 \
	--rw=randwrite --bsrange=4k-64k --size=4M --verify=crc32c \
	--verify_fatal=1 --do_verify=1
i=0
while [ $i -lt $N ]; do
	f="$MNT/nqn.2026-11.org.example:tree$(printf %02d $i)/n1"
	[ -e "$f" ] || fail "no $f in the tree: $(ls "$MNT")"
	# fio splits file names at ':'
	set -- "$@" --name="j$i" --filename="$(printf %s "$f" | sed 's/:/\\:/g')"
	i=$((i + 1))
done
fio "$@" >"$T/out" 2>"$T/err" || fail "fio failed or did not verify"
python3 - "$T/out" >"$T/worst" <<'PYEOF' || fail "fio: $(cat "$T/worst")"
import json, sys
text = open(sys.argv[1]).read()
doc = json.loads(text[text.index("{"):])
worst, where = 0, ""
for job in doc["jobs"]:
    if job["error"]:
        print("job %s: error %d" % (job["jobname"], job["error"]))
        sys.exit(1)
    for d in ("read", "write"):
        ns = job[d]["lat_ns"]["max"]
        if ns > worst:
            worst, where = ns, "%s %s" % (job["jobname"], d)
print("%.1f %s" % (worst / 1e6, where))
PYEOF
read -r worst where <"$T/worst"
echo "worst command latency: $worst ms ($where)" >&2
awk -v w="$worst" 'BEGIN { exit !(w < 1000) }' ||
	fail "a command took $worst ms ($where): a stall"
do_umount
exit 0
