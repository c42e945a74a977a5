#!/usr/bin/python3
"""Checks what smtpp-server / asio-server stored in a --maildir.

  check.py DIR --count N
      exactly N messages (<id>.eml + <id>.json pairs), no temporary files left
  check.py DIR --index I [--eml FILE] [--from ADDR] [--to ADDR ...] [--auth USER|-]
                 [--tls yes|no] [--param KEY=VALUE ...] [--size N] [--eight-bit yes|no]
                 [--chunked yes|no] [--helo NAME]
      message number I (0-based, in the order the server stored them) has these properties;
      --eml compares the stored bytes with FILE byte for byte
  check.py DIR [--all-from ADDR] [--all-to ADDR ...] [--all-eml FILE] [--same-body]
      every message is from ADDR to these recipients; is byte for byte FILE; or (smtp-source's
      generated messages, whose Date and Message-Id differ) has the same body as the others
      and a Message-Id no other message has
"""
import argparse
import glob
import json
import os
import sys


def fail(msg):
    print("check.py: FAIL: " + msg)
    sys.exit(1)


def messages(d):
    ids = [os.path.basename(p)[:-5] for p in glob.glob(os.path.join(d, "*.json"))]
    # <seconds>.<pid>.<counter>: one server process per test, so order by counter
    ids.sort(key=lambda i: (int(i.split(".")[2]), i))
    return ids


def load(d, i):
    with open(os.path.join(d, i + ".json"), "rb") as f:
        env = json.loads(f.read().decode("utf-8"))
    with open(os.path.join(d, i + ".eml"), "rb") as f:
        body = f.read()
    return env, body


def yes(v):
    return v == "yes"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--count", type=int)
    ap.add_argument("--index", type=int)
    ap.add_argument("--eml")
    ap.add_argument("--from", dest="mail_from")
    ap.add_argument("--to", action="append", default=[])
    ap.add_argument("--auth")
    ap.add_argument("--tls")
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--size", type=int)
    ap.add_argument("--eight-bit")
    ap.add_argument("--chunked")
    ap.add_argument("--helo")
    ap.add_argument("--all-from")
    ap.add_argument("--all-to", action="append")
    ap.add_argument("--all-eml")
    ap.add_argument("--same-body", action="store_true")
    a = ap.parse_args()

    ids = messages(a.dir)
    if a.count is not None:
        if len(ids) != a.count:
            fail("%d messages stored, expected %d" % (len(ids), a.count))
        emls = glob.glob(os.path.join(a.dir, "*.eml"))
        if len(emls) != a.count:
            fail("%d .eml files for %d .json files" % (len(emls), a.count))
        tmp = [p for p in os.listdir(a.dir) if p.startswith(".tmp-")]
        if tmp:
            fail("temporary files left: %s" % tmp[:5])
    if a.all_from is not None or a.all_to is not None or a.all_eml or a.same_body:
        want = open(a.all_eml, "rb").read() if a.all_eml else None
        body0, ids_seen = None, set()
        for i in ids:
            env, body = load(a.dir, i)
            if a.all_from is not None and env["mail_from"] != a.all_from:
                fail("%s: mail_from %r" % (i, env["mail_from"]))
            if a.all_to is not None and env["rcpt_to"] != a.all_to:
                fail("%s: rcpt_to %r, expected %r" % (i, env["rcpt_to"], a.all_to))
            if env["size"] != len(body):
                fail("%s: size %d but %d bytes stored" % (i, env["size"], len(body)))
            if want is not None and body != want:
                fail("%s: stored bytes differ from %s" % (i, a.all_eml))
            if a.same_body:
                head, sep, rest = body.partition(b"\r\n\r\n")
                if not sep:
                    fail("%s: no header/body separator" % i)
                if body0 is None:
                    body0 = rest
                elif rest != body0:
                    fail("%s: body differs from the first message's" % i)
                mid = [l for l in head.split(b"\r\n") if l.lower().startswith(b"message-id:")]
                if len(mid) != 1 or mid[0] in ids_seen:
                    fail("%s: Message-Id missing or seen twice: %r" % (i, mid))
                ids_seen.add(mid[0])
    if a.index is None:
        return
    if a.index >= len(ids):
        fail("no message %d (%d stored)" % (a.index, len(ids)))
    env, body = load(a.dir, ids[a.index])
    where = "message %d (%s)" % (a.index, ids[a.index])
    if a.eml is not None:
        with open(a.eml, "rb") as f:
            want = f.read()
        if body != want:
            n = next((k for k in range(min(len(body), len(want))) if body[k] != want[k]), min(len(body), len(want)))
            fail("%s: stored bytes differ from %s at offset %d (stored %d bytes, sent %d)\n  stored: %r\n  sent:   %r"
                 % (where, a.eml, n, len(body), len(want), body[max(0, n - 20):n + 40], want[max(0, n - 20):n + 40]))
    if env["size"] != len(body):
        fail("%s: envelope size %d, %d bytes stored" % (where, env["size"], len(body)))
    if a.mail_from is not None and env["mail_from"] != a.mail_from:
        fail("%s: mail_from %r, expected %r" % (where, env["mail_from"], a.mail_from))
    if a.to and env["rcpt_to"] != a.to:
        fail("%s: rcpt_to %r, expected %r" % (where, env["rcpt_to"], a.to))
    if a.auth is not None:
        want = None if a.auth == "-" else a.auth
        if env["authenticated"] != want:
            fail("%s: authenticated %r, expected %r" % (where, env["authenticated"], want))
    if a.tls is not None and env["tls"] != yes(a.tls):
        fail("%s: tls %r, expected %s" % (where, env["tls"], a.tls))
    if a.tls == "yes" and not env.get("tls_cipher"):
        fail("%s: no tls_cipher" % where)
    for p in a.param:
        k, _, v = p.partition("=")
        got = env["mail_parameters"].get(k)
        if (got is True and v != "") or (got is not True and got != v):
            fail("%s: MAIL parameter %s is %r, expected %r (all: %r)" % (where, k, got, v, env["mail_parameters"]))
    if a.size is not None and env["size"] != a.size:
        fail("%s: size %d, expected %d" % (where, env["size"], a.size))
    if a.eight_bit is not None and env["eight_bit"] != yes(a.eight_bit):
        fail("%s: eight_bit %r" % (where, env["eight_bit"]))
    if a.chunked is not None and env["chunked"] != yes(a.chunked):
        fail("%s: chunked %r" % (where, env["chunked"]))
    if a.helo is not None and env["helo"] != a.helo:
        fail("%s: helo %r, expected %r" % (where, env["helo"], a.helo))


if __name__ == "__main__":
    main()
