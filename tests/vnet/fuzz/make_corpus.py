#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_vnet (see fuzz_vnet.cpp for the format).

Each file is a small program of opcodes: packets (0 out, 1 in, 2 batch),
bind (3), unbind (4), transfer (5), blacklist (6), time (7), packet sockets (8),
peer query (9). Run from anywhere: python3 make_corpus.py <corpus dir>.
"""
import os
import struct
import sys

NODE = bytes([10, 0, 0, 1])
LO = bytes([127, 0, 0, 1])
HOST = bytes([192, 0, 2, 7])
PROXY = bytes([10, 0, 1, 3])


def ip(src, dst, proto, payload, frag=0x4000, ihl=5, total=None):
    hdr = bytes([0x40 | ihl, 0]) + struct.pack(">HHHBBH", total if total is not None else 20 + len(payload), 0x1234, frag, 64, proto, 0) + src + dst
    hdr += b"\x01" * (ihl * 4 - 20 if ihl > 5 else 0)
    return hdr + payload


def tcp(src, sp, dst, dp, flags=0x02):
    return ip(src, dst, 6, struct.pack(">HHIIBBHHH", sp, dp, 1, 0, 0x50, flags, 65535, 0, 0))


def udp(src, sp, dst, dp, n=4):
    return ip(src, dst, 17, struct.pack(">HHHH", sp, dp, 8 + n, 0) + b"\xab" * n)


def icmp(src, dst, ident, typ=8):
    return ip(src, dst, 1, struct.pack(">BBHHH", typ, 0, 0, ident, 1) + b"\x55" * 8)


def icmp_err(src, dst, typ, quoted):
    return ip(src, dst, 1, struct.pack(">BBHI", typ, 0, 0, 0) + quoted[:28])


def pkt(direction, data, sender=1, eth=False, device=0):
    if eth:
        data = b"\xde\xad\xbe\xef\x00\x01" + b"\xff" * 6 + b"\x08\x00" + data
    mode = sender | (4 if eth else 0) | (device << 3)
    return bytes([direction, len(data)]) + data + bytes([mode])


def batch(items):
    out = bytes([2, len(items) - 1])
    for direction, data, sender in items:
        out += bytes([len(data)]) + data + bytes([sender | (8 if direction else 0)])
    return out


def bind(s, proto_index, port, op=3):
    return bytes([op, s, proto_index]) + struct.pack(">H", port)


CORPUS = {
    "tcp_out_in": pkt(0, tcp(NODE, 40000, HOST, 80)) + pkt(1, tcp(HOST, 80, NODE, 40000, 0x12)),
    "udp_lazy_takeover": pkt(0, udp(NODE, 5000, HOST, 53)) + pkt(0, udp(NODE, 5000, HOST, 53), sender=2)
    + pkt(1, udp(HOST, 53, NODE, 5000)),
    "ping_two_slices": pkt(0, icmp(NODE, HOST, 0x4242)) + pkt(0, icmp(NODE, HOST, 0x4242), sender=2)
    + pkt(1, icmp(HOST, NODE, 0x4242, 0)),
    "bound_port": bind(2, 1, 80) + pkt(0, tcp(NODE, 80, HOST, 9)) + pkt(1, tcp(HOST, 9, NODE, 80))
    + bind(2, 1, 80, op=4),
    "transfer": bind(0, 2, 53) + bytes([5, 0, 2, 0, 53, 3]) + pkt(0, udp(NODE, 53, HOST, 53), sender=3),
    "blacklist": bytes([6, 192, 0, 2, 0, 24, 1]) + pkt(0, udp(NODE, 1, HOST, 2)) + bytes([6, 192, 0, 2, 0, 24, 0]),
    "expiry": pkt(0, udp(NODE, 7, HOST, 8)) + bytes([7, 40, 255]) + pkt(1, udp(HOST, 8, NODE, 7)),
    "traceroute_error": pkt(0, udp(NODE, 33434, HOST, 33435)) + pkt(1, icmp_err(HOST, NODE, 11, udp(NODE, 33434, HOST, 33435))),
    "icmp_error_out": pkt(0, icmp_err(NODE, HOST, 3, udp(HOST, 1, NODE, 2))),
    "fragment": pkt(0, ip(NODE, HOST, 17, b"\x00" * 16, frag=0x2000)) + pkt(1, ip(HOST, NODE, 17, b"\x00" * 16, frag=0x0010)),
    "bad_ihl": pkt(0, ip(NODE, HOST, 17, b"\x00" * 8, ihl=15)) + pkt(0, ip(NODE, HOST, 17, b"\x00" * 8, ihl=3)),
    "bad_total": pkt(0, ip(NODE, HOST, 6, b"\x00" * 20, total=200)) + pkt(1, ip(HOST, NODE, 6, b"\x00" * 20, total=10)),
    "truncated": pkt(0, tcp(NODE, 1, HOST, 2)[:30]) + pkt(0, b"") + pkt(1, b"\x45"),
    "ethernet": pkt(0, udp(NODE, 9, HOST, 9), eth=True) + pkt(1, udp(HOST, 9, NODE, 9), eth=True),
    "proxy": bytes([8, 1, 0b0001011]) + pkt(1, tcp(HOST, 1, PROXY, 445)) + pkt(0, tcp(PROXY, 445, HOST, 1, 0x12), device=1)
    + bytes([8, 1, 0b10]),
    "packet_socket_refusals": bytes([8, 2, 0b11001]) + bytes([8, 2, 0b00101, 0x86, 0xdd]) + bytes([8, 2, 0b00111, 0x08, 0x00]),
    "loopback_peer": bind(2, 1, 80) + pkt(0, tcp(LO, 40000, LO, 80)) + pkt(0, tcp(LO, 80, LO, 40000, 0x12), sender=2)
    + bytes([9, 1]) + LO + struct.pack(">H", 80) + LO + struct.pack(">H", 40000),
    "batch_mixed": batch([(0, udp(NODE, 1000 + i, HOST, 53), 1 + i % 3) for i in range(6)]
                         + [(1, udp(HOST, 53, NODE, 1000 + i), 0) for i in range(6)]),
    "eviction": b"".join(pkt(0, udp(NODE, 2000 + i, HOST, 53), sender=1 + i % 3) for i in range(20)),
    "untrackable": pkt(0, ip(NODE, HOST, 47, b"\x00" * 8)) + pkt(1, ip(HOST, NODE, 47, b"\x00" * 8))
    + pkt(0, ip(NODE, HOST, 1, struct.pack(">BBHI", 10, 0, 0, 0))),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in CORPUS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
