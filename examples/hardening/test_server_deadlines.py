#!/usr/bin/env python3
"""Deadlines that trickling cannot defeat. Clients send one byte every 0.3 s (far faster than any
timeout, so every byte would restart an idle timer) in each phase: a partial command line, DATA
data, a BDAT chunk, the TLS handshake. Each must get 421 and be closed when the deadline of its
phase passes (--timeout 3, --data-timeout 2, --tls-timeout 1), not earlier; mid-handshake it is
closed without a 421, which could reach it neither in the clear nor over TLS. Clients that are
slow but make progress (a whole command per second, 64 KiB of data per second) keep their
connection."""
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
import server_lib
from server_lib import Client, Server, in_parallel, ok, run, server_kinds, tls_built, tmpdir

TIMEOUTS = {"command": 3, "data": 2, "tls": 1}
SLACK = 3.0  # a loaded machine or a sanitizer build answers late, never early


def trickle(c, data):
    """Sends `data` one byte at a time until the server closes; returns (seconds held, received)."""
    start = time.monotonic()
    c.sock.settimeout(0.3)
    limit = max(TIMEOUTS.values()) + SLACK + 5
    i = 0
    while time.monotonic() - start < limit:
        try:
            got = c.sock.recv(4096)
            if not got:
                return time.monotonic() - start, c.buf
            c.buf += got
        except socket.timeout:
            pass
        except ConnectionResetError:
            return time.monotonic() - start, c.buf
        try:
            c.sock.send(data[i % len(data):i % len(data) + 1])
            i += 1
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - start, c.buf
    return None, c.buf


def greeted(port):
    c = Client(port)
    c.expect(None, 220)
    return c


def in_transaction(port):
    c = greeted(port)
    c.expect("EHLO c.test", 250)
    c.expect("MAIL FROM:<a@c.test>", 250)
    c.expect("RCPT TO:<b@mx.test>", 250)
    return c


def partial_line(port):
    return trickle(greeted(port), b"EHLO a-client-that-never-finishes-its-line.test ")


def data(port):
    c = in_transaction(port)
    c.expect("DATA", 354)
    return trickle(c, b"Subject: slow\r\n\r\nx")


def bdat(port):
    c = in_transaction(port)
    c.send("BDAT 100000\r\n")
    return trickle(c, b"x")


def tls_handshake(port):
    c = greeted(port)
    c.expect("EHLO c.test", 250)
    c.expect("STARTTLS", 220)
    return trickle(c, b"\x16\x03\x01\x3e\x80" + b"\x01" * 100)  # a record header, then its body


def slow_commands(port):
    """A whole NOOP every second for 5 s: progress, so never cut off."""
    c = greeted(port)
    for _ in range(5):
        time.sleep(1)
        c.expect("NOOP", 250)
    c.expect("QUIT", 221)
    return True


def slow_data(port):
    """5 x 64 KiB of DATA, one block a second: above the minimum rate."""
    c = in_transaction(port)
    c.expect("DATA", 354)
    for _ in range(5):
        c.send(b"y" * 65534 + b"\r\n")
        time.sleep(1)
    c.expect(".", 250)
    return True


# name, client, which timeout applies, what the server logs it was waiting for
TRICKLES = [("a partial command line", partial_line, "command", "a command"),
            ("DATA", data, "data", "message data"),
            ("a BDAT chunk", bdat, "data", "message data"),
            ("the TLS handshake", tls_handshake, "tls", "the TLS handshake")]


def run_all(port, jobs):
    """Runs every job(port) in its own thread; returns {name: result or exception}."""
    results = {}

    def go(name, fn):
        try:
            results[name] = fn(port)
        except BaseException as e:  # reported by the caller
            results[name] = e

    threads = [threading.Thread(target=go, args=job) for job in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def check(kind, d):
    args = ["--timeout", str(TIMEOUTS["command"]), "--data-timeout", str(TIMEOUTS["data"]),
            "--tls-timeout", str(TIMEOUTS["tls"])]
    trickles = TRICKLES
    if tls_built():
        cert, key = server_lib.make_cert(d)
        args += ["--tls-cert", cert, "--tls-key", key]
    else:
        trickles = trickles[:-1]
    s = Server(kind, d, *args, name=kind)
    jobs = {name: fn for name, fn, _, _ in trickles}
    jobs.update({"slow commands": slow_commands, "slow data": slow_data})
    results = run_all(s.port, jobs)
    for name, _, which, phase in trickles:
        if not isinstance(results[name], tuple):
            raise AssertionError("%s: %s: %r" % (kind, name, results[name]))
        held, got = results[name]
        timeout = TIMEOUTS[which]
        assert held is not None, "%s: %s: still open after the test's limit" % (kind, name)
        assert which == "tls" or b"421 4.4.2" in got, "%s: %s: no 421: %r" % (kind, name, got[-200:])
        assert timeout - 0.5 <= held <= timeout + SLACK, "%s: %s: closed after %.1f s" % (kind, name, held)
        assert "timeout waiting for " + phase in s.log(), s.log()
        ok("%s: trickling %s: %s after %.1f s (deadline %d s)"
           % (kind, name, "closed" if which == "tls" else "421", held, timeout))
    for name in ("slow commands", "slow data"):
        assert results[name] is True, "%s: %s: %r" % (kind, name, results[name])
    ok("%s: slow clients that make progress keep their connection" % kind)
    s.stop()


def main():
    d = tmpdir()
    in_parallel(lambda kind: check(kind, d), server_kinds())


run(main)
