#!/usr/bin/env python3
"""Memory per connection:

  * a connection drained after a burst (1000 pipelined EHLOs, read only once the server
    stopped reading) holds at most 4 KiB in plaintext and 80 KiB with TLS (OpenSSL's own
    state is about 17 KiB of it, the rest heap fragmentation from the handshakes), measured as
    the server's resident memory growth over 100 connections (skipped for sanitizer builds,
    whose allocator changes every figure);
  * --memory-budget 1: clients that pipeline commands and never read the replies are closed,
    largest first, until the connections fit in 1 MiB; a client that reads is served all along.
"""
import socket
import sys
import time

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
import server_lib
import server_memory
from server_lib import Client, Server, in_parallel, ok, run, server_kinds, tls_built, tmpdir, wait_until

N = 100
LIMIT_KIB = {False: 4.0, True: 80.0}


def drained(kind, d):
    args = ["--max-per-client", "0"]
    if tls_built():
        cert, key = server_lib.make_cert(d)
        args += ["--tls-cert", cert, "--tls-key", key]
    s = Server(kind, d, *args, name=kind + "-drained")
    figures = []
    for tls in ([False, True] if tls_built() else [False]):
        kib = server_memory.per_connection_kib(s.port, s.pid, N, tls=tls, burst=True)
        what = "TLS" if tls else "plaintext"
        assert kib <= LIMIT_KIB[tls], "%s: a drained %s connection holds %.1f KiB" % (kind, what, kib)
        figures.append("%s %.1f KiB" % (what, kib))
    s.stop()
    return ", ".join(figures)


def push_until_blocked(socks, seconds=20):
    """Pipelines EHLOs on every socket without reading until the server stops reading them all."""
    chunk = b"EHLO stalled.test\r\n" * 4000
    blocked_since = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        moved = False
        for s in socks:
            try:
                moved = s.send(chunk) > 0 or moved
            except BlockingIOError:
                pass
            except OSError:
                pass  # closed by the server already
        if moved:
            blocked_since = None
        elif blocked_since is None:
            blocked_since = time.monotonic()
        elif time.monotonic() - blocked_since > 1:
            return
        time.sleep(0.01)
    raise AssertionError("the server kept reading clients that never read")


def settled(count, quiet=1.0):
    """count() once it has not changed for `quiet` seconds, else None."""
    first = count()
    time.sleep(quiet)
    return first if first and count() == first else None


def budget(kind, d):
    s = Server(kind, d, "--max-per-client", "0", "--memory-budget", "1", name=kind + "-budget")
    stalled = []
    for _ in range(20):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", s.port))
        sock.setblocking(False)
        stalled.append(sock)
    reader = Client(s.port)
    reader.expect(None, 220)
    push_until_blocked(stalled)
    s.wait_log(r"closed: not reading, \d+ KiB held \(memory budget\)")
    reader.expect("EHLO reader.test", 250)
    shed = wait_until(lambda: settled(lambda: s.log().count("(memory budget)")), 20,
                      "the server to stop closing connections")
    # Each holds 64 KiB or more of output, so at least 7 must go for 1 MiB, and about 80 KiB
    # at most, so 12 can stay.
    assert 7 <= shed <= 13, "%d of 20 closed" % shed
    assert "127.0.0.1:%d:" % reader.sock.getsockname()[1] not in s.log(), "a reading client was closed"
    reader.expect("QUIT", 221)
    for sock in stalled:
        sock.close()
    s.stop()
    return shed


def check(kind, d):
    if server_lib.sanitized(server_lib.binary(kind)):
        print("%s: sanitizer build, memory figures skipped" % kind)
    else:
        ok("%s: per drained connection after a burst: %s" % (kind, drained(kind, d)))
    shed = budget(kind, d)
    ok("%s: --memory-budget 1: %d of 20 clients that stopped reading closed; the reader served" % (kind, shed))


def main():
    d = tmpdir()
    server_lib.raise_fd_limit(2 * N + 128)
    in_parallel(lambda kind: check(kind, d), server_kinds())


run(main)
