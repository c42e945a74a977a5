"""Shared helpers for the server hardening tests (test_server_*.py).

Each test starts smtpp-server (and asio-server when it was built; or the servers SMTPP_SERVERS
names) on 127.0.0.1 with port 0, talks to it with plain Python sockets, stops what it started
by PID and removes its temporary directory. Conditions are waited for with polling deadlines, never with fixed sleeps, so a
loaded machine or a sanitizer build only makes the tests slower. Exit status 77 (ctest: skipped)
when the programs are not given in the environment (SMTPP_SERVER, SMTPP_ASIO_SERVER, SMTPP_TLS).
"""
import atexit
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SKIP = 77
_servers = []
_tmp = []


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


_print_lock = threading.Lock()


def ok(what):
    with _print_lock:  # whole lines, also from tests running in parallel
        sys.stdout.write("ok: %s\n" % what)
        sys.stdout.flush()


# The servers, by kind: the same connection code on different event loops.
BINARIES = {"epoll": "SMTPP_SERVER", "asio": "SMTPP_ASIO_SERVER", "libuv": "SMTPP_LIBUV_SERVER",
            "uring": "SMTPP_URING_SERVER", "coro": "SMTPP_CORO_SERVER"}
# A server that cannot run here at all (uring-server where io_uring is not allowed) exits with
# this status and says why; the test is skipped.
UNAVAILABLE = 3


def built(kind):
    path = os.environ.get(BINARIES[kind], "")
    return bool(path) and os.access(path, os.X_OK)


def server_kinds():
    """The servers to test: those SMTPP_SERVERS names (ctest runs some tests once more for each
    server on another loop), else "epoll" and "asio" when it was built."""
    if not built("epoll"):
        skip("SMTPP_SERVER is not set (run through ctest)")
    named = os.environ.get("SMTPP_SERVERS", "").split()
    for kind in named:
        if not built(kind):
            skip("the %s server is not built" % kind)
    if named:
        return named
    return ["epoll", "asio"] if built("asio") else ["epoll"]


def in_parallel(fn, kinds):
    """Runs fn(kind) for every kind at once, each in its own thread; re-raises the first failure."""
    errors = []

    def go(kind):
        try:
            fn(kind)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=go, args=(k,)) for k in kinds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def binary(kind):
    return os.environ[BINARIES[kind]]


def tls_built():
    return os.environ.get("SMTPP_TLS", "0") == "1" and shutil.which("openssl") is not None


def tmpdir():
    d = tempfile.mkdtemp(prefix="smtpp-hardening.")
    _tmp.append(d)
    return d


def wait_until(cond, timeout, what, interval=0.02):
    """Polls cond() until it returns something true; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def make_cert(directory):
    """A throwaway self-signed certificate in a new directory under `directory` (tests running
    in parallel get one each): returns (cert, key) paths."""
    own = tempfile.mkdtemp(prefix="cert.", dir=directory)
    cert, key = os.path.join(own, "cert.pem"), os.path.join(own, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=mx.test", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def client_tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def cpu_seconds(pid):
    """User + system CPU time the process used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sanitized(path, what=b"__asan_init"):
    """True when the program was built with AddressSanitizer (its memory figures mean nothing),
    or with the sanitizer whose runtime symbol `what` names."""
    with open(path, "rb") as f:
        return what in f.read()


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, hard), max(need, hard)))
    except (ValueError, OSError):
        if hard < need:
            skip("this process cannot have %d descriptors" % need)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """One server process on 127.0.0.1:<free port>; its output goes to <dir>/<name>.log unless
    `stdout` is given. limits: {resource.RLIMIT_...: value or (soft, hard)} for the server, as
    `ulimit` would set them before starting it."""

    def __init__(self, kind, directory, *args, name=None, limits=None, stdout=None):
        self.kind = kind
        self.name = name or kind
        self.log_path = os.path.join(directory, self.name + ".log")
        cmd = [binary(kind), "--listen", "127.0.0.1:0", "--hostname", "mx.test"] + list(args)

        def limit():
            for which, value in (limits or {}).items():
                resource.setrlimit(which, value if isinstance(value, tuple) else (value, value))

        self.pipe = stdout is not None
        out = stdout if self.pipe else open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     preexec_fn=limit if limits else None)
        if not self.pipe:
            out.close()
        _servers.append(self)
        self.pid = self.proc.pid
        self.port = None
        if not self.pipe:
            found = self.wait_log(r"listening on 127\.0\.0\.1:(\d+)", 30)
            self.port = int(found.group(1))

    def log(self):
        if self.pipe:
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, timeout=10):
        """Waits until the log matches the regular expression; returns the match."""
        def look():
            if self.proc.poll() == UNAVAILABLE and not re.search(pattern, self.log()):
                skip(self.log().strip().splitlines()[-1])
            if self.proc.poll() is not None and not re.search(pattern, self.log()):
                raise AssertionError("%s exited with %s:\n%s" % (self.name, self.proc.returncode, self.log()))
            return re.search(pattern, self.log())
        return wait_until(look, timeout, "%r in the %s log" % (pattern, self.name))

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends `sig`; the server must exit with status 0 within `timeout` seconds."""
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s ignored signal %d" % (self.name, sig))
        if rc != 0:
            raise AssertionError("%s exited with status %d:\n%s" % (self.name, rc, self.log()))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Client:
    """A blocking SMTP client socket with a reply reader; `source` picks the client address
    (any of 127.0.0.0/8 works on Linux)."""

    def __init__(self, port, source="127.0.0.1", timeout=10, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.timeout = timeout

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply(self):
        """The next complete reply: (code, text of its lines joined by newlines)."""
        while True:
            m = re.match(rb"((?:\d{3}-[^\r\n]*\r\n)*)(\d{3})(?: [^\r\n]*)?\r\n", self.buf)
            if m:
                text = self.buf[:m.end()].decode("utf-8", "replace")
                self.buf = self.buf[m.end():]
                return int(m.group(2)), text
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError("connection closed, unread: %r" % self.buf[:200])
            self.buf += data

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def expect(self, line, code):
        got, text = self.cmd(line) if line is not None else self.reply()
        if got != code:
            raise AssertionError("%r: expected %d, got %r" % (line, code, text))
        return text

    def closed(self, timeout):
        """Reads until the server closes; returns what arrived, or None on timeout."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                data = self.sock.recv(65536)
                if not data:
                    return self.buf
                self.buf += data
        except socket.timeout:
            return None
        except ConnectionResetError:
            return self.buf
        finally:
            self.sock.settimeout(self.timeout)
        return None

    def close(self):
        self.sock.close()


def connect_and_greet(port, source="127.0.0.1"):
    c = Client(port, source)
    c.expect(None, 220)
    return c


def run(main):
    """Runs main(); prints the server logs on failure; exit status 0, 1, or 77 (skipped)."""
    try:
        main()
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        for s in _servers:
            print("--- %s log (pid %d)" % (s.name, s.pid))
            print(s.log()[-4000:])
        sys.exit(1)
    sys.exit(0)


@atexit.register
def _cleanup():
    for s in _servers:
        s.kill()
    for d in _tmp:
        shutil.rmtree(d, ignore_errors=True)


signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
