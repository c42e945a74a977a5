"""What smtpp-send prints, against servers that end or bend the conversation:

  * an LMTP server that closes after some of its per-recipient replies: the verdicts given
    are kept, the others say the outcome is unknown;
  * 250 to DATA and 354 after the final dot: the message failed, and no recipient line
    starts with that code;
  * a malformed reply: named as a protocol error, not "peer closed the connection early";
  * a server that resets the connection while the message is being sent: one error line;
  * reply texts with ESC sequences (erase the line, back to column 1, set the window title),
    BEL, backspaces, a C1 CSI, invalid UTF-8 and a fake "x@mx.test: 250" (a refused
    recipient made to look delivered): all shown as \\xHH escapes, on stdout and in the
    --verbose trace (a bare CR is a protocol error the session stops at);
  * exit status 0 only when every recipient and the message were accepted.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from send_fake import (PERMANENT, TEMPFAIL, Server, big_message, check, need_send, reply, run_cases,  # noqa: E402
                       run_send, scaled_timeouts)  # noqa: E402

need_send()

# Nothing here waits for a timeout: a tenth of the RFC values (30 s for a reply) only
# bounds a hang.
BOUND = scaled_timeouts(0.1)
OK = b"250 2.1.5 Ok\r\n"


def lmtp_closes_mid_replies():
    def script(peer):
        peer.smtp_setup("8BITMIME", lmtp=True)
        peer.envelope([OK, OK, OK])
        peer.expect("DATA")
        peer.send(b"354 go ahead\r\n")
        peer.data()
        peer.send(b"250 2.0.0 <x@mx.test> delivered\r\n452 4.2.2 <y@mx.test> mailbox full\r\n")
        # and closes: no reply for z

    with Server(script) as server:
        r = run_send(server.port, "--lmtp", *BOUND, to=("x@mx.test", "y@mx.test", "z@mx.test"))
    check(r.rc == TEMPFAIL, "exit status 75: a 452 and an unknown outcome, nothing refused for good", r, server)
    check(r.lines == [
        "x@mx.test: 250 2.0.0 <x@mx.test> delivered",
        "y@mx.test: 452 4.2.2 <y@mx.test> mailbox full",
        "z@mx.test: outcome unknown (the server may have accepted the message): "
        "the server closed the connection before the reply to the end of the message",
    ], "verdicts received before the close are kept", r, server)
    check(r.errtext.count("smtpp-send:") == 1, "one error line", r)


def lmtp_one_refused():
    def script(peer):
        peer.smtp_setup("8BITMIME", lmtp=True)
        peer.envelope([OK, b"550 5.1.1 no such user\r\n", OK])
        peer.expect("DATA")
        peer.send(b"354 go ahead\r\n")
        peer.data()
        peer.send(b"250 2.0.0 <x@mx.test> delivered\r\n250 2.0.0 <z@mx.test> delivered\r\n")
        peer.quit()

    with Server(script) as server:
        r = run_send(server.port, "--lmtp", *BOUND, to=("x@mx.test", "y@mx.test", "z@mx.test"))
    check(r.rc == PERMANENT, "exit status 1: one recipient refused", r, server)
    check(r.lines == [
        "x@mx.test: 250 2.0.0 <x@mx.test> delivered",
        "y@mx.test: 550 5.1.1 no such user",
        "z@mx.test: 250 2.0.0 <z@mx.test> delivered",
    ], "one line per recipient, with the reply that decided it", r, server)
    check(r.errtext == "", "nothing on stderr", r)


def positive_reply_to_data():
    def script(peer):
        peer.smtp_setup("8BITMIME")
        peer.envelope([OK])
        peer.expect("DATA")
        peer.send(b"250 2.0.0 Ok: queued\r\n")  # where 354 was due
        peer.wind_down()

    with Server(script) as server:
        r = run_send(server.port, *BOUND)
    check(r.rc == TEMPFAIL, "exit status 75", r, server)
    # The session reports the 250 as the message's failure, or (stricter) closes on it.
    check(len(r.lines) == 1 and r.lines[0].startswith("x@mx.test: not delivered: ") and
          "250 2.0.0 Ok: queued" in r.lines[0], "no 250 line", r, server)


def intermediate_reply_to_final_dot():
    def script(peer):
        peer.smtp_setup("8BITMIME")
        peer.envelope([OK])
        peer.expect("DATA")
        peer.send(b"354 go ahead\r\n")
        peer.data()
        peer.send(b"354 more please\r\n")  # where 2yz/4yz/5yz was due
        peer.wind_down()

    with Server(script) as server:
        r = run_send(server.port, *BOUND)
    check(r.rc == TEMPFAIL, "exit status 75", r, server)
    check(len(r.lines) == 1 and re.match(r"x@mx\.test: (not delivered|outcome unknown)", r.lines[0]) and
          "354 more please" in r.lines[0], "a 354 is no delivery", r)


def malformed_reply():
    def script(peer):
        peer.smtp_setup("8BITMIME")
        peer.envelope([b"2x0 what\r\n"])
        peer.closed_by_client(30)

    with Server(script) as server:
        r = run_send(server.port, *BOUND)
    check(r.rc == TEMPFAIL, "exit status 75", r, server)
    why = "protocol error: malformed reply code (waiting for the replies to MAIL and RCPT)"
    check("smtpp-send: " + why in r.errtext, "protocol error named", r)
    check(r.lines == ["x@mx.test: not delivered: " + why], "recipient line", r)
    check("closed" not in r.text + r.errtext, "not reported as a close", r)


def reset_during_body():
    def script(peer):
        peer.smtp_setup("8BITMIME")
        peer.envelope([OK])
        peer.expect("DATA")
        peer.send(b"354 go ahead\r\n")
        peer.read_some(100000)
        peer.reset()

    with Server(script, rcvbuf=4096) as server:
        r = run_send(server.port, *BOUND, message=big_message())
    check(r.rc == TEMPFAIL, "exit status 75", r, server)
    errors = [line for line in r.errtext.splitlines() if line.startswith("smtpp-send:")]
    check(len(errors) == 1 and re.search("cannot (send|receive): (Connection reset by peer|Broken pipe)", errors[0]),
          "exactly one error line, naming the reset", r)
    check(len(r.lines) == 1 and r.lines[0].startswith("x@mx.test: not delivered: cannot "), "recipient line", r)


EVIL = (b"5.1.1 \x1b[2K\x1b[1G\x1b]0;owned\x07x@mx.test: 250 2.0.0 Ok\x08\x08 \xc2\x9b31m \xff\xfe "
        b"caf\xc3\xa9 back\\slash\tTAB")
EVIL_SHOWN = (r"5.1.1 \x1b[2K\x1b[1G\x1b]0;owned\x07x@mx.test: 250 2.0.0 Ok\x08\x08 \xc2\x9b31m \xff\xfe "
              "caf\u00e9 back\\x5cslash\\x09TAB")


def control_bytes_in_replies():
    def script(peer):
        peer.send(reply(220, b"mx.test ESMTP \x1b[31mred\x1b[0m \x1b]0;title\x07"))
        peer.expect("EHLO")
        peer.send(reply(250, "mx.test", "8BITMIME", b"X-\x1b[1mBOLD"))
        peer.envelope([b"550 " + EVIL + b"\r\n", OK])
        peer.expect("DATA")
        peer.send(b"354 go ahead\r\n")
        peer.data()
        peer.send(b"250 2.0.0 \x1b[1A\x1b[2Kqueued\x9b\r\n")
        peer.quit()

    with Server(script) as server:
        r = run_send(server.port, "--verbose", *BOUND, to=("x@mx.test", "y@mx.test"))
    check(r.rc == PERMANENT, "exit status 1: x was refused", r, server)
    check(r.lines == ["x@mx.test: 550 " + EVIL_SHOWN, r"y@mx.test: 250 2.0.0 \x1b[1A\x1b[2Kqueued\x9b"],
          "reply text escaped", r, server)
    for name, stream in (("stdout", r.out), ("stderr", r.err)):
        bad = sorted({b for b in stream if (b < 0x20 and b != 0x0A) or b == 0x7F})
        check(not bad, "no control octet on %s (found %s)" % (name, bad), r)
        check(b"\xc2\x9b" not in stream and b"\xff" not in stream, "no C1 control or invalid UTF-8 on " + name, r)
    check(r"<- 220 mx.test ESMTP \x1b[31mred" in r.errtext, "the trace is escaped too", r)


run_cases([
    ("LMTP closes after two of three replies: their verdicts kept", lmtp_closes_mid_replies),
    ("LMTP: one line per recipient, exit 1 when one was refused", lmtp_one_refused),
    ("250 to DATA: not printed as a 250 line", positive_reply_to_data),
    ("354 after the final dot: not a delivery", intermediate_reply_to_final_dot),
    ("malformed reply: named a protocol error", malformed_reply),
    ("reset during the body: one error line", reset_during_body),
    ("ESC, BEL, C1, invalid UTF-8 and a fake 250 in replies: escaped", control_bytes_in_replies),
])
