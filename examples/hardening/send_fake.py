"""Scripted fake servers for the smtpp-send hardening tests (test_send_*.py).

A Server listens on 127.0.0.1, port 0, and plays a script (a function of a Peer) for each
connection in its own thread. run_send() runs smtpp-send against it and returns what it
printed, its exit status and how long it ran. run_cases() runs a file's cases side by side
and reports each.

Nothing here depends on a fixed sleep being long enough: waits have generous deadlines and
end as soon as their condition holds.
"""

import os
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

SEND = os.environ.get("SMTPP_SEND", "")

# The RFC 5321 4.5.3.2 timeouts smtpp-send applies, by option.
RFC_TIMEOUTS = {
    "--connect-timeout": 30,
    "--command-timeout": 300,
    "--data-init-timeout": 120,
    "--data-block-timeout": 180,
    "--data-done-timeout": 600,
}

MESSAGE = b"From: a@client.test\nSubject: hardening\n\nHello.\n"

# smtpp-send's exit statuses (sysexits): refused for good, usage error, temporary failures only.
PERMANENT = 1
USAGE = 64
TEMPFAIL = 75


def need_send():
    if not SEND or not os.access(SEND, os.X_OK):
        print("SKIP: SMTPP_SEND is not set or not executable (run through ctest)")
        sys.exit(77)


def scaled_timeouts(factor):
    """smtpp-send options for every timeout at `factor` times its RFC value."""
    args = []
    for option, seconds in RFC_TIMEOUTS.items():
        args += [option, "%g" % (seconds * factor)]
    return args


def reply(code, *lines):
    """A reply: reply(250, "mx.test", "PIPELINING") -> b"250-mx.test\\r\\n250 PIPELINING\\r\\n"."""
    lines = lines or ("",)
    out = b""
    for i, text in enumerate(lines):
        text = text if isinstance(text, bytes) else text.encode()
        sep = b" " if i == len(lines) - 1 else b"-"
        out += str(code).encode() + sep + text + b"\r\n"
    return out


