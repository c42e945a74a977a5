#!/bin/bash
# Python's smtplib (Debian's /usr/bin/python3) -> smtpp-server and asio-server: several
# recipients, lines starting with '.', BODY=8BITMIME, SMTPUTF8 (UTF-8 addresses), the null
# reverse path, a message without final CRLF, a large message, SIZE over --max-size refused,
# LMTP, STARTTLS, and a bare LF in DATA refused with 550 5.6.0 (the SMTP smuggling defence).
# Stored bytes compared with the sent bytes; envelopes checked.
. "$(dirname "$0")/lib.sh"

for kind in $SERVERS; do
    md="$T/$kind-md"
    mkdir -p "$md" "$T/$kind-sent"
    start_server "$kind" "$kind" --maildir "$md" --max-size 2000000
    "$PY" "$LIB/smtplib_send.py" "$PORT" "$T/$kind-sent" || fail "$kind: smtplib"
    $CHECK "$md" --count "$(wc -l <"$T/$kind-sent/checks.txt")" || fail "$kind: message count"
    while read -r line; do
        eval "$CHECK \"\$md\" $line" || fail "$kind: check $line"
    done <"$T/$kind-sent/checks.txt"
    ok "$kind: smtplib SMTP ($(wc -l <"$T/$kind-sent/checks.txt") messages)"
    stop_server

    lm="$T/$kind-lmtp"
    mkdir -p "$lm" "$T/$kind-lsent"
    start_server "$kind" "$kind-lmtp" --maildir "$lm" --lmtp
    "$PY" "$LIB/smtplib_send.py" "$PORT" "$T/$kind-lsent" --lmtp || fail "$kind: smtplib LMTP"
    $CHECK "$lm" --count 1 || fail "$kind: LMTP count"
    while read -r line; do
        eval "$CHECK \"\$lm\" $line" || fail "$kind: LMTP check $line"
    done <"$T/$kind-lsent/checks.txt"
    ok "$kind: smtplib LMTP"
    stop_server

    # STARTTLS with DATA (dot-unstuffing behind the TLS layer), 2 MB with many dot lines.
    if [ "${SMTPP_TLS:-0}" = 1 ]; then
        [ -f "$T/cert.pem" ] || make_cert
        tm="$T/$kind-tls"
        mkdir -p "$tm"
        start_server "$kind" "$kind-tls" --maildir "$tm" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
        "$PY" - "$PORT" "$T/tls.eml" <<'PY' || fail "$kind: smtplib STARTTLS"
import smtplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
msg = b"Subject: tls\r\n\r\n" + b"".join(b".%05d %s\r\n" % (i, b"t" * 90) for i in range(20000))
open(sys.argv[2], "wb").write(msg)
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.starttls(context=ctx)
s.sendmail("a@client.test", ["x@mx.test", "y@mx.test"], msg)
s.sendmail("a@client.test", ["z@mx.test"], msg)
s.quit()
PY
        $CHECK "$tm" --count 2 --index 0 --eml "$T/tls.eml" --tls yes --to x@mx.test --to y@mx.test || fail "$kind: TLS message 0"
        $CHECK "$tm" --index 1 --eml "$T/tls.eml" --tls yes --to z@mx.test || fail "$kind: TLS message 1"
        stop_server
        ok "$kind: smtplib STARTTLS, 2 x 2 MB with DATA"
    fi
done
echo "python smtplib: all passed"
