#!/bin/bash
# poll-server (the README's one-file embedding) against Python's smtplib: pipelined RCPTs
# decided asynchronously and answered in order (slow.example after 50 ms, blocked.example
# refused), two messages on one connection, and a second client served meanwhile.
. "$(dirname "$0")/lib.sh"
[ -n "${SMTPP_POLL_SERVER:-}" ] && [ -x "$SMTPP_POLL_SERVER" ] || skip "poll-server is not built"

"$SMTPP_POLL_SERVER" 0 >"$T/poll.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/poll.log")
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || fail "poll-server did not say where it listens"

"$PY" - "$PORT" <<'PY' || fail "smtplib against poll-server"
import smtplib, sys, threading
port = int(sys.argv[1])
def send(sender, rcpts, body):
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    refused = s.sendmail(sender, rcpts, body)
    s.quit()
    return refused
# A second client holds a connection open while the first one works.
idle = smtplib.SMTP("127.0.0.1", port, timeout=10)
idle.ehlo("idle.test")
refused = send("a@client.test", ["x@mx.test", "y@slow.example", "z@blocked.example"],
               b"Subject: one\r\n\r\n.dot line\r\n")
assert list(refused) == ["z@blocked.example"], refused
assert refused["z@blocked.example"][0] == 550, refused
try:
    send("b@client.test", ["nobody@blocked.example"], b"Subject: two\r\n\r\nhi\r\n")
    raise AssertionError("every recipient refused, yet accepted")
except smtplib.SMTPRecipientsRefused:
    pass
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
for i in range(2):
    assert not s.sendmail("c@client.test", ["q%d@slow.example" % i], b"Subject: %d\r\n\r\nx\r\n" % i)
s.quit()
idle.quit()
PY
sleep 0.2
grep -c '^message from' "$T/poll.log" | grep -qx 3 || fail "poll-server should report 3 messages"
grep -q '^message from <a@client.test> to 2 recipient(s), 27 octets$' "$T/poll.log" ||
    fail "the first message's envelope"
ok "poll-server: async RCPT decisions in order, 3 messages, a client waiting meanwhile"
echo "poll-server: all passed"
