"""smtpp-send against servers that stall it (RFC 5321 4.5.3.2 timeouts, scaled down):

  * a server that stops reading in the middle of the message: a data block deadline ends the
    wait (before: blocked in send() for good);
  * a server that trickles its greeting, and one that trickles the reply to the end of the
    message, one octet at a time, far more often than any timeout: the deadline holds for
    the whole reply (before: every octet restarted a 300 s receive timeout);
  * a server that answers the final dot after 1.5 times the 5 minute command timeout, within
    the 10 minutes the RFC asks for: delivered (before: failure at 300 s, and a retry
    would duplicate the message);
  * a listener whose backlog is full: the connect timeout ends the wait.
"""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from send_fake import (TEMPFAIL, USAGE, Server, big_message, check, need_send, run_cases, run_send,  # noqa: E402
                       scaled_timeouts)

need_send()

# Each case shortens the timeout it tests (to 1/100 of the RFC value) and leaves the others
# at 1/10 (30 s for a command, 12 s for the reply to DATA): nothing else times out on a
# loaded machine. Later options override earlier ones.
RELAXED = scaled_timeouts(0.1)


def stops_reading_in_the_body():
    def script(peer):
        peer.smtp_setup("8BITMIME")
        peer.envelope([b"250 2.1.5 Ok\r\n"])
        peer.expect("DATA")
        peer.send(b"354 go ahead\r\n")
        peer.hold()

    with Server(script, rcvbuf=4096) as server:
        r = run_send(server.port, *RELAXED, "--data-block-timeout", "1.8", message=big_message())
    check(r.rc == TEMPFAIL, "exit status 75: a timeout is temporary", r, server)
    check("timed out after 1.8 s waiting for the server to read the message" in r.errtext, "timeout named", r)
    check(r.lines == ["x@mx.test: not delivered: timed out after 1.8 s waiting for the server to read the message"],
          "recipient line", r)
    check(r.elapsed < 60, "gave up (the deadline is 1.8 s per 64 KiB block)", r)


def trickled_greeting():
    greeting = b"220 mx.test ESMTP " + b"z" * 300 + b"\r\n"

    def script(peer):
        peer.trickle(greeting, 0.1)  # 30 s for the whole line, 10 octets per second

    with Server(script) as server:
        r = run_send(server.port, *RELAXED, "--command-timeout", "3")
    check(r.rc == TEMPFAIL, "exit status 75: a timeout is temporary", r, server)
    check("smtpp-send: timed out after 3 s waiting for the greeting" in r.errtext, "timeout named", r)
    check("peer closed" not in r.text + r.errtext, "not reported as a close", r)
    check(r.lines == ["x@mx.test: not delivered: timed out after 3 s waiting for the greeting"], "recipient line", r)
    check(2.5 < r.elapsed < 20, "one deadline for the whole reply, not one per octet", r)


def trickled_final_reply():
    final = b"250 2.0.0 queued as " + b"Q" * 300 + b"\r\n"

    def script(peer):
        peer.smtp_setup("8BITMIME")
        peer.envelope([b"250 2.1.5 Ok\r\n"])
        peer.expect("DATA")
        peer.send(b"354 go ahead\r\n")
        peer.data()
        peer.trickle(final, 0.1)  # 30 s for the whole line

    with Server(script) as server:
        r = run_send(server.port, *RELAXED, "--data-done-timeout", "6")
    check(r.rc == TEMPFAIL, "exit status 75: a timeout is temporary", r, server)
    why = "timed out after 6 s waiting for the reply to the end of the message"
    check("smtpp-send: " + why in r.errtext, "timeout named", r)
    check(r.lines == ["x@mx.test: outcome unknown (the server may have accepted the message): " + why],
          "the outcome is unknown, not a failure", r)
    check(5.5 < r.elapsed < 25, "one deadline for the whole reply", r)


def slow_final_reply_within_ten_minutes():
    # 1/50 of every RFC value, in their proportions: 6 s for commands, 12 s for the reply to
    # the end of the message. The server answers after 9 s: later than a command may take,
    # sooner than 10 minutes.
    answered = []

    def script(peer):
        peer.smtp_setup("8BITMIME")
        peer.envelope([b"250 2.1.5 Ok\r\n", b"250 2.1.5 Ok\r\n"])
        peer.expect("DATA")
        peer.send(b"354 go ahead\r\n")
        peer.data()
        if peer.stop.wait(9):
            return
        answered.append(time.monotonic())
        peer.send(b"250 2.0.0 Ok: queued as SLOW\r\n")
        peer.quit()

    with Server(script) as server:
        r = run_send(server.port, *scaled_timeouts(0.02), to=("x@mx.test", "y@mx.test"))
    check(r.rc == 0, "exit status 0", r, server)
    check(r.lines == ["x@mx.test: 250 2.0.0 Ok: queued as SLOW", "y@mx.test: 250 2.0.0 Ok: queued as SLOW"],
          "both delivered", r, server)
    check(answered and r.elapsed >= 9, "the server took its time", r)


def connect_timeout():
    # A listener that never accepts, with its backlog full: the kernel drops further SYNs.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):  # fill the accept queue (the first may already do it)
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        probe = socket.socket()
        probe.settimeout(1.5)
        try:
            probe.connect(("127.0.0.1", port))
            print("note: this kernel completes connections beyond the backlog; connect timeout not tested")
            return
        except (socket.timeout, OSError):
            pass
        finally:
            probe.close()
        r = run_send(port, *RELAXED, "--connect-timeout", "1")
    finally:
        for s in fillers:
            s.close()
        listener.close()
    check(r.rc == TEMPFAIL, "exit status 75: a timeout is temporary", r)
    why = "cannot connect to 127.0.0.1 port %d: timed out after 1 s" % port
    check("smtpp-send: " + why in r.errtext, "connect timeout named", r)
    check(r.lines == ["x@mx.test: not delivered: " + why], "recipient line", r)
    check(r.elapsed < 15, "gave up after the connect timeout", r)


def bad_timeout_option():
    r = run_send(9, "--data-done-timeout", "0")
    check(r.rc == USAGE and "--data-done-timeout wants seconds" in r.errtext, "a zero timeout is a usage error", r)


run_cases([
    ("server stops reading during the body: data block timeout", stops_reading_in_the_body),
    ("greeting trickled one octet at a time: command timeout for the whole reply", trickled_greeting),
    ("final reply trickled: end-of-data timeout, outcome unknown", trickled_final_reply),
    ("final reply after 1.5 command timeouts (within 10 min, scaled): delivered", slow_final_reply_within_ten_minutes),
    ("backlog full: connect timeout", connect_timeout),
    ("a timeout of 0 is refused", bad_timeout_option),
])
