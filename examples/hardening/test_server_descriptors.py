#!/usr/bin/env python3
"""File descriptors:

  * the connection cap follows RLIMIT_NOFILE (ulimit -n 64: 24 connections, each of which can
    be in DATA with its message file open); the next client gets 421 4.3.2;
  * when descriptors run out anyway (the limit lowered under the running server, as prlimit
    does), a new client gets 421 4.3.2 at once instead of waiting unanswered, the server does
    not spin, DATA gets 452 4.3.1 (the message file cannot be created) with the right errno in
    the log, and service resumes when descriptors are free again;
  * the maildir gone: DATA and BDAT get 452 4.3.1 before any body is promised or acknowledged.
"""
import os
import resource
import shutil
import sys
import time

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
import server_lib
from server_lib import Client, Server, connect_and_greet, ok, run, server_kinds, tmpdir, wait_until


def start_message(c, rcpt="x@mx.test"):
    c.expect("EHLO c.test", 250)
    c.expect("MAIL FROM:<a@c.test>", 250)
    c.expect("RCPT TO:<%s>" % rcpt, 250)
    return c.cmd("DATA")


def cap_follows_limit(kind, d):
    md = os.path.join(d, kind + "-cap")
    os.mkdir(md)
    s = Server(kind, d, "--maildir", md, name=kind + "-cap", limits={resource.RLIMIT_NOFILE: 64})
    s.wait_log(r"at most 24 connections: RLIMIT_NOFILE is 64")
    clients = [connect_and_greet(s.port) for _ in range(24)]
    for c in clients:
        code, text = start_message(c)
        assert code == 354, text
    extra = Client(s.port)
    code, text = extra.reply()
    assert code == 421 and "4.3.2" in text, text
    for c in clients:
        c.expect("Subject: x\r\n\r\nhello\r\n.", 250)
        c.expect("QUIT", 221)
    assert len([n for n in os.listdir(md) if n.endswith(".eml")]) == 24
    s.stop()


def open_descriptors(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def out_of_descriptors(kind, d):
    md = os.path.join(d, kind + "-emfile")
    os.mkdir(md)
    s = Server(kind, d, "--maildir", md, name=kind + "-emfile")
    first = connect_and_greet(s.port)  # the loop is running, its descriptors are open
    limit = open_descriptors(s.pid) + 2
    resource.prlimit(s.pid, resource.RLIMIT_NOFILE, (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    a, b = connect_and_greet(s.port), connect_and_greet(s.port)
    start = time.monotonic()
    late = Client(s.port, timeout=10)
    code, text = late.reply()
    assert code == 421 and "4.3.2" in text, text
    assert time.monotonic() - start < 5, "the 421 took %.1f s" % (time.monotonic() - start)
    s.wait_log(r"turned away with 421: accept: Too many open files")
    cpu = server_lib.cpu_seconds(s.pid)
    code, text = start_message(a)
    assert code == 452 and "4.3.1" in text, text
    s.wait_log(r"cannot create .*\.eml: Too many open files")
    time.sleep(1)
    spent = server_lib.cpu_seconds(s.pid) - cpu
    assert spent < 0.5, "the server spun: %.2f s of CPU in 1 s" % spent
    b.expect("QUIT", 221)
    b.close()
    def served():
        c = Client(s.port)
        code, _ = c.reply()
        c.close()
        return code == 220
    wait_until(served, 10, "a 220 once a descriptor is free")
    a.expect("RSET", 250)
    first.close()
    a.close()
    resource.prlimit(s.pid, resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    c = connect_and_greet(s.port)
    assert start_message(c)[0] == 354
    c.expect("hello\r\n.", 250)
    s.stop()


def maildir_gone(kind, d):
    md = os.path.join(d, kind + "-gone")
    os.mkdir(md)
    s = Server(kind, d, "--maildir", md, name=kind + "-gone")
    shutil.rmtree(md)  # removing the directory fails the file creation as root too
    c = connect_and_greet(s.port)
    code, text = start_message(c)
    assert code == 452 and "4.3.1" in text, text
    s.wait_log(r"cannot create .*: No such file or directory")
    c.expect("RSET", 250)
    c.expect("MAIL FROM:<a@c.test>", 250)
    c.expect("RCPT TO:<x@mx.test>", 250)
    c.send("BDAT 5\r\nhello")
    code, text = c.reply()
    assert code == 452 and "4.3.1" in text, text
    os.mkdir(md)
    c.expect("RSET", 250)
    c.expect("MAIL FROM:<a@c.test>", 250)
    c.expect("RCPT TO:<x@mx.test>", 250)
    c.send("BDAT 5 LAST\r\nhello")
    c.expect(None, 250)
    assert len(os.listdir(md)) == 2
    s.stop()


def vptr_checked(kind):
    """UBSan's vptr check probes memory through a pipe: in a process out of descriptors the
    probe fails and it reports a false "invalid vptr" (the Asio servers compare error codes, whose
    categories are polymorphic). Such a build cannot run out of descriptors."""
    return kind in ("asio", "coro") and server_lib.sanitized(server_lib.binary(kind), b"__ubsan_handle_dynamic_type_cache_miss")


def main():
    d = tmpdir()
    for kind in server_kinds():
        cap_follows_limit(kind, d)
        ok("%s: RLIMIT_NOFILE 64: 24 connections, all in DATA at once; the 25th gets 421" % kind)
        if vptr_checked(kind):
            print("%s: built with UBSan's vptr check, which needs descriptors: running out of them skipped" % kind)
        else:
            out_of_descriptors(kind, d)
            ok("%s: out of descriptors: 421 4.3.2 at once, no spinning, DATA 452 4.3.1, then service again" % kind)
        maildir_gone(kind, d)
        ok("%s: maildir gone: DATA and BDAT get 452 4.3.1" % kind)


run(main)
