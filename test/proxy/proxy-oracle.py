# A second, independent PROXY protocol implementation for the tests of src/proxy: headers built by
# hand with struct (proxy-protocol.txt 2.1 and 2.2), and a hand decoder for our encoder's bytes.
# Reads one JSON request on stdin and writes one JSON reply:
#   {"build": SEED}        -> {"cases": [{"name", "hex", "expected"}, ...]}
#   {"decode": [HEX, ...]} -> {"decoded": [expected or {"error": text}, ...]}
# "expected" has the shape of proxyHeaderJson() in src/proxy/format.ts, computed here from what was
# put in (build) or read out (decode), never from our TypeScript.
import ipaddress
import json
import random
import socket
import struct
import sys

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
FAMILIES = ["unspec", "inet", "inet6", "unix"]
TRANSPORTS = ["unspec", "stream", "dgram"]
SSL_SUB_NAMES = {0x21: "version", 0x22: "cn", 0x23: "cipher", 0x24: "sig-alg", 0x25: "key-alg",
                 0x26: "group", 0x27: "sig-scheme", 0x28: "client-cert"}
TLV_NAMES = {0x01: "alpn", 0x02: "authority", 0x03: "crc32c", 0x04: "noop", 0x05: "unique-id",
             0x20: "ssl", 0x30: "netns", 0xE0: "gcp", 0xEA: "aws", 0xEE: "azure"}


def crc32c(data):
    """Bitwise CRC32C (Castagnoli, reflected 0x82F63B78), deliberately not table-driven."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def utf8_or_none(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return None


def printable(b):
    return all(0x20 <= c <= 0x7E for c in b)


def v6_text(packed):
    """RFC 5952: ipaddress's compressed form, except IPv4-mapped addresses in mixed notation (5)."""
    if packed[:12] == b"\x00" * 10 + b"\xff\xff":
        return "::ffff:" + socket.inet_ntop(socket.AF_INET, packed[12:])
    return ipaddress.IPv6Address(packed).compressed


def tlv(t, value):
    return struct.pack("!BH", t, len(value)) + value


def tlv_json(t, value):
    """What src/proxy/format.ts proxyHeaderJson() must show for one TLV."""
    out = {"type": t, "name": TLV_NAMES.get(t, "unknown"), "hex": value.hex()}
    if t in (0x01, 0x02, 0x30):
        out["value"] = utf8_or_none(value)
    elif t == 0x05:
        out["value"] = value.decode("ascii") if printable(value) else None
    elif t == 0x03:
        out["value"] = struct.unpack("!I", value)[0]
    elif t == 0x20:
        client, verify = struct.unpack("!BI", value[:5])
        flags = [n for bit, n in ((1, "ssl"), (2, "cert-conn"), (4, "cert-sess")) if client & bit]
        subs, at = [], 5
        while at < len(value):
            st, sl = struct.unpack("!BH", value[at:at + 3])
            sv = value[at + 3:at + 3 + sl]
            name = SSL_SUB_NAMES.get(st, "unknown")
            text = None if name in ("client-cert", "unknown") else utf8_or_none(sv)
            subs.append({"type": st, "name": name, "hex": sv.hex(), "value": text})
            at += 3 + sl
        out.update(client=client, client_flags=flags, verify=verify, sub=subs)
    elif t == 0xEA:
        out["subtype"] = value[0] if value else None
        out["value"] = utf8_or_none(value[1:]) if value[:1] == b"\x01" else None
    elif t == 0xEE:
        out["subtype"] = value[0] if value else None
        out["value"] = struct.unpack("<I", value[1:])[0] if value[:1] == b"\x01" and len(value) == 5 else None
    elif t == 0xE0:
        out["value"] = str(struct.unpack("!Q", value)[0]) if len(value) == 8 else None
    return out


def unix_path_text(raw):
    if raw[0] == 0:
        name = raw[1:].rstrip(b"\x00")
        return "@" + name.decode() if name else ""
    return raw.split(b"\x00", 1)[0].decode()


# ---------------------------------------------------------------------------------------------
# Building


def rand_v6(rng):
    kind = rng.randrange(5)
    if kind == 0:  # IPv4-mapped
        return b"\x00" * 10 + b"\xff\xff" + bytes(rng.randrange(256) for _ in range(4))
    words = [rng.randrange(0x10000) for _ in range(8)]
    if kind in (1, 2):  # one or two zero runs, so "::" has a choice to make
        for _ in range(kind):
            start = rng.randrange(8)
            for k in range(start, min(8, start + rng.randrange(1, 5))):
                words[k] = 0
    if kind == 3:
        words = [0] * 7 + [1] if rng.randrange(2) else [0] * 8
    return struct.pack("!8H", *words)


