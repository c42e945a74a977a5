#!/bin/bash
# smtpp-send (smtpp::client_session) against three servers:
#   * smtpp-server: BDAT (CHUNKING offered), pipelining, 8-bit, SMTPUTF8 addresses, a 3 MB
#     message, STARTTLS + AUTH, LMTP (one line per recipient), a refusal (exit status 1);
#   * Python aiosmtpd (no PIPELINING, no CHUNKING: DATA in lockstep, SMTPUTF8), SMTP and LMTP;
#   * Postfix smtp-sink (PIPELINING, DATA), its dump files compared.
# smtpp-send turns LF line ends into CRLF; stored bytes are compared with the CRLF form.
. "$(dirname "$0")/lib.sh"
[ -n "${SMTPP_SEND:-}" ] && [ -x "$SMTPP_SEND" ] || skip "smtpp-send is not built"
smtpp_send() { timeout 30 "$SMTPP_SEND" "$@"; }

printf 'From: a@client.test\nSubject: smtpp-send\n\n.leading dot\n..two\n.\nGr\303\274\303\237e\nend\n' >"$T/msg.txt"
crlf "$T/msg.txt" "$T/msg.eml"
printf 'From: J\303\266rg <j\303\266rg@client.test>\nSubject: utf8\n\nHall\303\266chen\n' >"$T/utf8.txt"
crlf "$T/utf8.txt" "$T/utf8.eml"
"$PY" - "$T/big.txt" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"Subject: big\n\n")
    for i in range(40000):
        f.write(b"%sline %06d %s\n" % (b"." if i % 5 == 0 else b"", i, b"y" * 64))
PY
crlf "$T/big.txt" "$T/big.eml"
U1=$'j\303\266rg@client.test'
U2=$'\347\224\260\344\270\255@\344\276\213\343\201\210.test'

# --- smtpp-server ---
make_cert
# The test certificate names mx.test: smtpp-send verifies it against itself as the only CA.
VERIFY=(--ca-file "$T/cert.pem" --tls-name mx.test)
md="$T/smtpp-md"
mkdir -p "$md"
args=(--maildir "$md")
[ "${SMTPP_TLS:-0}" = 1 ] && args+=(--auth user1:secret --tls-cert "$T/cert.pem" --tls-key "$T/key.pem")
start_server epoll smtpp "${args[@]}"
smtpp_send --server 127.0.0.1:$PORT --from a@client.test --to x@mx.test --to y@mx.test --to z@mx.test --helo client.test "$T/msg.txt" >"$T/out1" ||
    fail "smtpp-send -> smtpp-server: $(cat "$T/out1")"
[ "$(grep -c ': 250 2.0.0' "$T/out1")" = 3 ] || fail "three recipient lines expected: $(cat "$T/out1")"
$CHECK "$md" --index 0 --eml "$T/msg.eml" --from a@client.test --to x@mx.test --to y@mx.test --to z@mx.test \
    --helo client.test --chunked yes --eight-bit yes --param BODY=8BITMIME --param SIZE="$(stat -c %s "$T/msg.eml")" ||
    fail "smtpp-send -> smtpp-server message"
ok "smtpp-send -> smtpp-server: BDAT, 3 recipients, 8BITMIME, exact SIZE"
smtpp_send --server 127.0.0.1:$PORT --from "$U1" --to "$U2" "$T/utf8.txt" >"$T/out2" || fail "SMTPUTF8: $(cat "$T/out2")"
$CHECK "$md" --index 1 --eml "$T/utf8.eml" --from "$U1" --to "$U2" --param SMTPUTF8= || fail "SMTPUTF8 message"
ok "smtpp-send -> smtpp-server: SMTPUTF8 addresses and headers"
smtpp_send --server 127.0.0.1:$PORT --from a@client.test --to x@mx.test - <"$T/big.txt" >"$T/out3" || fail "big: $(cat "$T/out3")"
$CHECK "$md" --index 2 --eml "$T/big.eml" || fail "big message"
ok "smtpp-send -> smtpp-server: $(stat -c %s "$T/big.eml") bytes from stdin"
n=3
if [ "${SMTPP_TLS:-0}" = 1 ]; then
    smtpp_send --server 127.0.0.1:$PORT --from a@client.test --to x@mx.test --starttls "${VERIFY[@]}" --auth user1:secret "$T/msg.txt" >"$T/out4" ||
        fail "STARTTLS + AUTH: $(cat "$T/out4")"
    $CHECK "$md" --index 3 --eml "$T/msg.eml" --tls yes --auth user1 || fail "STARTTLS + AUTH message"
    if smtpp_send --server 127.0.0.1:$PORT --from a@client.test --to x@mx.test --starttls "${VERIFY[@]}" --auth user1:wrong "$T/msg.txt" >"$T/out5" 2>&1; then
        fail "a wrong password gave exit status 0"
    fi
    n=4
    ok "smtpp-send -> smtpp-server: STARTTLS + AUTH, wrong password exit 1"
