"""smtpp-send with several messages per run, against scripted servers that take any number of
transactions per connection and answer each as told:

  * one recipient refused among several, in every message: its lines say 550, the others are
    delivered, exit status 1; the --report JSON lines say the same per message and recipient;
  * one message refused (554 to its end of data) while the others go: exit status 1;
  * one message deferred (451): exit status 75 (EX_TEMPFAIL), the others delivered;
  * a server that goes silent after the first message, then at the greeting of the next
    connection: each wait ends at its deadline, the run in bounded time, exit status 75;
  * a server that ends the connection (421) at the third message of each: that message is
    deferred, a new connection carries the rest;
  * LMTP, several messages: each recipient's reply lands on its own message;
  * --connections 3: the messages shared out, each delivered exactly once;
  * inputs that cannot be read (66), a report file that cannot be created (73), an empty
    directory (0, nothing sent), the progress line only with --progress.
"""

import json
import os
import re
import shutil
import sys
import tempfile
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from send_fake import (PERMANENT, TEMPFAIL, Server, check, need_send, reply, run_cases,  # noqa: E402
                       run_send, scaled_timeouts)

need_send()

# Nothing here waits for a timeout unless it says so: a tenth of the RFC values (30 s for a
# reply) only bounds a hang.
BOUND = scaled_timeouts(0.1)
OK_RCPT = b"250 2.1.5 Ok\r\n"
TMP = tempfile.mkdtemp(prefix="smtpp-send-batch.")


def message_files(name, count):
    """A directory with `count` messages named m01, m02, ... whose Subject is their name."""
    d = os.path.join(TMP, name)
    os.makedirs(d)
    for i in range(1, count + 1):
        with open(os.path.join(d, "m%02d" % i), "wb") as f:
            f.write(b"Subject: m%02d\n\nmessage %d\n.\n" % (i, i))
    return d


class Mta:
    """The server's side: any number of transactions per connection, with PIPELINING. What
    it answers comes from `rcpt(subject_so_far, address)` (RCPT is answered before the
    content is known, so it gets the address only), `final(subject, accepted)` (DATA's end;
    LMTP: a list, one reply per accepted recipient) and `on_mail(connection, count)` (the
    reply to the count-th MAIL of this connection; None: 250)."""

    def __init__(self, rcpt=None, final=None, on_mail=None, lmtp=False):
        self.rcpt = rcpt or (lambda address: OK_RCPT)
        self.final = final or (lambda subject, accepted: b"250 2.0.0 Ok: queued as " + subject + b"\r\n")
        self.on_mail = on_mail or (lambda connection, count: None)
        self.lmtp = lmtp
        self.lock = threading.Lock()
        self.connections = 0
        self.delivered = []  # (subject, connection, accepted recipients) per message taken

    def __call__(self, peer):
        with self.lock:
            self.connections += 1
            connection = self.connections
        peer.smtp_setup("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", lmtp=self.lmtp)
        mails = 0
        accepted = []
        while True:
            line = peer.line(timeout=30)
            verb = line[:4].upper()
            if verb == b"QUIT":
                peer.send(reply(221, "2.0.0 Bye"))
                return
            if verb == b"RSET":
                accepted = []
                peer.send(b"250 2.0.0 Ok\r\n")
            elif verb == b"MAIL":
                mails += 1
                accepted = []
                answer = self.on_mail(connection, mails)
                if answer is None:
                    peer.send(b"250 2.1.0 Ok\r\n")
                elif answer == "silent":
                    peer.hold()
                    return
                else:
                    peer.send(answer)
                    if answer.startswith(b"421"):
                        return
            elif verb == b"RCPT":
                address = re.search(rb"<([^>]*)>", line).group(1)
                answer = self.rcpt(address)
                if answer.startswith(b"2"):
                    accepted.append(address)
                peer.send(answer)
            elif verb == b"DATA":
                if not accepted:
                    peer.send(b"554 5.5.1 No valid recipients\r\n")
                    continue
                peer.send(b"354 go ahead\r\n")
                subject = re.search(rb"Subject: (\S+)", peer.data()).group(1)
                with self.lock:
                    self.delivered.append((subject, connection, list(accepted)))
                answers = self.final(subject, accepted)
                peer.send(b"".join(answers) if self.lmtp else answers)
            else:
                peer.send(b"502 5.5.1 Not here\r\n")