def v6_spellings(packed, rng):
    """Several valid texts of one address: canonical, exploded, upper case, zero groups kept."""
    words = struct.unpack("!8H", packed)
    canon = v6_text(packed)
    forms = [canon, ipaddress.IPv6Address(packed).exploded, canon.upper(),
             ":".join("%x" % w for w in words)]
    if packed[:12] == b"\x00" * 10 + b"\xff\xff":
        forms.append("0:0:0:0:0:FFFF:" + socket.inet_ntop(socket.AF_INET, packed[12:]))
    return rng.choice(forms)


def v4(rng):
    return bytes(rng.randrange(256) for _ in range(4))


def ssl_value(rng, full=False):
    subs = [(0x21, b"TLSv1.3")]
    if full:
        subs += [(0x22, "client.example".encode()), (0x23, b"TLS_AES_256_GCM_SHA384"),
                 (0x24, b"RSA-SHA256"), (0x25, b"RSA2048"), (0x26, b"X25519"),
                 (0x27, b"rsa_pss_rsae_sha256"), (0x28, bytes(rng.randrange(256) for _ in range(300))),
                 (0x29, b"\x00\x01")]
    else:
        subs += rng.sample([(0x22, "ünïcode-cn".encode()), (0x23, b"ECDHE-RSA-AES128-GCM-SHA256"),
                            (0x28, b"\x30\x82\x01\x0a"), (0x24, b"")], rng.randrange(0, 4))
    client = rng.choice([0x01, 0x03, 0x05, 0x07, 0x00])
    verify = rng.choice([0, 1, 0xFFFFFFFF])
    return struct.pack("!BI", client, verify) + b"".join(tlv(t, v) for t, v in subs)


def tlv_pool(rng):
    return [
        (0x01, b"h2"),
        (0x01, b"http/1.1"),
        (0x02, b"example.com"),
        (0x02, "b\xfccher.example".encode("latin-1")),  # not UTF-8: shown as hex only
        (0x04, b""),
        (0x04, b"\x00" * rng.randrange(1, 9)),
        (0x05, b"7F000001:D2F2_0A000005:01BB_6655A1B2_0001:1F2E"),
        (0x05, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 129)))),
        (0x20, ssl_value(rng)),
        (0x30, b"blue"),
        (0xEA, b"\x01vpce-0123456789abcdef0"),
        (0xEA, b"\x02other"),
        (0xEE, b"\x01" + struct.pack("<I", rng.randrange(1 << 32))),
        (0xEE, b"\x01\x02\x03"),
        (0xE0, struct.pack("!Q", rng.randrange(1 << 64))),
        (0xE0, b"\x01\x02"),
        (0xE1, b"alibaba"),
        (0xF0, b""),
        (0x99, bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))),
    ]


def build_v2(command, family, transport, tlvs, with_crc, rng, crc_at=None, addr=None):
    body = b""
    src = dst = None
    if family == "inet":
        s, d = addr or (v4(rng), v4(rng))
        sp, dp = rng.randrange(65536), rng.randrange(65536)
        body = s + d + struct.pack("!HH", sp, dp)
        src = {"address": socket.inet_ntop(socket.AF_INET, s), "port": sp}
        dst = {"address": socket.inet_ntop(socket.AF_INET, d), "port": dp}
    elif family == "inet6":
        s, d = addr or (rand_v6(rng), rand_v6(rng))
        sp, dp = rng.randrange(65536), rng.randrange(65536)
        body = s + d + struct.pack("!HH", sp, dp)
        src = {"address": v6_text(s), "port": sp}
        dst = {"address": v6_text(d), "port": dp}
    elif family == "unix":
        sp = b"/run/haproxy/front-%d.sock" % rng.randrange(1000)
        dp = b"\x00abstract-%d" % rng.randrange(1000)
        body = struct.pack("108s108s", sp, dp)
        src = {"path": sp.decode()}
        dst = {"path": "@" + dp[1:].decode()}
    items = list(tlvs)
    if with_crc:
        items.insert(len(items) if crc_at is None else crc_at, (0x03, b"\x00\x00\x00\x00"))
    tlv_bytes = b"".join(tlv(t, v) for t, v in items)
    ver_cmd = 0x20 | (0 if command == "local" else 1)
    fam = FAMILIES.index(family) << 4 | TRANSPORTS.index(transport)
    head = SIG + struct.pack("!BBH", ver_cmd, fam, len(body) + len(tlv_bytes))
    header = bytearray(head + body + tlv_bytes)
    if with_crc:
        # The checksum of the whole header with its own field zeroed (2.2.3), then put in place.
        at = len(head) + len(body) + sum(3 + len(v) for _, v in items[:items.index((0x03, b"\0\0\0\0"))]) + 3
        header[at:at + 4] = struct.pack("!I", crc32c(bytes(header)))
        items = [(t, bytes(header[at:at + 4])) if t == 0x03 else (t, v) for t, v in items]
    expected = {"version": 2, "command": command, "family": family, "transport": transport,
                "source": src, "destination": dst, "tlvs": [tlv_json(t, v) for t, v in items]}
    return bytes(header), expected


