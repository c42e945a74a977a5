#!/usr/bin/python3
"""Holds N connections to an smtpp example server open at once: greeting and EHLO on every one,
a pipelined message on every tenth, QUIT on all; prints the server's resident memory while all
are open.  usage: many_connections.py PORT N SERVER_PID MAX_RSS_MB"""
import resource
import selectors
import socket
import sys
import time

port, n, pid, max_rss = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
if hard < n + 50:
    print("SKIP: only %d file descriptors" % hard)
    sys.exit(77)


def rss_mb():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


base = rss_mb()
deadline = time.time() + 40
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setblocking(False)
    conns.append(s)
sel = selectors.DefaultSelector()
bufs = {}
for s in conns:
    sel.register(s, selectors.EVENT_READ)
    bufs[s] = b""


def wait_all(done, what):
    """Reads until done(buffer) holds for every connection."""
    waiting = set(conns)
    while waiting:
        if time.time() > deadline:
            raise SystemExit("timeout waiting for %s on %d connections" % (what, len(waiting)))
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                data = b"<EOF>"
                sel.unregister(s)
            bufs[s] += data
            if s in waiting and done(bufs[s]):
                waiting.discard(s)


def send_all(make):
    for i, s in enumerate(conns):
        data = make(i)
        if data:
            s.setblocking(True)
            s.sendall(data)
            s.setblocking(False)


wait_all(lambda b: b.startswith(b"220 ") and b.endswith(b"\r\n"), "greeting")
for s in conns:
    bufs[s] = b""
send_all(lambda i: b"EHLO c%d.test\r\n" % i)
wait_all(lambda b: b"\r\n250 " in b"\r\n" + b and b.endswith(b"\r\n"), "EHLO reply")
rss = rss_mb()
print("%d connections open: server RSS %.1f MB (%.1f MB before, %.1f KB per connection)"
      % (n, rss, base, (rss - base) * 1024 / n))
for s in conns:
    bufs[s] = b""
senders = [s for i, s in enumerate(conns) if i % 10 == 0]
everyone, conns = conns, senders
send_all(lambda i: b"MAIL FROM:<a@client.test>\r\nRCPT TO:<x%d@mx.test>\r\nDATA\r\n" % i)
wait_all(lambda b: b"354 " in b, "354")
send_all(lambda i: b"Subject: many\r\n\r\n..dot\r\nbody\r\n.\r\n")
wait_all(lambda b: b"\r\n250 2.0.0" in b, "message reply")
conns = everyone
for s in conns:
    bufs[s] = b""
send_all(lambda i: b"QUIT\r\n")
wait_all(lambda b: b.startswith(b"221 ") and b.endswith(b"<EOF>"), "221 and close")
for s in conns:
    s.close()
print("all %d connections got 220, EHLO, QUIT; %d messages sent" % (n, len(senders)))
if rss > max_rss:
    raise SystemExit("server RSS %.1f MB above %d MB" % (rss, max_rss))
