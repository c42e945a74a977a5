#!/usr/bin/python3
"""A Python aiosmtpd server that stores each message as DIR/<n>.eml (the exact bytes received,
after dot-unstuffing) and DIR/<n>.json (envelope). Prints "listening on 127.0.0.1:PORT" and runs
until SIGTERM.  usage: aiosmtpd_sink.py PORT DIR [--lmtp]"""
import asyncio
import json
import signal
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP

port, out = int(sys.argv[1]), sys.argv[2]
lmtp = "--lmtp" in sys.argv


class Store:
    n = 0

    async def handle_DATA(self, server, session, envelope):
        with open("%s/%d.eml" % (out, Store.n), "wb") as f:
            f.write(envelope.original_content)
        with open("%s/%d.json" % (out, Store.n), "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_to": envelope.rcpt_tos,
                       "mail_options": envelope.mail_options, "helo": session.host_name}, f)
        Store.n += 1
        if lmtp:  # RFC 2033 4.2: one reply per recipient, joined by CRLF for aiosmtpd
            return "\r\n".join("250 2.0.0 Stored for %s" % r for r in envelope.rcpt_tos)
        return "250 2.0.0 Stored"


class LMTPController(Controller):
    def factory(self):
        return LMTP(self.handler, enable_SMTPUTF8=True, decode_data=False)


kw = dict(hostname="127.0.0.1", port=port)
if lmtp:
    c = LMTPController(Store(), **kw)
else:
    c = Controller(Store(), enable_SMTPUTF8=True, decode_data=False, **kw)
c.start()
print("listening on 127.0.0.1:%d" % port, flush=True)
signal.sigwait([signal.SIGTERM, signal.SIGINT])
c.stop()