def build_cases(seed):
    rng = random.Random(seed)
    cases = []

    def add(name, header, expected):
        cases.append({"name": name, "hex": header.hex(), "expected": expected})

    # Every family x transport x command, without TLVs.
    for family in FAMILIES:
        for transport in (["unspec"] if family == "unspec" else ["stream", "dgram", "unspec"]):
            for command in ("proxy", "local"):
                h, e = build_v2(command, family, transport, [], False, rng)
                add(f"v2 {command} {family} {transport}", h, e)
    # HAProxy's health check with "proxy-v2-options crc32c": LOCAL, AF_UNSPEC, a CRC32C TLV.
    h, e = build_v2("local", "unspec", "unspec", [], True, rng)
    add("v2 local unspec with crc32c", h, e)
    # Every TLV type, each alone.
    for t, v in tlv_pool(rng):
        h, e = build_v2("proxy", "inet", "stream", [(t, v)], False, rng)
        add(f"v2 tlv 0x{t:02x} len {len(v)}", h, e)
    # SSL with every sub-TLV, plus a client certificate, with a CRC32C in front of it.
    h, e = build_v2("proxy", "inet6", "stream", [(0x20, ssl_value(rng, full=True))], True, rng, crc_at=0)
    add("v2 ssl with every sub-tlv, crc32c first", h, e)
    # What AWS, Azure and GCP send.
    h, e = build_v2("proxy", "inet", "stream", [(0xEA, b"\x01vpce-08d2bf15fac5001c9")], False, rng)
    add("v2 aws vpce id", h, e)
    h, e = build_v2("proxy", "inet", "stream", [(0xEE, b"\x01" + struct.pack("<I", 0x21004501))], False, rng)
    add("v2 azure link id", h, e)
    h, e = build_v2("proxy", "inet", "stream", [(0xE0, struct.pack("!Q", 43686719580552292))], False, rng)
    add("v2 gcp psc connection id", h, e)
    # Random mixes, CRC32C anywhere.
    for n in range(60):
        family = rng.choice(FAMILIES)
        transport = "unspec" if family == "unspec" else rng.choice(["stream", "dgram"])
        command = rng.choice(["proxy", "proxy", "local"])
        pool = tlv_pool(rng)
        tlvs = rng.sample(pool, rng.randrange(0, 7))
        crc = rng.randrange(2) == 1
        h, e = build_v2(command, family, transport, tlvs, crc, rng, crc_at=rng.randrange(len(tlvs) + 1))
        add(f"v2 random {n}", h, e)

    # v1: TCP4, TCP6 (spelled every valid way), UNKNOWN short and long.
    def v1_expected(family, src, dst):
        return {"version": 1, "command": "proxy", "family": family,
                "transport": "stream" if src else "unspec", "source": src, "destination": dst, "tlvs": []}

    for n in range(25):
        s, d = v4(rng), v4(rng)
        sp, dp = rng.choice([0, 65535, rng.randrange(65536)]), rng.randrange(65536)
        st, dt = socket.inet_ntop(socket.AF_INET, s), socket.inet_ntop(socket.AF_INET, d)
        line = f"PROXY TCP4 {st} {dt} {sp} {dp}\r\n".encode()
        add(f"v1 tcp4 {n}", line, v1_expected("inet", {"address": st, "port": sp}, {"address": dt, "port": dp}))
    for n in range(25):
        s, d = rand_v6(rng), rand_v6(rng)
        sp, dp = rng.randrange(65536), rng.choice([0, 65535, rng.randrange(65536)])
        line = f"PROXY TCP6 {v6_spellings(s, rng)} {v6_spellings(d, rng)} {sp} {dp}\r\n".encode()
        add(f"v1 tcp6 {n}", line, v1_expected("inet6", {"address": v6_text(s), "port": sp},
                                                {"address": v6_text(d), "port": dp}))
    add("v1 unknown short", b"PROXY UNKNOWN\r\n", v1_expected("unspec", None, None))
    longest = b"PROXY UNKNOWN " + b":".join([b"ffff"] * 8) + b" " + b":".join([b"ffff"] * 8) + b" 65535 65535\r\n"
    assert len(longest) == 107
    add("v1 unknown longest (107 bytes)", longest, v1_expected("unspec", None, None))
    add("v1 unknown with garbage", b"PROXY UNKNOWN \x00\xff anything\r\n", v1_expected("unspec", None, None))
    longest6 = b"PROXY TCP6 " + b":".join([b"ffff"] * 8) + b" " + b":".join([b"ffff"] * 8) + b" 65535 65535\r\n"
    assert len(longest6) == 104
    add("v1 tcp6 longest (104 bytes)", longest6, v1_expected("inet6", {"address": ":".join(["ffff"] * 8), "port": 65535},
                                                             {"address": ":".join(["ffff"] * 8), "port": 65535}))
    return cases


