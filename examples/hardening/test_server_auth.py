#!/usr/bin/env python3
"""--auth USER:PASS: the right credentials pass, and every near miss (a prefix, an extension,
one character off, another user, another authorization identity, an empty field) fails, with AUTH PLAIN and
AUTH LOGIN. The comparison itself runs in constant time (same_secret in connection.hpp); a
timing test would only measure the network here."""
import base64
import sys

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
from server_lib import Server, connect_and_greet, ok, run, server_kinds, tmpdir

USER, PASS = "mailer", "s3cret-Passw0rd"


def b64(s):
    return base64.b64encode(s.encode()).decode()


def plain(port, authzid, user, password):
    c = connect_and_greet(port)
    c.expect("EHLO c.test", 250)
    code, _ = c.cmd("AUTH PLAIN " + b64("%s\0%s\0%s" % (authzid, user, password)))
    c.close()
    return code


def login(port, user, password):
    c = connect_and_greet(port)
    c.expect("EHLO c.test", 250)
    c.expect("AUTH LOGIN", 334)
    c.expect(b64(user), 334)
    code, _ = c.cmd(b64(password))
    c.close()
    return code


def main():
    d = tmpdir()
    misses = [(USER, PASS[:-1]), (USER, PASS + "x"), (USER, PASS[:-1] + "X"), (USER, ""),
              (USER, "x" + PASS), (USER[:-1], PASS), (USER + "s", PASS), ("", PASS), (USER, PASS.upper())]
    for kind in server_kinds():
        s = Server(kind, d, "--auth", "%s:%s" % (USER, PASS), name=kind)
        assert plain(s.port, "", USER, PASS) == 235
        assert plain(s.port, USER, USER, PASS) == 235
        assert login(s.port, USER, PASS) == 235
        for user, password in misses:  # 535, or 501 for an empty field
            assert plain(s.port, "", user, password) in (501, 535), (user, password)
            assert login(s.port, user, password) in (501, 535), (user, password)
        assert plain(s.port, "other", USER, PASS) == 535
        s.stop()
        ok("%s: right credentials 235, %d near misses refused (PLAIN and LOGIN)" % (kind, len(misses) + 1))


run(main)
