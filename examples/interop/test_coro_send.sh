#!/bin/bash
# coro-send (smtpp::client_session in a C++20 coroutine) against:
#   * smtpp-server and coro-server: BDAT (CHUNKING offered), three recipients, 8BITMIME and
#     the exact SIZE, a 3 MB message from stdin (the session paces the body), LMTP (one line
#     per recipient), a refusal (530: exit status 1, nothing stored);
#   * Python aiosmtpd (no PIPELINING, no CHUNKING: DATA in lockstep), SMTP and LMTP.
# coro-send turns LF line ends into CRLF; stored bytes are compared with the CRLF form.
. "$(dirname "$0")/lib.sh"
[ -n "${SMTPP_CORO_SEND:-}" ] && [ -x "$SMTPP_CORO_SEND" ] || skip "coro-send is not built (C++20 coroutines)"
coro_send() { timeout 30 "$SMTPP_CORO_SEND" "$@"; }

printf 'From: a@client.test\nSubject: coro-send\n\n.leading dot\n..two\n.\nGr\303\274\303\237e\nend\n' >"$T/msg.txt"
crlf "$T/msg.txt" "$T/msg.eml"
"$PY" - "$T/big.txt" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"Subject: big\n\n")
    for i in range(40000):
        f.write(b"%sline %06d %s\n" % (b"." if i % 5 == 0 else b"", i, b"y" * 64))
PY
crlf "$T/big.txt" "$T/big.eml"

kinds=epoll
[ -x "$(server_binary coro)" ] && kinds="epoll coro"
for kind in $kinds; do
    md="$T/$kind-md"
    mkdir -p "$md"
    start_server "$kind" "$kind" --maildir "$md"
    coro_send --server 127.0.0.1:$PORT --from a@client.test --to x@mx.test --to y@mx.test --to z@mx.test \
        --helo client.test "$T/msg.txt" >"$T/out1" || fail "$kind: coro-send: $(cat "$T/out1")"
    [ "$(grep -c ': 250 2.0.0' "$T/out1")" = 3 ] || fail "$kind: three recipient lines expected: $(cat "$T/out1")"
    $CHECK "$md" --index 0 --eml "$T/msg.eml" --from a@client.test --to x@mx.test --to y@mx.test --to z@mx.test \
        --helo client.test --chunked yes --eight-bit yes --param BODY=8BITMIME --param SIZE="$(stat -c %s "$T/msg.eml")" ||
        fail "$kind: coro-send message"
    coro_send --server 127.0.0.1:$PORT --from a@client.test --to x@mx.test - <"$T/big.txt" >"$T/out2" ||
        fail "$kind: big: $(cat "$T/out2")"
    $CHECK "$md" --count 2 --index 1 --eml "$T/big.eml" || fail "$kind: big message"
    stop_server
    ok "coro-send -> $kind: BDAT, 3 recipients, 8BITMIME, exact SIZE; $(stat -c %s "$T/big.eml") bytes from stdin"

    lm="$T/$kind-lmtp"
    mkdir -p "$lm"
    start_server "$kind" "$kind-refuse" --maildir "$lm" --lmtp --require-auth
    if coro_send --server 127.0.0.1:$PORT --lmtp --from a@client.test --to x@mx.test --to y@mx.test "$T/msg.txt" >"$T/out3" 2>"$T/err3"; then
        fail "$kind: a refused transaction gave exit status 0"
    fi
    [ "$(grep -c ': 530 5.7.0' "$T/out3")" = 2 ] || fail "$kind: refusal lines: $(cat "$T/out3" "$T/err3")"
    $CHECK "$lm" --count 0 || fail "$kind: refused message stored"
    stop_server
    start_server "$kind" "$kind-lmtp" --maildir "$lm" --lmtp
    coro_send --server 127.0.0.1:$PORT --lmtp --from a@client.test --to x@mx.test --to y@mx.test "$T/msg.txt" >"$T/out4" ||
        fail "$kind: LMTP: $(cat "$T/out4")"
    [ "$(grep -c ': 250 2.0.0' "$T/out4")" = 2 ] || fail "$kind: LMTP lines: $(cat "$T/out4")"
    $CHECK "$lm" --count 1 --index 0 --eml "$T/msg.eml" --to x@mx.test --to y@mx.test || fail "$kind: LMTP message"
    stop_server
    ok "coro-send -> $kind: refused (530, exit 1, nothing stored); LMTP, one line per recipient"
done

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
        coro_send --server 127.0.0.1:$port "${extra[@]}" --from a@client.test --to x@mx.test --to y@mx.test \
            --helo client.test "$T/msg.txt" >"$T/out5" || fail "coro-send -> aiosmtpd ($mode): $(cat "$T/out5")"
        [ "$(grep -c ': 250' "$T/out5")" = 2 ] || fail "aiosmtpd ($mode) lines: $(cat "$T/out5")"
        coro_send --server 127.0.0.1:$port "${extra[@]}" --from a@client.test --to x@mx.test - <"$T/big.txt" >"$T/out6" ||
            fail "coro-send -> aiosmtpd ($mode) big: $(cat "$T/out6")"
        kill "$apid"
        wait "$apid" 2>/dev/null
        cmp "$am/0.eml" "$T/msg.eml" || fail "aiosmtpd ($mode) stored other bytes"
        cmp "$am/1.eml" "$T/big.eml" || fail "aiosmtpd ($mode) stored other bytes (big)"
        "$PY" - "$am/0.json" "$mode" <<'PY' || fail "aiosmtpd ($mode) envelope"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["mail_from"] == "a@client.test", e
assert e["rcpt_to"] == ["x@mx.test", "y@mx.test"], e
assert e["helo"] == "client.test", e
if sys.argv[2] == "smtp":
    assert "BODY=8BITMIME" in e["mail_options"], e
PY
        ok "coro-send -> aiosmtpd ($mode): DATA in lockstep, stored bytes and envelope equal"
    done
else
    echo "note: python3-aiosmtpd is not installed, aiosmtpd part skipped"
fi
echo "coro-send: all passed"