# ---------------------------------------------------------------------------------------------
# Decoding our encoder's bytes


def decode(data):
    if data.startswith(b"PROXY "):
        line, sep, _ = data.partition(b"\r\n")
        if not sep:
            return {"error": "no CRLF"}
        parts = line.decode("ascii").split(" ")
        if parts[1] == "UNKNOWN":
            return {"version": 1, "command": "proxy", "family": "unspec", "transport": "unspec",
                    "source": None, "destination": None, "tlvs": [], "length": len(line) + 2}
        if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
            return {"error": "bad v1 line %r" % line}
        af = socket.AF_INET if parts[1] == "TCP4" else socket.AF_INET6
        text = (lambda p: v6_text(p)) if af == socket.AF_INET6 else (lambda p: socket.inet_ntop(af, p))
        src = {"address": text(socket.inet_pton(af, parts[2])), "port": int(parts[4])}
        dst = {"address": text(socket.inet_pton(af, parts[3])), "port": int(parts[5])}
        return {"version": 1, "command": "proxy", "family": "inet" if af == socket.AF_INET else "inet6",
                "transport": "stream", "source": src, "destination": dst, "tlvs": [], "length": len(line) + 2}
    if not data.startswith(SIG):
        return {"error": "no signature"}
    ver_cmd, fam, length = struct.unpack("!BBH", data[12:16])
    total = 16 + length
    header = data[:total]
    family, transport = FAMILIES[fam >> 4], TRANSPORTS[fam & 15]
    src = dst = None
    at = 16
    if family in ("inet", "inet6"):
        w = 4 if family == "inet" else 16
        s, d = header[16:16 + w], header[16 + w:16 + 2 * w]
        sp, dp = struct.unpack("!HH", header[16 + 2 * w:20 + 2 * w])
        text = (lambda p: socket.inet_ntop(socket.AF_INET, p)) if w == 4 else v6_text
        src, dst = {"address": text(s), "port": sp}, {"address": text(d), "port": dp}
        at = 20 + 2 * w
    elif family == "unix":
        src, dst = {"path": unix_path_text(header[16:124])}, {"path": unix_path_text(header[124:232])}
        at = 232
    tlvs = []
    while at < total:
        t, n = struct.unpack("!BH", header[at:at + 3])
        value = header[at + 3:at + 3 + n]
        if t == 0x03:
            zeroed = header[:at + 3] + b"\0\0\0\0" + header[at + 7:]
            if crc32c(zeroed) != struct.unpack("!I", value)[0]:
                return {"error": "crc32c mismatch"}
        tlvs.append(tlv_json(t, value))
        at += 3 + n
    return {"version": 2, "command": "local" if ver_cmd & 15 == 0 else "proxy", "family": family,
            "transport": transport, "source": src, "destination": dst, "tlvs": tlvs, "length": total}


def main():
    request = json.load(sys.stdin)
    if "build" in request:
        json.dump({"cases": build_cases(request["build"])}, sys.stdout)
    else:
        json.dump({"decoded": [decode(bytes.fromhex(h)) for h in request["decode"]]}, sys.stdout)


main()
