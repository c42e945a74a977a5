#!/usr/bin/env python3
"""A log pipe nobody drains never stalls the servers: with stdout and stderr on a pipe that is
not read, failed TLS handshakes and long message lines (no --maildir: one line per message on
stdout) fill it, and the server still answers every client at once. Lines that did not fit
are counted, and the count is logged once the pipe has room again."""
import os
import select
import sys
import time

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
import server_lib
from server_lib import Client, ok, run, server_kinds, tls_built, tmpdir

RCPTS = 100


class PipedServer:
    """A server whose stdout and stderr go to a pipe that is read only when the test says so."""

    def __init__(self, kind, *args):
        r, w = os.pipe()
        self.r = r
        self.server = server_lib.Server(kind, tmpdir(), *args, stdout=w)
        os.close(w)
        self.out = b""
        line = self.read_until(b"listening on")
        self.port = int(line.split(b"127.0.0.1:")[1].split()[0])

    def read_until(self, marker, timeout=30):
        deadline = time.monotonic() + timeout
        while marker not in self.out:
            assert time.monotonic() < deadline, "no %r in the server output: %r" % (marker, self.out[-500:])
            if select.select([self.r], [], [], 0.2)[0]:
                self.out += os.read(self.r, 65536)
        return self.out[self.out.index(marker):]

    def drain(self):
        while select.select([self.r], [], [], 0)[0]:
            data = os.read(self.r, 65536)
            if not data:
                break
            self.out += data


def long_envelopes(port, messages):
    """`messages` transactions of RCPTS recipients each, pipelined; the server logs a line of
    about 10 KB (cut to 4 KB) per message."""
    c = Client(port, timeout=10)
    c.expect(None, 220)
    c.expect("EHLO c.test", 250)
    one = b"MAIL FROM:<a@c.test>\r\n"
    one += b"".join(b"RCPT TO:<%s%03d@mx.test>\r\n" % (b"r" * 50, i) for i in range(RCPTS))
    one += b"DATA\r\n"
    for _ in range(messages):
        c.send(one)
        for _ in range(RCPTS + 1):
            c.reply()
        c.expect(None, 354)
        c.expect("Subject: x\r\n\r\nbody\r\n.", 250)
    c.close()


def failed_handshakes(port, n):
    for _ in range(n):
        c = Client(port, timeout=10)
        c.expect(None, 220)
        c.expect("EHLO c.test", 250)
        c.expect("STARTTLS", 220)
        c.send(b"\x16\x03\x01\x00\x05garbage that is no TLS record" * 4)
        assert c.closed(10) is not None, "a failed handshake did not close the connection"


def answers_promptly(port):
    start = time.monotonic()
    c = Client(port, timeout=5)
    c.expect(None, 220)
    c.expect("EHLO c.test", 250)
    c.expect("QUIT", 221)
    took = time.monotonic() - start
    assert took < 5, "a client waited %.1f s" % took


def check(kind, d):
    args = []
    if tls_built():
        cert, key = server_lib.make_cert(d)
        args = ["--tls-cert", cert, "--tls-key", key]
    s = PipedServer(kind, *args)
    if tls_built():
        failed_handshakes(s.port, 30)
    long_envelopes(s.port, 40)  # 160 KB of log lines: more than the pipe holds
    answers_promptly(s.port)
    assert s.server.alive()
    s.drain()
    long_envelopes(s.port, 1)
    s.read_until(b"log line(s) dropped)")
    s.server.stop()
    s.drain()
    stopping = s.read_until(b"stopping on").split(b"\n")[0]
    dropped = int(stopping.split(b" log line(s) dropped")[0].rsplit(b" ", 1)[1])
    assert dropped > 0, stopping
    os.close(s.r)
    return dropped


def main():
    d = tmpdir()
    for kind in server_kinds():
        dropped = check(kind, d)
        ok("%s: undrained log pipe: clients served at once, %d lines dropped and counted" % (kind, dropped))


run(main)
