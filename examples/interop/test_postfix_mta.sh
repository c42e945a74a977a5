#!/bin/bash
# smtpp-send (smtpp::client_session) -> a real Postfix MTA: a private instance (own main.cf and
# master.cf, queue and mailboxes in the test's temporary directory, smtpd on two loopback
# ports) delivering the virtual domain mx.test into Maildirs, one per recipient. Port 1 offers
# CHUNKING (smtpp-send uses BDAT), port 2 does not (DATA, dot-stuffed). Over both: a plain
# message, an 8-bit body (BODY=8BITMIME), lines starting with '.', three recipients in one
# transaction, a 1 MB message; each delivered file must be the sent message byte for byte
# after the headers Postfix prepends (Return-Path, X-Original-To, Delivered-To, Received). A
# recipient Postfix does not know: 550 on its line, exit status 1, the others delivered.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -n "${SMTPP_SEND:-}" ] && [ -x "$SMTPP_SEND" ] || skip "smtpp-send is not built"
. "$LIB/postfix.sh"

bdat_port=$(free_port)
data_port=$(free_port)
mkdir -p "$PF/etc" "$PF/mail"
chown nobody "$PF/mail"
{
    pf_master_cf "$bdat_port"
    echo "127.0.0.1:$data_port inet n - n - - smtpd -o smtpd_discard_ehlo_keywords=chunking"
} >"$PF/etc/master.cf"
# The mailboxes (one per recipient used below); any other address in mx.test is unknown.
for kind in bdat data; do
    for box in plain eight dots1 dots2 dots3 big known; do
        echo "$kind$box@mx.test $kind$box/Maildir/"
    done
done >"$PF/etc/vmailbox"
start_postfix "$bdat_port" \
    "virtual_mailbox_domains = mx.test" \
    "virtual_mailbox_base = $PF/mail" \
    "virtual_mailbox_maps = texthash:$PF/etc/vmailbox" \
    "virtual_uid_maps = static:$(id -u nobody)" \
    "virtual_gid_maps = static:$(id -g nobody)"

