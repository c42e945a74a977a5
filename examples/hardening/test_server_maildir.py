#!/usr/bin/env python3
"""--maildir: a message the server refuses leaves nothing behind, so the client's retry stores
it exactly once, and temporary files of a server that is gone are removed at start.

  * the envelope cannot be written (RLIMIT_FSIZE below its size, lifted for the retry);
  * the envelope cannot be renamed into place (a directory already has its name);
  * stale .tmp-* files of a dead process are removed at start, other files kept.
"""
import os
import resource
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
from server_lib import Server, connect_and_greet, ok, run, server_kinds, tmpdir

BODY = "Subject: retried\r\n\r\nhello\r\n"


def send(port, rcpts):
    """One message; returns the final reply code."""
    c = connect_and_greet(port)
    c.expect("EHLO c.test", 250)
    c.expect("MAIL FROM:<a@c.test>", 250)
    for r in rcpts:
        c.expect("RCPT TO:<%s>" % r, 250)
    c.expect("DATA", 354)
    code, _ = c.cmd(BODY + ".")
    c.expect("QUIT", 221)
    return code


def stored(md):
    """Names in the maildir, directories left out."""
    return sorted(n for n in os.listdir(md) if not os.path.isdir(os.path.join(md, n)))


def envelope_write_fails(kind, d):
    md = os.path.join(d, kind + "-fsize")
    os.mkdir(md)
    s = Server(kind, d, "--maildir", md, name=kind + "-fsize", limits={resource.RLIMIT_FSIZE: (2048, resource.RLIM_INFINITY)})
    rcpts = ["%s%02d@mx.test" % ("r" * 60, i) for i in range(40)]  # an envelope of about 6 KB
    assert send(s.port, rcpts) == 451
    assert stored(md) == [], "a refused message left %s" % stored(md)
    resource.prlimit(s.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert send(s.port, rcpts) == 250
    names = stored(md)
    assert len(names) == 2 and names[0].endswith(".eml") and names[1].endswith(".json"), names
    s.stop()


def envelope_rename_fails(kind, d):
    md = os.path.join(d, kind + "-rename")
    os.mkdir(md)
    s = Server(kind, d, "--maildir", md, name=kind + "-rename")
    now = int(time.time())
    # Message ids are <seconds>.<pid>.<counter>: the first message is counter 1.
    for t in range(now - 2, now + 60):
        os.mkdir(os.path.join(md, "%d.%d.1.json" % (t, s.pid)))
    assert send(s.port, ["x@mx.test"]) == 451
    assert stored(md) == [], "a refused message left %s" % stored(md)
    assert send(s.port, ["x@mx.test"]) == 250
    assert len(stored(md)) == 2, stored(md)
    s.stop()


def stale_temporaries_removed(kind, d):
    md = os.path.join(d, kind + "-stale")
    os.mkdir(md)
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = [".tmp-1700000000.%d.1.eml" % gone.pid, ".tmp-1700000000.%d.1.json" % gone.pid]
    kept = [".tmp-1700000000.%d.7.eml" % os.getpid(),  # a writer that is still running
            ".tmp-notes.txt", "1700000000.1.1.eml", "1700000000.1.1.json"]
    for name in stale + kept:
        with open(os.path.join(md, name), "w") as f:
            f.write("x")
    s = Server(kind, d, "--maildir", md, name=kind + "-stale")
    s.wait_log(r"removed 2 stale temporary file\(s\)")
    assert stored(md) == sorted(kept), stored(md)
    s.stop()


def main():
    d = tmpdir()
    for kind in server_kinds():
        envelope_write_fails(kind, d)
        ok("%s: envelope write fails: 451, nothing left; the retry stores one copy" % kind)
        envelope_rename_fails(kind, d)
        ok("%s: envelope rename fails: 451, nothing left; the retry stores one copy" % kind)
        stale_temporaries_removed(kind, d)
        ok("%s: stale temporary files of a dead server removed at start, others kept" % kind)


run(main)
