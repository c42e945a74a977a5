#!/usr/bin/env python3
"""Opens N idle SMTP connections to a server and reports its resident memory.

  idle_connections.py PORT N PID [--ehlo] [--hold SECONDS]

Connects N times to 127.0.0.1:PORT, reads the 220 greeting on every connection (and, with
--ehlo, sends EHLO and reads the whole reply), then reads VmRSS of process PID from
/proc/PID/status: before the first connection, with all N open, and after they are closed.
Every connection must get its greeting (a 421 "too many connections" counts as a failure).
Exits 0 on success, 1 on failure, 77 when this process cannot have N + 64 descriptors.
"""
import resource
import selectors
import socket
import sys
import time


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))  # root may raise the hard limit
            return True
        except (ValueError, OSError):
            return False
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return True


def read_until(conns, done, what, timeout):
    """Reads every connection until done(buffer) holds for each; fails on EOF or timeout."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in conns:
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    waiting = len(conns)
    deadline = time.time() + timeout
    while waiting:
        if time.time() > deadline:
            raise SystemExit("timeout waiting for %s on %d connections" % (what, waiting))
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            data = s.recv(4096)
            if not data:
                raise SystemExit("connection closed before %s: %r" % (what, bufs[s][:80]))
            bufs[s] += data
            if done(bufs[s]):
                sel.unregister(s)
                waiting -= 1
    sel.close()
    return bufs


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        print(__doc__)
        return 2
    port, n, pid = int(args[0]), int(args[1]), int(args[2])
    ehlo = "--ehlo" in sys.argv
    if not raise_fd_limit(n + 64):
        print("SKIP: this process cannot have %d descriptors" % (n + 64))
        return 77
    before = rss_kb(pid)
    start = time.time()
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.setblocking(False)
        conns.append(s)
    bufs = read_until(conns, lambda b: b.endswith(b"\r\n"), "the greeting", 60)
    refused = [b for b in bufs.values() if not b.startswith(b"220")]
    if refused:
        raise SystemExit("%d connections refused, e.g. %r" % (len(refused), refused[0][:80]))
    if ehlo:
        for i, s in enumerate(conns):
            s.setblocking(True)
            s.sendall(b"EHLO c%d.test\r\n" % i)
            s.setblocking(False)
        read_until(conns, lambda b: b"\r\n250 " in b"\r\n" + b and b.endswith(b"\r\n"), "the EHLO reply", 60)
    opened = time.time() - start
    time.sleep(0.3)  # let the server settle
    during = rss_kb(pid)
    for s in conns:
        s.close()
    time.sleep(1.0)  # the server notices the closes
    after = rss_kb(pid)
    print("%d idle connections%s open in %.1f s: server VmRSS %.1f MiB (%.1f MiB before, %.2f KiB per "
          "connection; %.1f MiB after closing them)"
          % (n, " (after EHLO)" if ehlo else "", opened, during / 1024.0, before / 1024.0,
             (during - before) / float(n), after / 1024.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