# The messages (LF line ends: smtpp-send sends CRLF, Postfix stores LF in Maildir).
# hdr SUBJECT [HEADER]: a complete header section (Postfix adds no Date or Message-ID then).
hdr() {
    printf 'From: <a@client.test>\nTo: <rcpt@mx.test>\nSubject: %s\nDate: Fri, 4 Dec 2026 12:00:00 +0000\n' "$1"
    printf 'Message-ID: <%s@client.test>\n' "$1"
    [ $# -lt 2 ] || printf '%s\n' "$2"
    printf '\n'
}
{ hdr plain; printf 'Hello Postfix.\nA second line.\n'; } >"$T/plain.txt"
{ hdr eightbit 'Content-Type: text/plain; charset=utf-8'; printf 'Gr\303\274\303\237e aus K\303\266ln \342\202\254\n\377\376 raw octets\n'; } >"$T/eightbit.txt"
{ hdr dots; printf '.leading dot\n..two dots\n.\n...\n . space dot\nend\n.\n'; } >"$T/dots.txt"
"$PY" - "$T/big.txt" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: <a@client.test>\nSubject: big\nMessage-ID: <big@client.test>\n\n")
    for i in range(15000):
        f.write(b"%sline %06d %s\n" % (b"." if i % 5 == 0 else b"", i, b"q" * 60))
PY

# delivered USER FILE FROM: USER's Maildir holds exactly one message, which is FILE after
# Postfix's Return-Path, X-Original-To, Delivered-To and Received headers.
delivered() {
    "$PY" - "$PF/mail/$1/Maildir" "$1@mx.test" "$2" "$3" <<'PY'
import glob, sys, time
box, rcpt, want_file, sender = sys.argv[1:5]
deadline = time.time() + 30
while True:
    files = glob.glob(box + "/new/*") + glob.glob(box + "/cur/*")
    if files or time.time() > deadline:
        break
    time.sleep(0.1)
if len(files) != 1:
    sys.exit("%s: %d messages delivered, 1 expected" % (rcpt, len(files)))
got = open(files[0], "rb").read()
lines = got.split(b"\n")
want_top = [b"Return-Path: <%s>" % sender.encode(), b"X-Original-To: " + rcpt.encode(),
            b"Delivered-To: " + rcpt.encode()]
if lines[:3] != want_top:
    sys.exit("%s: first headers %r, expected %r" % (rcpt, lines[:3], want_top))
if not lines[3].startswith(b"Received: from "):
    sys.exit("%s: no Received header: %r" % (rcpt, lines[3]))
i = 4
while lines[i].startswith(b"\t"):
    i += 1
received = b" ".join(lines[3:i])
if b"by postfix.test (Postfix) with ESMTP id " not in received:
    sys.exit("%s: Received header does not say ESMTP: %r" % (rcpt, received))
body = b"\n".join(lines[i:])
want = open(want_file, "rb").read()
if body != want:
    n = next((k for k in range(min(len(body), len(want))) if body[k] != want[k]), min(len(body), len(want)))
    sys.exit("%s: delivered bytes differ at %d of %d/%d: %r vs %r"
             % (rcpt, n, len(body), len(want), body[n:n + 40], want[n:n + 40]))
PY
}

send() { timeout 60 "$SMTPP_SEND" "$@"; }

for kind in bdat data; do
    port=$bdat_port
    [ $kind = data ] && port=$data_port
    send --server 127.0.0.1:$port --helo client.test --from a@client.test --to ${kind}plain@mx.test "$T/plain.txt" \
        >"$T/out" 2>"$T/send.log" || fail "$kind plain: $(cat "$T/out")"
    grep -q "^${kind}plain@mx.test: 250 2.0.0 Ok: .*queued as [0-9A-F]" "$T/out" || fail "$kind plain: $(cat "$T/out")"
    delivered ${kind}plain "$T/plain.txt" a@client.test || fail "$kind plain: $(pf_log)"
    ok "$kind: plain message delivered byte for byte"

    send --server 127.0.0.1:$port --verbose --from a@client.test --to ${kind}eight@mx.test "$T/eightbit.txt" \
        >"$T/out" 2>"$T/send.log" || fail "$kind 8-bit: $(cat "$T/out")"
    grep -q '^-> MAIL FROM:<a@client.test> SIZE=[0-9]* BODY=8BITMIME$' "$T/send.log" || fail "$kind: no BODY=8BITMIME"
    if [ $kind = bdat ]; then
        grep -q '^-> BDAT ' "$T/send.log" || fail "bdat: CHUNKING offered but not used"
    else
        grep -q '^-> DATA$' "$T/send.log" && ! grep -q '^-> BDAT' "$T/send.log" || fail "data: DATA expected"
    fi
    delivered ${kind}eight "$T/eightbit.txt" a@client.test || fail "$kind 8-bit: $(pf_log)"
    ok "$kind: 8-bit body (BODY=8BITMIME) delivered byte for byte"

    send --server 127.0.0.1:$port --from a@client.test \
        --to ${kind}dots1@mx.test --to ${kind}dots2@mx.test --to ${kind}dots3@mx.test "$T/dots.txt" \
        >"$T/out" 2>"$T/send.log" || fail "$kind dots: $(cat "$T/out")"
    [ "$(grep -c ": 250 2.0.0 Ok: .*queued as" "$T/out")" = 3 ] || fail "$kind dots: three recipient lines expected: $(cat "$T/out")"
    for r in 1 2 3; do
        delivered ${kind}dots$r "$T/dots.txt" a@client.test || fail "$kind dots, recipient $r: $(pf_log)"
    done
    ok "$kind: lines starting with '.', three recipients, three identical deliveries"

    send --server 127.0.0.1:$port --from a@client.test --to ${kind}big@mx.test - <"$T/big.txt" \
        >"$T/out" 2>"$T/send.log" || fail "$kind big: $(cat "$T/out")"
    delivered ${kind}big "$T/big.txt" a@client.test || fail "$kind big: $(pf_log)"
    ok "$kind: $(stat -c %s "$T/big.txt") bytes, every fifth line dotted, delivered byte for byte"

    if send --server 127.0.0.1:$port --from a@client.test --to ${kind}known@mx.test --to no-such@mx.test \
        "$T/plain.txt" >"$T/out" 2>"$T/send.log"; then
        fail "$kind: an unknown recipient gave exit status 0: $(cat "$T/out")"
    fi
    grep -q '^no-such@mx.test: 550 5\.1\.1 ' "$T/out" || fail "$kind: refusal line: $(cat "$T/out")"
    grep -q "^${kind}known@mx.test: 250 2.0.0 Ok: .*queued as" "$T/out" || fail "$kind: accepted line: $(cat "$T/out")"
    delivered ${kind}known "$T/plain.txt" a@client.test || fail "$kind: partly refused message: $(pf_log)"
    ok "$kind: unknown recipient 550 on its line, exit 1, the other recipient delivered"
done

[ ! -d "$PF/mail/no-such" ] || fail "a mailbox for the unknown recipient"
grep -q ' \(fatal\|panic\): ' "$T/postfix.log" && fail "Postfix failed: $(grep ' \(fatal\|panic\): ' "$T/postfix.log")"
grep ' warning: ' "$T/postfix.log" || true # shown, not fatal: they may depend on the machine
stop_postfix
echo "postfix MTA: all passed"
