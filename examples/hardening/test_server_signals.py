#!/usr/bin/env python3
"""Signals whose default action kills a process stop the servers cleanly: every client gets
421, the message being received is not stored and its temporary file is removed, the exit
status is 0. SIGPIPE and SIGXFSZ are ignored."""
import glob
import os
import signal
import sys

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
from server_lib import Server, connect_and_greet, ok, run, server_kinds, tmpdir, wait_until

STOPPING = [signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1,
            signal.SIGUSR2, signal.SIGALRM, signal.SIGXCPU, signal.SIGVTALRM, signal.SIGPROF,
            signal.SIGIO, signal.SIGPWR, signal.SIGRTMIN + 2]


def in_data(port):
    """A client in the middle of a message, and the temporary file the server writes it to."""
    c = connect_and_greet(port)
    c.expect("EHLO c.test", 250)
    c.expect("MAIL FROM:<a@c.test>", 250)
    c.expect("RCPT TO:<b@mx.test>", 250)
    c.expect("DATA", 354)
    c.send(b"Subject: interrupted\r\n\r\n" + b"x" * 20000 + b"\r\n")
    return c


def stops_cleanly(kind, sig, d):
    md = os.path.join(d, "%s-%d" % (kind, sig))
    os.mkdir(md)
    s = Server(kind, d, "--maildir", md, name="%s-%d" % (kind, sig))
    idle = connect_and_greet(s.port)
    sending = in_data(s.port)
    wait_until(lambda: glob.glob(os.path.join(md, ".tmp-*")), 10, "the message's temporary file")
    s.stop(sig)
    for c in (idle, sending):
        got = c.closed(10)
        assert got is not None and b"421 4.3.2" in got, "%s: no 421 on signal %d: %r" % (kind, sig, got)
    left = os.listdir(md)
    assert not left, "%s: left in the maildir after signal %d: %s" % (kind, sig, left)
    assert "stopping on signal %d" % sig in s.log(), s.log()


def ignores(kind, d):
    s = Server(kind, d, name=kind + "-ignore")
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        os.kill(s.pid, sig)
    c = connect_and_greet(s.port)
    c.expect("NOOP", 250)
    assert s.alive()
    s.stop()


def main():
    d = tmpdir()
    for kind in server_kinds():
        for sig in STOPPING:
            stops_cleanly(kind, sig, d)
        ok("%s: %d signals stop it with 421, no temporary file left, status 0" % (kind, len(STOPPING)))
        ignores(kind, d)
        ok("%s: SIGPIPE and SIGXFSZ ignored" % kind)


run(main)