def report_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def recipient_refused_among_several():
    d = message_files("refused-rcpt", 3)
    mta = Mta(rcpt=lambda a: b"550 5.1.1 no such user\r\n" if a == b"y@mx.test" else OK_RCPT)
    report = os.path.join(TMP, "refused-rcpt.json")
    with Server(mta) as server:
        r = run_send(server.port, *BOUND, "--report", report, inputs=[d], to=("x@mx.test", "y@mx.test", "z@mx.test"))
    check(r.rc == PERMANENT, "exit status 1", r, server)
    want = []
    for i in (1, 2, 3):
        name = "%s/m%02d" % (d, i)
        want += ["%s: x@mx.test: 250 2.0.0 Ok: queued as m%02d" % (name, i),
                 "%s: y@mx.test: 550 5.1.1 no such user" % name,
                 "%s: z@mx.test: 250 2.0.0 Ok: queued as m%02d" % (name, i)]
    check(r.lines == want, "one line per message and recipient, in order", r, server)
    check([(s, a) for s, _, a in mta.delivered] == [(b"m%02d" % i, [b"x@mx.test", b"z@mx.test"]) for i in (1, 2, 3)],
          "three messages, each to x and z, over one connection", r, server)
    check(mta.connections == 1, "one connection", r, server)
    lines = report_lines(report)
    check([m["message"] for m in lines] == ["%s/m%02d" % (d, i) for i in (1, 2, 3)], "a JSON line per message", r)
    for i, m in enumerate(lines):
        check(m["index"] == i and m["outcome"] == "permanent" and m["code"] == 250 and m["status"] == "2.0.0", "message %s" % m, r)
        x, y, z = m["recipients"]
        check(x == {"recipient": "x@mx.test", "outcome": "delivered", "code": 250, "status": "2.0.0",
                    "reply": "250 2.0.0 Ok: queued as m%02d" % (i + 1), "error": None}, "x: %s" % x, r)
        check(y == {"recipient": "y@mx.test", "outcome": "permanent", "code": 550, "status": "5.1.1",
                    "reply": "550 5.1.1 no such user", "error": None}, "y: %s" % y, r)
        check(z["outcome"] == "delivered", "z: %s" % z, r)


def one_message_refused():
    d = message_files("refused-msg", 4)
    mta = Mta(final=lambda s, a: b"554 5.7.1 content refused\r\n" if s == b"m02" else b"250 2.0.0 Ok\r\n")
    report = os.path.join(TMP, "refused-msg.json")
    with Server(mta) as server:
        r = run_send(server.port, *BOUND, "--report", report, inputs=[d])
    check(r.rc == PERMANENT, "exit status 1", r, server)
    check(r.lines == ["%s/m01: x@mx.test: 250 2.0.0 Ok" % d, "%s/m02: x@mx.test: 554 5.7.1 content refused" % d,
                      "%s/m03: x@mx.test: 250 2.0.0 Ok" % d, "%s/m04: x@mx.test: 250 2.0.0 Ok" % d],
          "the refused one says so, the others went", r, server)
    check(len(mta.delivered) == 4 and mta.connections == 1, "four transactions, one connection", r, server)
    outcomes = [(m["outcome"], m["code"], m["status"]) for m in report_lines(report)]
    check(outcomes == [("delivered", 250, "2.0.0"), ("permanent", 554, "5.7.1"), ("delivered", 250, "2.0.0"),
                       ("delivered", 250, "2.0.0")], "report outcomes %s" % outcomes, r)


def temporary_failure():
    d = message_files("deferred", 3)
    mta = Mta(final=lambda s, a: b"451 4.3.0 try again later\r\n" if s == b"m02" else b"250 2.0.0 Ok\r\n")
    with Server(mta) as server:
        r = run_send(server.port, *BOUND, inputs=[d])
    check(r.rc == TEMPFAIL, "exit status 75 (EX_TEMPFAIL)", r, server)
    check(r.lines == ["%s/m01: x@mx.test: 250 2.0.0 Ok" % d, "%s/m02: x@mx.test: 451 4.3.0 try again later" % d,
                      "%s/m03: x@mx.test: 250 2.0.0 Ok" % d], "the deferred one says so", r, server)


def silent_server():
    d = message_files("silent", 3)
    # The first connection takes one message and then says nothing; the second one never greets.
    mta = Mta(on_mail=lambda connection, count: "silent" if count == 2 else None)
    seen = []

    def script(peer):
        seen.append(peer)
        if len(seen) > 1:
            return peer.hold()
        return mta(peer)

    with Server(script) as server:
        r = run_send(server.port, *BOUND, "--command-timeout", "1.5", inputs=[d])
    check(r.rc == TEMPFAIL, "exit status 75: timeouts are temporary", r, server)
    check(r.lines == ["%s/m01: x@mx.test: 250 2.0.0 Ok: queued as m01" % d,
                      "%s/m02: x@mx.test: not delivered: timed out after 1.5 s waiting for the replies to MAIL and RCPT" % d,
                      "%s/m03: x@mx.test: not delivered: timed out after 1.5 s waiting for the greeting" % d],
          "each message with its reason", r, server)
    check(len(seen) == 2, "a second connection after the first delivered something", r, server)
    check(r.elapsed < 15, "two deadlines of 1.5 s, not more", r)


