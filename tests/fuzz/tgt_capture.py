#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A recording TCP relay for the tgt_conn seeds: listens on 127.0.0.1
(port in PORTFILE), relays every connection to 127.0.0.1:TARGET_PORT and
writes what each host connection sent, in order of connection, to
OUTDIR/conn-N.bin.  Stops when STOPFILE exists.

  tgt_capture.py TARGET_PORT PORTFILE OUTDIR STOPFILE"""
import os
import select
import socket
import sys
import threading

target_port, portfile, outdir, stopfile = sys.argv[1:5]
lsn = socket.socket()
lsn.bind(("127.0.0.1", 0))
lsn.listen(16)
lsn.settimeout(0.1)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % lsn.getsockname()[1])
os.rename(portfile + ".tmp", portfile)


def relay(n, cli):
    srv = socket.create_connection(("127.0.0.1", int(target_port)))
    with open(os.path.join(outdir, "conn-%d.bin" % n), "wb") as rec:
        socks = [cli, srv]
        while True:
            r, _, _ = select.select(socks, [], [], 1.0)
            if not r:
                continue
            done = False
            for s in r:
                data = s.recv(1 << 16)
                if not data:
                    done = True
                    break
                if s is cli:
                    rec.write(data)
                    srv.sendall(data)
                else:
                    cli.sendall(data)
            if done:
                break
    cli.close()
    srv.close()


n = 0
threads = []
while not os.path.exists(stopfile):
    try:
        c, _ = lsn.accept()
    except socket.timeout:
        continue
    t = threading.Thread(target=relay, args=(n, c), daemon=True)
    t.start()
    threads.append(t)
    n += 1
for t in threads:
    t.join(5)