def big_message():
    """A message larger than the kernel can buffer between the two ends (the client's send
    buffer grows up to tcp_wmem's maximum; a Server with a small rcvbuf takes little)."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            wmem = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        wmem = 4 << 20
    lines = (wmem + (2 << 20)) // 78 + 1
    return b"Subject: big\n\n" + b"".join(b"%077d\n" % i for i in range(lines))


class Peer:
    """The server's end of one connection, as a script sees it."""

    def __init__(self, sock, stop):
        self.sock = sock
        self.stop = stop  # set when the test is over: long waits end then
        self.buf = b""
        self.lines = []  # every command line received, in order
        self.data_received = b""
        self.tls_error = None
        self.server_name = None

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the client sent nothing more")
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the client closed the connection")
        self.buf += chunk

    def line(self, timeout=60):
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, _, self.buf = self.buf.partition(b"\r\n")
        self.lines.append(line)
        return line

    def expect(self, verb, timeout=60):
        line = self.line(timeout)
        if not line.upper().startswith(verb.encode()):
            raise AssertionError("expected %s, got %r" % (verb, line))
        return line

    def data(self, timeout=60):
        """The content after 354, up to CRLF.CRLF (not unstuffed)."""
        deadline = time.monotonic() + timeout
        while True:
            end = self.buf.find(b"\r\n.\r\n")
            if end >= 0 or self.buf.startswith(b".\r\n"):
                cut = end + 2 if end >= 0 else 0
                self.data_received, self.buf = self.buf[:cut], self.buf[cut + 3:]
                return self.data_received
            self._fill(deadline)

    def bdat(self, timeout=60):
        """BDAT chunks in lockstep up to BDAT LAST, each answered 250; the content."""
        deadline = time.monotonic() + timeout
        content = b""
        while True:
            words = self.expect("BDAT", timeout).split()
            size, last = int(words[1]), words[-1].upper() == b"LAST"
            while len(self.buf) < size:
                self._fill(deadline)
            content, self.buf = content + self.buf[:size], self.buf[size:]
            self.send(b"250 2.0.0 Ok: queued\r\n" if last else b"250 2.0.0 chunk taken\r\n")
            if last:
                self.data_received = content
                return content

    def read_some(self, octets, timeout=60):
        """Takes at least `octets` of whatever comes (the body), then returns."""
        deadline = time.monotonic() + timeout
        while len(self.buf) < octets:
            self._fill(deadline)
        self.buf = b""

    def hold(self, limit=120):
        """Reads nothing and sends nothing until the test is over."""
        self.stop.wait(limit)

    def trickle(self, data, interval):
        """Sends `data` one octet at a time, `interval` seconds apart, until it is all sent,
        the client goes away or the test is over. True when it was all sent."""
        for i in range(len(data)):
            try:
                self.sock.sendall(data[i:i + 1])
            except OSError:
                return False
            if self.stop.wait(interval):
                return False
        return True

    def closed_by_client(self, timeout=60):
        """Waits for the client to close; True if it did (whatever it sent first is kept)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._fill(deadline)
        except EOFError:
            return True
        except (TimeoutError, OSError):
            return False

    def reset(self):
        """Closes with a TCP RST (SO_LINGER 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def start_tls(self, context):
        """The server's TLS handshake after its 220 to STARTTLS. Records the name the client
        asked for (SNI). Raises on failure, with tls_error set."""

        def sni(_sock, name, _ctx):
            self.server_name = name

        context.sni_callback = sni
        self.sock.settimeout(60)
        try:
            self.sock = context.wrap_socket(self.sock, server_side=True)
        except OSError as e:
            self.tls_error = str(e)
            raise
        self.buf = b""

    def smtp_setup(self, *capabilities, lmtp=False, name="mx.test"):
        """Greeting and EHLO (LHLO) with these capabilities."""
        self.send(reply(220, name + " ESMTP fake"))
        self.expect("LHLO" if lmtp else "EHLO")
        self.send(reply(250, name, *capabilities))

    def envelope(self, rcpt_replies, mail_reply=b"250 2.1.0 Ok\r\n"):
        """MAIL and one RCPT per reply, in lockstep (the server offers no PIPELINING)."""
        self.expect("MAIL")
        self.send(mail_reply)
        for r in rcpt_replies:
            self.expect("RCPT")
            self.send(r)

    def wind_down(self):
        """Whatever the client does after a failed transaction: RSET (250), then QUIT (221),
        or just closing."""
        try:
            while True:
                line = self.line(timeout=30)
                if line.upper().startswith(b"QUIT"):
                    self.send(reply(221, "2.0.0 Bye"))
                    return
                self.send(reply(250, "2.0.0 Ok"))
        except (EOFError, OSError):
            pass

    def quit(self):
        """QUIT and 221; an early close by the client is fine."""
        try:
            self.expect("QUIT", timeout=30)
            self.send(reply(221, "2.0.0 Bye"))
        except (EOFError, OSError):
            pass


class Server:
    """Listens on 127.0.0.1 port 0 and plays `script(peer)` for each connection."""

    def __init__(self, script, rcvbuf=None, backlog=16):
        self.script = script
        self.stop = threading.Event()
        self.peers = []
        self.errors = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Inherited by accepted sockets: a small window fills quickly when nobody reads.
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(backlog)
        self.listener.settimeout(0.2)  # to notice stop
        self.port = self.listener.getsockname()[1]
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(None)
            peer = Peer(sock, self.stop)
            self.peers.append(peer)
            t = threading.Thread(target=self._play, args=(peer,), daemon=True)
            self.threads.append(t)
            t.start()

    def _play(self, peer):
        try:
            self.script(peer)
        except Exception:  # the test reads these: a script that did not get what it expected
            self.errors.append(traceback.format_exc(limit=3))
        finally:
            try:
                peer.sock.close()
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.acceptor.join(10)
        self.listener.close()
        for t in self.threads:
            t.join(30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Result:
    def __init__(self, rc, out, err, elapsed):
        self.rc, self.out, self.err, self.elapsed = rc, out, err, elapsed
        self.text = out.decode("utf-8", "surrogateescape")
        self.errtext = err.decode("utf-8", "surrogateescape")
        self.lines = self.text.splitlines()

    def __str__(self):
        return "exit %s after %.1f s\n--- stdout\n%s--- stderr\n%s" % (
            self.rc, self.elapsed, self.text, self.errtext)


def run_send(port, *args, message=MESSAGE, to=("x@mx.test",), limit=90, program=None, inputs=None):
    """Runs smtpp-send to 127.0.0.1:port with the message on stdin (or with `inputs`, a list
    of files, directories and options such as --mbox FILE, instead); kills it after `limit`
    seconds (a failure: it should have given up long before)."""
    cmd = [program or SEND, "--server", "127.0.0.1:%d" % port, "--from", "a@client.test", "--helo", "client.test"]
    for t in to:
        cmd += ["--to", t]
    cmd += list(args) + (["-"] if inputs is None else list(inputs))
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, input=message if inputs is None else b"", capture_output=True, timeout=limit)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("smtpp-send still running after %d s (killed)\n--- stdout\n%s--- stderr\n%s" % (
            limit, (e.stdout or b"").decode(errors="replace"), (e.stderr or b"")[-2000:].decode(errors="replace")))
    result = Result(p.returncode, p.stdout, p.stderr, time.monotonic() - start)
    # A sanitizer's exit status (1) could pass for smtpp-send's own "not delivered".
    check(b"Sanitizer" not in p.stderr and b"runtime error:" not in p.stderr, "sanitizer report", result)
    return result


def check(condition, what, result=None, server=None):
    if condition:
        return
    text = what
    if result is not None:
        text += "\n" + str(result)
    if server is not None and server.errors:
        text += "--- server script\n" + "".join(server.errors)
    raise AssertionError(text)


def run_cases(cases):
    """Runs every case (name, function) in its own thread, prints ok/FAIL for each in order
    and exits: 0 when all passed, 1 otherwise."""
    outcomes = {}

    def play(name, fn):
        start = time.monotonic()
        try:
            fn()
            outcomes[name] = (None, time.monotonic() - start)
        except Exception:
            outcomes[name] = (traceback.format_exc(), time.monotonic() - start)

    threads = [threading.Thread(target=play, args=case, daemon=True) for case in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = 0
    for name, _ in cases:
        error, seconds = outcomes[name]
        if error:
            failed += 1
            print("FAIL: %s (%.1f s)\n%s" % (name, seconds, error))
        else:
            print("ok: %s (%.1f s)" % (name, seconds))
    sys.exit(1 if failed else 0)
