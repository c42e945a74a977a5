"""smtpp-send --starttls verifies the server's certificate and name (RFC 3207 4.1, RFC 6125):

  * a certificate from a CA given with --ca-file, for the --tls-name asked for (sent as SNI),
    or for the IP address connected to: delivered, AUTH after the handshake;
  * a self-signed certificate, one from a CA the system does not trust, one for another name,
    one for a name when an address was asked for: the handshake fails, the reason is printed,
    and nothing is sent after the handshake (no AUTH: the server sees EHLO and STARTTLS only);
  * --insecure: delivered, with a warning;
  * --insecure, --ca-file and --tls-name without --starttls, and --insecure with --ca-file:
    usage errors.
"""

import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from send_fake import TEMPFAIL, USAGE, Server, check, need_send, reply, run_cases, run_send, scaled_timeouts  # noqa: E402

need_send()
if os.environ.get("SMTPP_TLS", "0") != "1":
    print("SKIP: smtpp-send is built without OpenSSL")
    sys.exit(77)
if not shutil.which("openssl"):
    print("SKIP: the openssl command is not installed")
    sys.exit(77)

# Nothing here waits for a timeout: a tenth of the RFC values (30 s for a reply) only
# bounds a hang.
BOUND = scaled_timeouts(0.1)
OK = b"250 2.1.5 Ok\r\n"
DIR = tempfile.mkdtemp(prefix="smtpp-send-tls.")
EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=DIR)


def make_certificates():
    """ca.pem (a test CA), and key/certificate pairs: mx (DNS mx.test, from the CA), other
    (DNS other.test, from the CA), ip (IP 127.0.0.1, from the CA), self (mx.test, self-signed)."""
    openssl("req", "-x509", *EC, "-days", "2", "-subj", "/CN=smtpp test CA", "-keyout", "ca.key", "-out", "ca.pem",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    for serial, (name, san) in enumerate((("mx", "DNS:mx.test"), ("other", "DNS:other.test"),
                                          ("ip", "IP:127.0.0.1")), start=1):
        with open(os.path.join(DIR, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" % san)
        openssl("req", "-new", *EC, "-subj", "/CN=" + name, "-keyout", name + ".key", "-out", name + ".csr")
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
                str(serial), "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem")
    openssl("req", "-x509", *EC, "-days", "2", "-subj", "/CN=mx.test", "-addext", "subjectAltName=DNS:mx.test",
            "-keyout", "self.key", "-out", "self.pem")


def tls_server(name):
    """Offers STARTTLS with certificate `name`; after the handshake EHLO, AUTH, one message."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(DIR, name + ".pem"), os.path.join(DIR, name + ".key"))

    def script(peer):
        peer.smtp_setup("STARTTLS", "8BITMIME")
        peer.expect("STARTTLS")
        peer.send(b"220 2.0.0 Ready to start TLS\r\n")
        try:
            peer.start_tls(context)
        except OSError:  # ssl.SSLError included: the client refused the certificate
            return
        peer.expect("EHLO")
        peer.send(reply(250, "mx.test", "AUTH PLAIN LOGIN", "8BITMIME"))
        peer.expect("AUTH")
        peer.send(b"235 2.7.0 Authentication successful\r\n")
        peer.envelope([OK])
        peer.expect("DATA")
        peer.send(b"354 go ahead\r\n")
        peer.data()
        peer.send(b"250 2.0.0 Ok: queued\r\n")
        peer.quit()

    return Server(script)


def verbs(peer):
    return [line.split(b" ")[0].upper().decode() for line in peer.lines]


def delivered(certificate, *args, sni):
    with tls_server(certificate) as server:
        r = run_send(server.port, "--starttls", "--auth", "user:secret", "--verbose", *args, *BOUND)
    check(r.rc == 0 and r.lines == ["x@mx.test: 250 2.0.0 Ok: queued"], "delivered", r, server)
    peer = server.peers[0]
    check(verbs(peer)[:4] == ["EHLO", "STARTTLS", "EHLO", "AUTH"], "AUTH after the handshake", r, server)
    check(peer.server_name == sni, "SNI %r (got %r)" % (sni, peer.server_name), r)
    return r


def refused(certificate, reason, *args, name="mx.test"):
    with tls_server(certificate) as server:
        r = run_send(server.port, "--starttls", "--auth", "user:secret", *args, *BOUND)
    check(r.rc == TEMPFAIL, "exit status 75 (the message may go once the certificate is fixed)", r, server)
    why = r"TLS handshake with %s failed: certificate verification failed: %s \(checked for %s\)" % (
        re.escape(name), reason, re.escape(name))
    check(re.search("smtpp-send: " + why, r.errtext), "the reason printed", r)
    check(len(r.lines) == 1 and re.fullmatch("x@mx.test: not delivered: " + why, r.lines[0]), "recipient line", r)
    peer = server.peers[0]
    check(verbs(peer) == ["EHLO", "STARTTLS"], "nothing after the handshake (got %s)" % verbs(peer), r, server)
    check(peer.tls_error is not None, "the server saw the handshake fail", r, server)


def verified_by_name():
    r = delivered("mx", "--ca-file", os.path.join(DIR, "ca.pem"), "--tls-name", "mx.test", sni="mx.test")
    check("== TLS: " in r.errtext and "certificate verified for mx.test" in r.errtext, "verification shown", r)


def verified_by_address():
    delivered("ip", "--ca-file", os.path.join(DIR, "ca.pem"), sni=None)  # no SNI for an address


def self_signed():
    refused("self", "self.signed certificate", "--tls-name", "mx.test")


def unknown_ca():
    refused("mx", "unable to get local issuer certificate", "--tls-name", "mx.test")


def wrong_name():
    refused("other", "hostname mismatch", "--ca-file", os.path.join(DIR, "ca.pem"), "--tls-name", "mx.test")


def name_for_an_address():
    refused("mx", "IP address mismatch", "--ca-file", os.path.join(DIR, "ca.pem"), name="127.0.0.1")


def insecure():
    r = delivered("self", "--insecure", "--tls-name", "mx.test", sni="mx.test")
    check("warning: --insecure" in r.errtext and "certificate NOT verified" in r.errtext, "a loud warning", r)


def usage_errors():
    for args, text in ((["--insecure"], "go with --starttls"), (["--ca-file", "ca.pem"], "go with --starttls"),
                       (["--tls-name", "mx.test"], "go with --starttls"),
                       (["--starttls", "--insecure", "--ca-file", "ca.pem"], "--ca-file would be ignored")):
        r = run_send(9, *args)
        check(r.rc == USAGE and text in r.errtext, "usage error for %s" % args, r)


try:
    make_certificates()
    run_cases([
        ("certificate from --ca-file for --tls-name: delivered, SNI sent", verified_by_name),
        ("certificate for the IP address connected to: delivered, no SNI", verified_by_address),
        ("self-signed certificate: refused, no AUTH", self_signed),
        ("certificate from a CA not trusted: refused, no AUTH", unknown_ca),
        ("certificate for another name: refused, no AUTH", wrong_name),
        ("certificate for a name, address asked for: refused, no AUTH", name_for_an_address),
        ("--insecure: delivered, with a warning", insecure),
        ("TLS options without --starttls: usage errors", usage_errors),
    ])
finally:
    shutil.rmtree(DIR, ignore_errors=True)
