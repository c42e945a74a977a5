"""What smtpp-send declares in MAIL FROM, from the message (smtpp::scan_body): BODY=8BITMIME
for 8-bit text, BODY=BINARYMIME for NUL or a line over 998 octets (a line of exactly 998
octets is text, whether it ends in LF or CRLF; before, CRLF made it binary), SMTPUTF8 for a
UTF-8 header, and the exact RFC 1870 SIZE of what goes on the wire.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from send_fake import Server, check, need_send, run_cases, run_send  # noqa: E402

need_send()


def crlf(message):
    return message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def sent(message):
    """Sends `message` to a server offering everything; returns (MAIL FROM line, content)."""
    got = {}

    def script(peer):
        peer.smtp_setup("8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8", "SIZE 100000000")
        got["mail"] = peer.expect("MAIL")
        peer.send(b"250 2.1.0 Ok\r\n")
        peer.expect("RCPT")
        peer.send(b"250 2.1.5 Ok\r\n")
        got["content"] = peer.bdat()
        peer.quit()

    with Server(script) as server:
        r = run_send(server.port, message=message)
    check(r.rc == 0 and r.lines == ["x@mx.test: 250 2.0.0 Ok: queued"], "delivered", r, server)
    return got["mail"].decode("utf-8", "replace").split(" "), got["content"]


def params(mail):
    return sorted(p for p in mail[2:] if p)


def text_line_of_998(ending):
    def case():
        message = (b"Subject: long\n\n" + b"a" * 998 + b"\nend\n").replace(b"\n", ending)
        mail, content = sent(message)
        wire = crlf(message)
        check(params(mail) == ["SIZE=%d" % len(wire)], "7bit text, exact SIZE: %s" % mail)
        check(content == wire, "the content as sent")
    return case


def binary_line_of_999():
    message = b"Subject: long\n\n" + b"a" * 999 + b"\nend\n"
    mail, content = sent(message)
    check(params(mail) == sorted(["BODY=BINARYMIME", "SIZE=%d" % len(message)]), "binary: %s" % mail)
    check(content == message, "binary content sent as it is")


def eight_bit_and_utf8_header():
    message = "Subject: Gr\u00fc\u00dfe\n\nHall\u00f6chen\n".encode()
    mail, content = sent(message)
    check(params(mail) == sorted(["BODY=8BITMIME", "SMTPUTF8", "SIZE=%d" % len(crlf(message))]),
          "8-bit, UTF-8: %s" % mail)
    check(content == crlf(message), "the content as sent")


def nul_octet():
    message = b"Subject: nul\n\nbefore\0after\n"
    mail, content = sent(message)
    check(params(mail) == sorted(["BODY=BINARYMIME", "SIZE=%d" % len(message)]), "NUL makes it binary: %s" % mail)
    check(content == message, "binary content sent as it is")


run_cases([
    ("a 998-octet line ending in LF is text", text_line_of_998(b"\n")),
    ("a 998-octet line ending in CRLF is text", text_line_of_998(b"\r\n")),
    ("a 999-octet line makes the message binary", binary_line_of_999),
    ("8-bit body and UTF-8 header: BODY=8BITMIME, SMTPUTF8", eight_bit_and_utf8_header),
    ("NUL makes the message binary", nul_octet),
])
