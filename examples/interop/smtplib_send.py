#!/usr/bin/python3
"""Python's smtplib -> an smtpp example server. Sends a set of messages and writes, for each,
the exact bytes the server must store (DIR/<n>.eml) and a line of check.py arguments
(DIR/checks.txt).  usage: smtplib_send.py PORT DIR [--lmtp]"""
import shlex
import smtplib
import sys
from email.message import EmailMessage

port, out = int(sys.argv[1]), sys.argv[2]
lmtp = "--lmtp" in sys.argv
checks = []


def expect(n, body, *args):
    wire = body if body.endswith(b"\r\n") else body + b"\r\n"  # smtplib adds the last CRLF
    path = "%s/%d.eml" % (out, n)
    with open(path, "wb") as f:
        f.write(wire)
    checks.append(" ".join(shlex.quote(a) for a in ["--index", str(n), "--eml", path] + list(args)))


dots = (b"From: a@client.test\r\nTo: x@mx.test\r\nSubject: dots\r\n\r\n"
        b".one dot\r\n..two dots\r\n.\r\n. \r\n...\r\nend\r\n")
eight = ("From: a@client.test\r\nSubject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\nGr\u00fc\u00dfe \u20ac \U0001F600\r\n.\u00e9\r\n").encode("utf-8")
big = b"Subject: big\r\n\r\n" + b"".join(b"%s line %06d %s\r\n" % (b"." if i % 7 == 0 else b"", i, b"x" * 60)
                                          for i in range(12000))
no_final_crlf = b"Subject: no final CRLF\r\n\r\nlast line without CRLF"

if lmtp:
    s = smtplib.LMTP("127.0.0.1", port, timeout=10)
    refused = s.sendmail("a@client.test", ["x@mx.test", "y@mx.test"], dots)
    assert refused == {}, refused
    expect(0, dots, "--from", "a@client.test", "--to", "x@mx.test", "--to", "y@mx.test")
    s.quit()
else:
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=10)
    # several recipients, lines starting with '.', three messages on one connection
    refused = s.sendmail("a@client.test", ["x@mx.test", "y@mx.test", "z@mx.test"], dots)
    assert refused == {}, refused
    expect(0, dots, "--from", "a@client.test", "--to", "x@mx.test", "--to", "y@mx.test", "--to", "z@mx.test",
           "--param", "SIZE=%d" % len(dots), "--helo", "client.test")
    s.sendmail("a@client.test", ["x@mx.test"], eight, mail_options=["BODY=8BITMIME"])
    expect(1, eight, "--param", "BODY=8BITMIME", "--eight-bit", "yes")
    s.sendmail("<>", ["x@mx.test"], no_final_crlf)
    expect(2, no_final_crlf, "--from", "")
    # SMTPUTF8: UTF-8 addresses and headers, sent by send_message
    m = EmailMessage()
    m["From"] = "J\u00f6rg <j\u00f6rg@b\u00fccher.test>"
    m["To"] = "\u7530\u4e2d <\u7530\u4e2d@\u4f8b\u3048.test>"
    m["Subject"] = "Gr\u00fc\u00dfe"
    m.set_content("Hall\u00f6chen\n.dot\n", cte="8bit")
    s.send_message(m)
    wire = m.as_bytes(policy=m.policy.clone(utf8=True, linesep="\r\n"))
    expect(3, wire, "--from", "j\u00f6rg@b\u00fccher.test", "--to", "\u7530\u4e2d@\u4f8b\u3048.test", "--param", "SMTPUTF8=",
           "--param", "BODY=8BITMIME")
    # a message over 800 KB with many dot lines
    s.sendmail("a@client.test", ["x@mx.test"], big)
    expect(4, big, "--size", str(len(big)))
    # over --max-size (2000000): smtplib sends SIZE=n, refused at MAIL with 552
    huge = b"Subject: huge\r\n\r\n" + (b"z" * 998 + b"\r\n") * 2100
    try:
        s.sendmail("a@client.test", ["x@mx.test"], huge)
        raise SystemExit("a message over --max-size was accepted")
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 552, e
    # the connection goes on
    s.sendmail("a@client.test", ["q@mx.test"], dots)
    expect(5, dots, "--to", "q@mx.test")
    s.quit()
    # SMTP smuggling defence: a bare LF in DATA (and "\n.\n", which is not the end) gets
    # 550 5.6.0 after the real CRLF.CRLF, and nothing is stored.
    import socket
    r = socket.create_connection(("127.0.0.1", port), timeout=10)
    rf = r.makefile("rb")
    r.sendall(b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<x@mx.test>\r\nDATA\r\n")
    lines = [rf.readline()]
    while lines[-1][:4] in (b"220 ", b"250-", b"250 "):
        lines.append(rf.readline())
    assert lines[-1].startswith(b"354 "), lines
    r.sendall(b"Subject: smuggled\r\n\r\nbare\nLF\n.\nMAIL FROM:<evil@client.test>\r\n.\r\nQUIT\r\n")
    reply = rf.readline()
    assert reply.startswith(b"550 5.6.0"), reply
    assert rf.readline().startswith(b"221 ")
    r.close()

with open(out + "/checks.txt", "w") as f:
    f.write("\n".join(checks) + "\n")
print("smtplib: %d messages sent" % len(checks))