def reconnects_after_421():
    d = message_files("reconnect", 5)
    mta = Mta(on_mail=lambda connection, count: b"421 4.7.0 two messages per connection\r\n" if count == 3 else None)
    with Server(mta) as server:
        r = run_send(server.port, *BOUND, inputs=[d])
    check(r.rc == TEMPFAIL, "exit status 75: the third message was deferred", r, server)
    check(r.lines == ["%s/m01: x@mx.test: 250 2.0.0 Ok: queued as m01" % d,
                      "%s/m02: x@mx.test: 250 2.0.0 Ok: queued as m02" % d,
                      "%s/m03: x@mx.test: 421 4.7.0 two messages per connection" % d,
                      "%s/m04: x@mx.test: 250 2.0.0 Ok: queued as m04" % d,
                      "%s/m05: x@mx.test: 250 2.0.0 Ok: queued as m05" % d], "the rest over a new connection", r, server)
    check([(s, c) for s, c, _ in mta.delivered] == [(b"m01", 1), (b"m02", 1), (b"m04", 2), (b"m05", 2)],
          "two connections", r, server)
    check(r.errtext.count("smtpp-send: the server closed the service: 421") == 1, "said once", r)


def lmtp_batch():
    d = message_files("lmtp", 2)

    def final(subject, accepted):
        return [b"452 4.2.2 mailbox full\r\n" if (subject, a) == (b"m01", b"y@mx.test") else
                b"250 2.0.0 <" + a + b"> " + subject + b"\r\n" for a in accepted]

    mta = Mta(final=final, lmtp=True)
    with Server(mta) as server:
        r = run_send(server.port, *BOUND, "--lmtp", inputs=[d], to=("x@mx.test", "y@mx.test"))
    check(r.rc == TEMPFAIL, "exit status 75", r, server)
    check(r.lines == ["%s/m01: x@mx.test: 250 2.0.0 <x@mx.test> m01" % d,
                      "%s/m01: y@mx.test: 452 4.2.2 mailbox full" % d,
                      "%s/m02: x@mx.test: 250 2.0.0 <x@mx.test> m02" % d,
                      "%s/m02: y@mx.test: 250 2.0.0 <y@mx.test> m02" % d], "each reply on its message", r, server)


def connections_share_the_messages():
    d = message_files("shared", 12)
    mta = Mta()
    with Server(mta) as server:
        r = run_send(server.port, *BOUND, "--connections", "3", inputs=[d])
    check(r.rc == 0, "exit status 0", r, server)
    check(sorted(s for s, _, _ in mta.delivered) == [b"m%02d" % i for i in range(1, 13)], "each message once", r, server)
    check(sorted({c for _, c, _ in mta.delivered}) == [1, 2, 3], "over three connections", r, server)
    check(sorted(r.lines) == ["%s/m%02d: x@mx.test: 250 2.0.0 Ok: queued as m%02d" % (d, i, i) for i in range(1, 13)],
          "one line each", r, server)


def inputs_that_cannot_be_read():
    d = message_files("inputs", 1)
    not_mbox = os.path.join(TMP, "not.mbox")
    with open(not_mbox, "wb") as f:
        f.write(b"Subject: no From line\n\nhello\n")
    empty = os.path.join(TMP, "empty")
    os.makedirs(empty)
    with Server(Mta()) as server:
        missing = run_send(server.port, *BOUND, inputs=[d, os.path.join(TMP, "no-such-file")])
        mbox = run_send(server.port, *BOUND, inputs=["--mbox", not_mbox])
        report = run_send(server.port, *BOUND, "--report", os.path.join(TMP, "no-such-dir", "r.json"), inputs=[d])
        nothing = run_send(server.port, *BOUND, inputs=[empty])
        connections = len(server.peers)
    check(missing.rc == 66 and "cannot read %s/no-such-file: No such file or directory" % TMP in missing.errtext,
          "a missing file: 66", missing)
    check(mbox.rc == 66 and "not an mbox" in mbox.errtext, "not an mbox: 66", mbox)
    check(report.rc == 73 and "cannot create" in report.errtext, "report not created: 73", report)
    check(nothing.rc == 0 and nothing.lines == [] and "no message to send" in nothing.errtext, "empty directory: 0", nothing)
    check(connections == 0, "nothing was sent")


def progress_only_when_asked():
    d = message_files("progress", 5)
    with Server(Mta()) as server:
        shown = run_send(server.port, *BOUND, "--progress", inputs=[d])
        quiet = run_send(server.port, *BOUND, inputs=[d])
    check(shown.rc == 0 and "smtpp-send: 5/5 messages (100%), 0 failed, " in shown.errtext, "progress shown", shown)
    check(shown.errtext.endswith("/s\n"), "the last figures on a line of their own", shown)
    check(quiet.rc == 0 and quiet.errtext == "", "no progress on a pipe", quiet)


try:
    run_cases([
        ("one recipient refused in each message: its lines say 550, exit 1", recipient_refused_among_several),
        ("one message refused, the others delivered: exit 1", one_message_refused),
        ("one message deferred: exit 75", temporary_failure),
        ("a server that goes silent: each wait ends at its deadline", silent_server),
        ("421 after two messages: a new connection for the rest", reconnects_after_421),
        ("LMTP, several messages: each reply on its own message", lmtp_batch),
        ("--connections 3: the messages shared, each delivered once", connections_share_the_messages),
        ("inputs that cannot be read: 66; report not created: 73; empty: 0", inputs_that_cannot_be_read),
        ("progress only with --progress when stderr is not a terminal", progress_only_when_asked),
    ])
finally:
    shutil.rmtree(TMP, ignore_errors=True)
