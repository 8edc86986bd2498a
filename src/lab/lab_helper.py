#!/usr/bin/env python3
"""Traffic for csumtop's namespace lab (src/lab/lab.ts: the lab tests and --demo). Run inside a namespace with
`ip netns exec NS python3 lab_helper.py COMMAND ...`. Standard library only.

  serve ADDR DNS_PORT TCP_PORT SINK_PORT
      DNS responder (answers A queries), TCP echo server and UDP sink on ADDR. Prints
      one JSON line per event: {"ready":true}, {"dns":NAME}, {"sink":PAYLOAD},
      {"tcp":BYTES_ECHOED}. Runs until killed.
  dns SERVER PORT COUNT [FROM [TIMEOUT]]
      COUNT A queries, one at a time (TIMEOUT seconds each, default 2), sent from address
      FROM when given; prints a JSON list of results.
  tcp SERVER PORT BYTES [TIMEOUT]
      Sends BYTES to the echo server, reads them back; prints {"sent","received","match"}.
      With TIMEOUT (seconds), a connection that does not complete in time is a result,
      {"sent":0,"received":0,"match":false,"error":"..."}, not a failure of the helper.
  udp SERVER PORT PAYLOAD...
      One datagram per PAYLOAD; prints {"sent":N}.
  inject IFNAME [vnet]
      Sends the frames given on stdin (one hex string per line) on IFNAME through a raw
      AF_PACKET socket. With `vnet` the socket has PACKET_VNET_HDR set and each line is
      VNETHDR_HEX:FRAME_HEX (struct virtio_net_hdr, 10 bytes, little-endian fields).
  inject-many
      Like inject, on many interfaces from one process: each line on stdin is
      IFNAME FRAME_HEX. Prints {"sent":N}.
"""
import json
import socket
import struct
import sys
import threading
import time

SOL_PACKET = 263
PACKET_VNET_HDR = 15


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def qname_at(msg, off):
    labels = []
    while off < len(msg):
        n = msg[off]
        if n == 0:
            return ".".join(labels), off + 1
        if n & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(msg[off + 1: off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    raise ValueError("name runs past the message")


def dns_answer(query, serial):
    """RFC 1035 response: the question echoed, one A record 10.96.0.X (X from the name)."""
    qid, _flags, qd = struct.unpack("!HHH", query[:6])
    name, end = qname_at(query, 12)
    qtype, qclass = struct.unpack("!HH", query[end:end + 4])
    question = query[12:end + 4]
    if qd != 1 or qtype != 1 or qclass != 1:
        return struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question, name
    addr = bytes([10, 96, 0, 1 + serial % 250])
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 30, 4) + addr
    return struct.pack("!HHHHHH", qid, 0x8580, 1, 1, 0, 0) + question + rr, name


def serve(addr, dns_port, tcp_port, sink_port):
    lock = threading.Lock()

    def emit(obj):
        with lock:
            out(obj)

    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind((addr, dns_port))
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((addr, sink_port))
    lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind((addr, tcp_port))
    lsn.listen(64)

    def dns_loop():
        serial = 0
        while True:
            q, peer = dns.recvfrom(4096)
            try:
                a, name = dns_answer(q, serial)
            except (ValueError, struct.error):
                continue
            serial += 1
            dns.sendto(a, peer)
            emit({"dns": name})

    def sink_loop():
        while True:
            data, _peer = sink.recvfrom(65535)
            emit({"sink": data.decode("ascii", "replace")})

    def echo(conn):
        total = 0
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
                total += len(data)
        emit({"tcp": total})

    def accept_loop():
        while True:
            conn, _peer = lsn.accept()
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    for f in (dns_loop, sink_loop, accept_loop):
        threading.Thread(target=f, daemon=True).start()
    emit({"ready": True})
    while True:
        time.sleep(3600)


def dns_client(server, port, count, source=None, timeout=2.0):
    results = []
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    for i in range(count):
        name = "svc%d.lab.cluster.local" % i
        qid = 0x4000 + i
        labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
        q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + struct.pack("!HH", 1, 1)
        t0 = time.monotonic()
        s.sendto(q, (server, port))
        try:
            while True:
                a, _ = s.recvfrom(4096)
                if struct.unpack("!H", a[:2])[0] == qid:
                    break
            ancount = struct.unpack("!H", a[6:8])[0]
            results.append({"name": name, "ok": ancount == 1, "address": ".".join(str(b) for b in a[-4:]),
                            "ms": round((time.monotonic() - t0) * 1000, 2)})
        except socket.timeout:
            results.append({"name": name, "ok": False, "error": "timeout"})
    out(results)


def tcp_client(server, port, nbytes, timeout=None):
    data = bytes((i * 7 + 3) & 0xFF for i in range(nbytes))
    if timeout is not None:
        try:
            s = socket.create_connection((server, port), timeout=timeout)
        except OSError as e:  # socket.timeout is an OSError
            out({"sent": 0, "received": 0, "match": False, "error": str(e) or type(e).__name__})
            return
        s.settimeout(10)  # the timeout bounds the connection set-up; the transfer keeps the usual 10 s
    else:
        s = socket.create_connection((server, port), timeout=10)
    received = bytearray()

    def reader():
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return
            received.extend(chunk)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(20)
    s.close()
    out({"sent": len(data), "received": len(received), "match": bytes(received) == data})


def udp_client(server, port, payloads):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for p in payloads:
        s.sendto(p.encode(), (server, port))
    out({"sent": len(payloads)})


def inject(ifname, vnet):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    if vnet:
        s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.bind((ifname, 0))
    sent = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if vnet:
            hdr, frame = line.split(":")
            buf = bytes.fromhex(hdr) + bytes.fromhex(frame)
        else:
            buf = bytes.fromhex(line)
        s.send(buf)
        sent += 1
        time.sleep(0.002)
    out({"sent": sent})


def inject_many():
    socks = {}
    sent = 0
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 2:
            continue
        ifname, frame = parts
        s = socks.get(ifname)
        if s is None:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            s.bind((ifname, 0))
            socks[ifname] = s
        s.send(bytes.fromhex(frame))
        sent += 1
    for s in socks.values():
        s.close()
    out({"sent": sent})


def main(argv):
    cmd = argv[1]
    if cmd == "serve":
        serve(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif cmd == "dns":
        dns_client(argv[2], int(argv[3]), int(argv[4]), argv[5] if len(argv) > 5 and argv[5] else None,
                   float(argv[6]) if len(argv) > 6 else 2.0)
    elif cmd == "tcp":
        tcp_client(argv[2], int(argv[3]), int(argv[4]), float(argv[5]) if len(argv) > 5 else None)
    elif cmd == "udp":
        udp_client(argv[2], int(argv[3]), argv[4:])
    elif cmd == "inject":
        inject(argv[2], len(argv) > 3 and argv[3] == "vnet")
    elif cmd == "inject-many":
        inject_many()
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
