#!/usr/bin/env python3
"""How many connection slots one client can hold, and stress mode:

  * --max-per-client 3: a fourth connection from 127.0.0.2 gets 421 4.7.0 while 127.0.0.3 is
    still served; once one of the three is closed, 127.0.0.2 is served again. The default is 50.
  * --max-connections 8: while 6 (3/4) or more slots are taken, every deadline is cut to
    --stress-timeout 1, so the clients idle for longer get 421 at once instead of after
    --timeout 60; below that, the normal deadline applies again.
"""
import sys
import time

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
from server_lib import (Client, Server, connect_and_greet, in_parallel, ok, run, server_kinds, tmpdir,
                        wait_until)


def served(port, source):
    c = Client(port, source)
    code, text = c.reply()
    c.close()
    return code == 220


def per_client_cap(kind, d):
    s = Server(kind, d, "--max-per-client", "3", name=kind + "-cap")
    held = [connect_and_greet(s.port, "127.0.0.2") for _ in range(3)]
    extra = Client(s.port, "127.0.0.2")
    code, text = extra.reply()
    assert code == 421 and "4.7.0" in text, text
    assert served(s.port, "127.0.0.3"), "another address was refused"
    held.pop().expect("QUIT", 221)
    wait_until(lambda: served(s.port, "127.0.0.2"), 10, "127.0.0.2 served again")
    s.stop()


def default_cap(kind, d):
    s = Server(kind, d, name=kind + "-default")
    held = [connect_and_greet(s.port, "127.0.0.4") for _ in range(50)]
    code, text = Client(s.port, "127.0.0.4").reply()
    assert code == 421 and "4.7.0" in text, text
    for c in held:
        c.close()
    s.stop()


def stress(kind, d):
    s = Server(kind, d, "--max-connections", "8", "--max-per-client", "0", "--timeout", "60",
               "--stress-timeout", "1", name=kind + "-stress")
    idle = [connect_and_greet(s.port) for _ in range(5)]
    for c in idle:  # 1.5 s: longer than --stress-timeout, but 5 of 8 is no stress
        assert c.closed(0.3) is None, "cut off without stress"
    sixth = connect_and_greet(s.port)  # 6 of 8: stress
    start = time.monotonic()
    for c in idle:
        got = c.closed(10)
        assert got is not None and b"421 4.4.2" in got, "no 421 under stress: %r" % got
    took = time.monotonic() - start
    assert took < 5, "stress mode took %.1f s to clear the idle clients" % took
    s.wait_log("entering stress mode: 6 of 8")
    s.wait_log("leaving stress mode")
    sixth.close()
    c = connect_and_greet(s.port)
    assert c.closed(1.5) is None, "cut off after stress mode ended"
    c.expect("NOOP", 250)
    s.stop()
    return took


def check(kind, d):
    per_client_cap(kind, d)
    ok("%s: --max-per-client 3: the 4th connection from one address gets 421 4.7.0" % kind)
    default_cap(kind, d)
    ok("%s: by default one address holds at most 50 connections" % kind)
    took = stress(kind, d)
    ok("%s: stress mode at 6 of 8 slots: idle clients got 421 within %.1f s, then normal deadlines"
       % (kind, took))


def main():
    d = tmpdir()
    in_parallel(lambda kind: check(kind, d), server_kinds())


run(main)
