#!/usr/bin/python3
"""Clients that pipeline commands and never read the replies must not grow the server: the
session stops reading once its output buffer is full. K connections each push up to 8 MB of
NOOPs without reading; meanwhile a normal client still gets served; the server's resident
memory must stay under MAX_RSS_MB.  usage: slow_readers.py PORT K SERVER_PID MAX_RSS_MB"""
import socket
import sys
import time

port, k, pid, max_rss = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def rss_mb():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


chunk = b"NOOP\r\n" * 10000
pushers = []
for i in range(k):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    pushers.append([s, 0])
deadline = time.time() + 8
while time.time() < deadline:
    progress = False
    for p in pushers:
        if p[1] >= 8 << 20:
            continue
        try:
            p[1] += p[0].send(chunk)
            progress = True
        except BlockingIOError:
            pass
    if not progress:
        break  # every pusher is blocked: the server stopped reading them
    time.sleep(0.001)
pushed = sum(p[1] for p in pushers)
rss = rss_mb()
# A well-behaved client is still served.
c = socket.create_connection(("127.0.0.1", port), timeout=10)
f = c.makefile("rb")
assert f.readline().startswith(b"220 ")
c.sendall(b"NOOP\r\nQUIT\r\n")
assert f.readline().startswith(b"250 ")
assert f.readline().startswith(b"221 ")
c.close()
for p in pushers:
    p[0].close()
print("%d clients pushed %.1f MB of NOOPs without reading; server RSS %.1f MB; another client was served"
      % (k, pushed / 1048576.0, rss))
if rss > max_rss:
    raise SystemExit("server RSS %.1f MB above %d MB" % (rss, max_rss))
if pushed >= k * (8 << 20):
    raise SystemExit("the server read everything: output back-pressure did not stop it")
