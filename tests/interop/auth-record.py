#!/usr/bin/env python3
"""auth-record.py — a recording TCP relay for DH-HMAC-CHAP fixtures.

    auth-record.py LISTEN_PORT TARGET_PORT OUT

Relays 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT (any number of
connections, until killed with SIGTERM), takes the NVMe/TCP PDUs of each
connection apart (no digests) and appends to OUT one line per connection
that authenticated:

    HASHID DHGID TID S1 C1 R1 S2 C2 R2   (hex; S2 C2 R2 "-" when unidirectional)

LISTEN_PORT 0: a free port, printed on the first line of stdout.

C1 and S1 come from the controller's Challenge, R1, C2 and S2 from the
host's Reply, R2 from the controller's Success1. Used by
record-auth-fixtures.sh; not run by the tests.
"""
import socket
import struct
import sys
import threading

def pdus(buf):
    """Split a byte stream into (type, header, data) PDUs."""
    out, off = [], 0
    while off + 8 <= len(buf):
        ptype, _flags, hlen, pdo, plen = struct.unpack_from("<BBBBI", buf, off)
        if plen < 8 or off + plen > len(buf):
            break
        start = pdo if pdo else hlen
        out.append((ptype, buf[off:off + hlen], buf[off + start:off + plen] if plen > start else b""))
        off += plen
    return out

def auth_messages(stream):
    """The DH-HMAC-CHAP messages among the data of a direction's PDUs."""
    msgs = []
    for ptype, _hdr, data in pdus(stream):
        # CapsuleCmd 04h (in-capsule data), H2CData 06h, C2HData 07h
        if ptype in (0x04, 0x06, 0x07) and len(data) >= 16 and data[0] in (0, 1):
            msgs.append(data)
    return msgs

def parse(h2c, c2h):
    ch = rep = s1 = None
    for m in auth_messages(c2h):
        if m[0] == 1 and m[1] == 1:
            ch = m
        elif m[0] == 1 and m[1] == 3:
            s1 = m
    for m in auth_messages(h2c):
        if m[0] == 1 and m[1] == 2:
            rep = m
    if not (ch and rep and s1):
        return None
    tid, hl = struct.unpack_from("<H", ch, 4)[0], ch[6]
    ids = "%d %d " % (ch[8], ch[9])
    seq1 = struct.unpack_from("<I", ch, 12)[0]
    c1 = ch[16:16 + hl]
    r1 = rep[16:16 + hl]
    cvalid, seq2 = rep[8] & 1, struct.unpack_from("<I", rep, 12)[0]
    if cvalid and s1[8] & 1:
        c2, r2 = rep[16 + hl:16 + 2 * hl], s1[16:16 + hl]
        return ids + "%d %d %s %s %d %s %s" % (tid, seq1, c1.hex(), r1.hex(), seq2, c2.hex(), r2.hex())
    return ids + "%d %d %s %s - - -" % (tid, seq1, c1.hex(), r1.hex())

lock = threading.Lock()

def relay(a, b, sink):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            sink.extend(d)
            b.sendall(d)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass

def serve(conn, target, out):
    up = socket.create_connection(("127.0.0.1", target))
    h2c, c2h = bytearray(), bytearray()
    t1 = threading.Thread(target=relay, args=(conn, up, h2c))
    t2 = threading.Thread(target=relay, args=(up, conn, c2h))
    t1.start(); t2.start(); t1.join(); t2.join()
    conn.close(); up.close()
    line = parse(bytes(h2c), bytes(c2h))
    if line:
        with lock, open(out, "a") as f:
            f.write(line + "\n")

def main():
    listen, target, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", listen))
    s.listen(16)
    print(s.getsockname()[1], flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, target, out), daemon=True).start()

if __name__ == "__main__":
    main()
