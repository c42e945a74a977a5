#!/usr/bin/env python3
"""--auth USER:PASS: the right credentials pass, and every near miss (a prefix, an extension,
one character off, another user, another authorization identity, an empty field) fails, with AUTH PLAIN and
AUTH LOGIN. The comparison itself runs in constant time (same_secret in connection.hpp); a
timing test would only measure the network here.

With TLS configured, AUTH is offered only after STARTTLS (RFC 4954 4: no password in the
clear; an AUTH before it gets 530 5.7.0, or 538 5.7.11), unless --auth-without-tls offers it
before too (Postfix's smtpd_tls_auth_only = no)."""
import base64
import ssl
import sys

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
from server_lib import (Server, client_tls_context, connect_and_greet, make_cert, ok, run,
                        server_kinds, tls_built, tmpdir)

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
    if tls_built():
        check_tls_only(d)


def ehlo_offers_auth(c):
    return any(line[4:].upper().startswith("AUTH") for line in c.expect("EHLO c.test", 250).splitlines())


def starttls(c):
    c.expect("STARTTLS", 220)
    c.sock = client_tls_context().wrap_socket(c.sock, server_hostname="mx.test")


def check_tls_only(d):
    cert, key = make_cert(d)
    for kind in server_kinds():
        for without_tls in (False, True):
            extra = ["--auth-without-tls"] if without_tls else []
            s = Server(kind, d, "--auth", "%s:%s" % (USER, PASS), "--tls-cert", cert, "--tls-key", key,
                       *extra, name="%s-tls" % kind)
            c = connect_and_greet(s.port)
            assert ehlo_offers_auth(c) == without_tls
            code, _ = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASS)))
            assert code == (235 if without_tls else 530) or (not without_tls and code == 538), code
            c.close()
            c = connect_and_greet(s.port)
            c.expect("EHLO c.test", 250)
            starttls(c)
            assert ehlo_offers_auth(c)
            assert c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASS)))[0] == 235
            c.close()
            s.stop()
            ok("%s with TLS%s: AUTH %s before STARTTLS, offered and accepted after it" %
               (kind, " and --auth-without-tls" if without_tls else "",
                "offered and accepted" if without_tls else "neither offered nor accepted"))


run(main)