fi
$CHECK "$md" --count $n || fail "message count"
stop_server

# A 3 MB message through TLS, to both servers (BDAT chunks through the memory-BIO layer).
if [ "${SMTPP_TLS:-0}" = 1 ]; then
    for kind in $SERVERS; do
        tm="$T/$kind-tls-big"
        mkdir -p "$tm"
        start_server "$kind" "$kind-tls-big" --maildir "$tm" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
        smtpp_send --server 127.0.0.1:$PORT --starttls "${VERIFY[@]}" --from a@client.test --to x@mx.test "$T/big.txt" >"$T/out-big" ||
            fail "$kind: big message over TLS: $(cat "$T/out-big")"
        smtpp_send --server 127.0.0.1:$PORT --starttls "${VERIFY[@]}" --from a@client.test --to x@mx.test "$T/msg.txt" >"$T/out-big" ||
            fail "$kind: second message over TLS: $(cat "$T/out-big")"
        $CHECK "$tm" --count 2 --index 0 --eml "$T/big.eml" --tls yes --chunked yes || fail "$kind: big message over TLS"
        $CHECK "$tm" --index 1 --eml "$T/msg.eml" --tls yes || fail "$kind: small message over TLS"
        stop_server
        ok "$kind: 3 MB over STARTTLS"
    done
fi

lm="$T/smtpp-lmtp"
mkdir -p "$lm"
start_server epoll smtpp-lmtp --maildir "$lm" --lmtp --require-auth
if smtpp_send --server 127.0.0.1:$PORT --lmtp --from a@client.test --to x@mx.test --to y@mx.test "$T/msg.txt" >"$T/out6" 2>"$T/err6"; then
    fail "a refused transaction gave exit status 0"
fi
[ "$(grep -c ': 530 5.7.0' "$T/out6")" = 2 ] || fail "refusal lines: $(cat "$T/out6" "$T/err6")"
$CHECK "$lm" --count 0 || fail "refused message stored"
ok "smtpp-send -> smtpp-server: refused (530), one line per recipient, exit 1"
stop_server
start_server epoll smtpp-lmtp2 --maildir "$lm" --lmtp
smtpp_send --server 127.0.0.1:$PORT --lmtp --from a@client.test --to x@mx.test --to y@mx.test "$T/msg.txt" >"$T/out7" ||
    fail "LMTP: $(cat "$T/out7")"
[ "$(grep -c ': 250 2.0.0' "$T/out7")" = 2 ] || fail "LMTP lines: $(cat "$T/out7")"
$CHECK "$lm" --count 1 --index 0 --eml "$T/msg.eml" --to x@mx.test --to y@mx.test || fail "LMTP message"
ok "smtpp-send -> smtpp-server: LMTP"
stop_server

