#!/usr/bin/env python3
"""make-vectors.py — expected DH-HMAC-CHAP responses, computed with Python's
hmac/hashlib (an implementation independent of ours) following the
construction of Linux's drivers/nvme/host/auth.c (nvme_auth_dhchap_setup_
host_response / _ctrl_response) and drivers/nvme/common/auth.c
(nvme_auth_augmented_challenge). Writes vectors.txt; not run by the tests.

Lines: resp HASH HOST(1|0) KEY CHAL SEQ TID NQN1 NQN2 EXPECTED
       aug  HASH Z CHAL EXPECTED              (hex unless said otherwise)
"""
import hashlib, hmac, os, struct

H = {1: hashlib.sha256, 2: hashlib.sha384, 3: hashlib.sha512}
L = {1: 32, 2: 48, 3: 64}
HOST = "nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-0000000000a1"
SUB = "nqn.2026-11.org.example:linux-nvmet-auth"

def resp(h, key, chal, seq, tid, host, n1, n2):
    m = hmac.new(key, digestmod=H[h])
    m.update(chal + struct.pack("<IHB", seq, tid, 0))
    m.update(b"HostHost" if host else b"Controller")
    m.update(n1.encode() + b"\0" + n2.encode())
    return m.digest()

def aug(h, z, chal):
    return hmac.new(H[h](z).digest(), chal, H[h]).digest()

with open(os.path.join(os.path.dirname(__file__) or ".", "vectors.txt"), "w") as f:
    f.write(__doc__.split("\n\n")[1].replace("\n", "\n# ").join(["# ", "\n"]))
    for h in (1, 2, 3):
        for host, n1, n2 in ((True, HOST, SUB), (False, SUB, HOST)):
            key, chal = os.urandom(L[h]), os.urandom(L[h])
            seq, tid = struct.unpack("<IH", os.urandom(6))
            f.write("resp %d %d %s %s %u %u %s %s %s\n" % (
                h, host, key.hex(), chal.hex(), seq, tid, n1, n2,
                resp(h, key, chal, seq, tid, host, n1, n2).hex()))
        for zlen in (256, 1024):
            z, chal = os.urandom(zlen), os.urandom(L[h])
            f.write("aug %d %s %s %s\n" % (h, z.hex(), chal.hex(), aug(h, z, chal).hex()))
