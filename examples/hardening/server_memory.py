#!/usr/bin/env python3
"""Memory a server holds per connection, measured as the growth of its resident set.

  server_memory.py PORT PID N [--tls] [--burst | --stall]

Opens N connections to 127.0.0.1:PORT (greeting, EHLO; with --tls STARTTLS and EHLO again)
and reads every reply, so each connection is drained and idle. With --burst each connection
first pipelines 1000 EHLO commands and reads their replies only once the server stopped reading
it (its buffers grew to their limits), then drains them. Prints the server's VmRSS growth per
connection in KiB. With --stall the connections pipeline the same burst and never read: what a
connection that stops reading pins. Also used by test_server_memory.py.
"""
import selectors
import socket
import ssl
import sys
import time

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
import server_lib

BURST = 1000  # EHLOs: 17 KB that the server answers with about 250 KB


def read_all(socks, done, timeout=120):
    """Reads every socket until done(received bytes) holds for it."""
    sel = selectors.DefaultSelector()
    got = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        got[s] = b""
    waiting = len(socks)
    deadline = time.monotonic() + timeout
    while waiting:
        if time.monotonic() > deadline:
            raise AssertionError("%d connections still waiting for replies" % waiting)
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                while True:
                    data = s.recv(65536)
                    if not data:
                        raise AssertionError("server closed a connection: %r" % got[s][-200:])
                    got[s] += data
            except (BlockingIOError, ssl.SSLWantReadError):
                pass
            if done(got[s]):
                sel.unregister(s)
                waiting -= 1
    sel.close()
    for s in socks:
        s.setblocking(True)
    return got


def ends_with_replies(n):
    """done() for n complete EHLO replies (each ends with a "250 " line)."""
    return lambda b: b.count(b"\r\n250 ") + b.startswith(b"250 ") >= n and b.endswith(b"\r\n")


def open_idle(port, n, tls=False, burst=False, source="127.0.0.1", stall=False):
    """n drained idle connections (see the module comment); with stall, n that stopped reading."""
    socks = []
    for i in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        socks.append(s)
    read_all(socks, lambda b: b.endswith(b"\r\n") and b[:1] == b"2")
    for s in socks:
        s.sendall(b"EHLO memory.test\r\n")
    read_all(socks, ends_with_replies(1))
    if tls:
        for s in socks:
            s.sendall(b"STARTTLS\r\n")
        read_all(socks, lambda b: b.endswith(b"\r\n"))
        ctx = server_lib.client_tls_context()
        socks = [ctx.wrap_socket(s, server_hostname="mx.test") for s in socks]
        for s in socks:
            s.sendall(b"EHLO memory.test\r\n")
        read_all(socks, ends_with_replies(1))
    if burst or stall:
        for s in socks:
            s.sendall(b"EHLO burst.test\r\n" * BURST)
        time.sleep(0.5)
        if stall:
            return socks  # the server fills its buffers and stops reading
        read_all(socks, ends_with_replies(BURST))
    return socks


def per_connection_kib(port, pid, n, tls=False, burst=False, stall=False):
    """VmRSS growth per connection, in KiB; warm-up connections first."""
    for s in open_idle(port, 5, tls, burst):
        s.close()
    time.sleep(0.3)
    before = server_lib.rss_kb(pid)
    socks = open_idle(port, n, tls, burst, stall=stall)
    time.sleep(0.5)
    during = server_lib.rss_kb(pid)
    for s in socks:
        s.close()
    return (during - before) / float(n)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        print(__doc__)
        return 2
    port, pid, n = int(args[0]), int(args[1]), int(args[2])
    server_lib.raise_fd_limit(n + 64)
    tls, burst, stall = "--tls" in sys.argv, "--burst" in sys.argv, "--stall" in sys.argv
    kib = per_connection_kib(port, pid, n, tls, burst, stall)
    what = " that stopped reading" if stall else " drained after a burst" if burst else " drained and idle"
    print("%d %s connections%s: %.2f KiB each" % (n, "TLS" if tls else "plaintext", what, kib))
    return 0


if __name__ == "__main__":
    sys.exit(main())