# --- Python aiosmtpd ---
if "$PY" -c 'import aiosmtpd' 2>/dev/null; then
    for mode in smtp lmtp; do
        am="$T/aio-$mode"
        mkdir -p "$am"
        port=$(free_port)
        extra=()
        [ $mode = lmtp ] && extra=(--lmtp)
        "$PY" "$LIB/aiosmtpd_sink.py" "$port" "$am" "${extra[@]}" >"$T/aiosmtpd-$mode.log" 2>&1 &
        apid=$!
        PIDS+=("$apid")
        wait_port "$port"
        smtpp_send --server 127.0.0.1:$port "${extra[@]}" --from "$U1" --to x@mx.test --to "$U2" "$T/msg.txt" >"$T/out8" ||
            fail "smtpp-send -> aiosmtpd ($mode): $(cat "$T/out8")"
        [ "$(grep -c ': 250' "$T/out8")" = 2 ] || fail "aiosmtpd ($mode) lines: $(cat "$T/out8")"
        smtpp_send --server 127.0.0.1:$port "${extra[@]}" --from a@client.test --to x@mx.test - <"$T/big.txt" >"$T/out9" ||
            fail "smtpp-send -> aiosmtpd ($mode) big: $(cat "$T/out9")"
        kill "$apid"
        wait "$apid" 2>/dev/null
        cmp "$am/0.eml" "$T/msg.eml" || fail "aiosmtpd ($mode) stored other bytes"
        cmp "$am/1.eml" "$T/big.eml" || fail "aiosmtpd ($mode) stored other bytes (big)"
        "$PY" - "$am/0.json" "$U1" "$U2" "$mode" <<'PY' || fail "aiosmtpd ($mode) envelope"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["mail_from"] == sys.argv[2], e
assert e["rcpt_to"] == ["x@mx.test", sys.argv[3]], e
if sys.argv[4] == "smtp":
    assert "SMTPUTF8" in e["mail_options"] and "BODY=8BITMIME" in e["mail_options"], e
PY
        ok "smtpp-send -> aiosmtpd ($mode): DATA in lockstep, SMTPUTF8, stored bytes equal"
    done
else
    echo "note: python3-aiosmtpd is not installed, aiosmtpd part skipped"
fi

# --- Postfix smtp-sink ---
SINK=/usr/sbin/smtp-sink
if [ -x "$SINK" ]; then
    sd="$T/sink"
    mkdir -p "$sd"
    chmod 755 "$T" # smtp-sink writes as nobody
    chmod 777 "$sd"
    port=$(free_port)
    user=()
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    "$SINK" "${user[@]}" -d "$sd/%M." 127.0.0.1:$port 20 >"$T/sink.log" 2>&1 &
    spid=$!
    PIDS+=("$spid")
    wait_port "$port"
    smtpp_send --server 127.0.0.1:$port --from a@client.test --to x@mx.test --to y@mx.test --verbose "$T/msg.txt" >"$T/out10" 2>"$T/send10.log" ||
        fail "smtpp-send -> smtp-sink: $(cat "$T/out10")"
    [ "$(grep -c ': 250 2.0.0' "$T/out10")" = 2 ] || fail "smtp-sink lines: $(cat "$T/out10")"
    sleep 0.3
    kill "$spid"
    wait "$spid" 2>/dev/null
    # The dump: X-* envelope lines, a Received: header, then the message with LF line ends.
    "$PY" - "$sd" "$T/msg.eml" <<'PY' || fail "smtp-sink dump"
import glob, sys
files = [f for f in glob.glob(sys.argv[1] + "/*") ]
assert len(files) == 1, files
lines = open(files[0], "rb").read().split(b"\n")
env = [l for l in lines if l.startswith(b"X-")]
assert b"X-Mail-Args: <a@client.test> BODY=8BITMIME" in env, env
assert env.count(b"X-Rcpt-Args: <x@mx.test>") == 1 and env.count(b"X-Rcpt-Args: <y@mx.test>") == 1, env
i = len(env)
assert lines[i].startswith(b"Received:"), lines[i]
i += 1
while lines[i].startswith(b"\t"):
    i += 1
got = b"\n".join(lines[i:])
want = open(sys.argv[2], "rb").read().replace(b"\r\n", b"\n")
assert got.rstrip(b"\n") == want.rstrip(b"\n"), (got, want)
PY
    ok "smtpp-send -> smtp-sink: pipelined DATA, dump equal"
else
    echo "note: postfix (smtp-sink) is not installed, smtp-sink part skipped"
fi
echo "smtpp-send: all passed"
