#!/bin/bash
# Postfix's SMTP client -> smtpp-server: a private Postfix instance (own main.cf and master.cf,
# queue in the test's temporary directory) relays the domain relay.test to smtpp-server
# --maildir through a small logging TCP proxy. Messages go into Postfix with smtpp-send (BDAT)
# and swaks (DATA): a plain one, an 8-bit body with lines starting with '.' to three
# recipients, SMTPUTF8 addresses, a 1 MB message. smtpp-server must store each exactly as sent
# (after the Received header Postfix prepends) with the right envelope, and the proxy's log
# must show that Postfix spoke ESMTP and pipelined MAIL, RCPT... and DATA in one flight.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -n "${SMTPP_SEND:-}" ] && [ -x "$SMTPP_SEND" ] || skip "smtpp-send is not built"
. "$LIB/postfix.sh"

md="$T/relayed"
mkdir -p "$md"
start_server epoll smtpp --maildir "$md"

# The proxy: one JSON line per read, {"conn": N, "dir": "C" (client) or "S", "data": ...}.
proxy_port=$(free_port)
cat >"$T/proxy.py" <<'PY'
import json, socket, sys, threading
listen_port, server_port, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
log, lock = open(log_path, "w"), threading.Lock()

def pump(conn, direction, src, dst):
    while True:
        data = src.recv(65536)
        with lock:
            log.write(json.dumps({"conn": conn, "dir": direction, "data": data.decode("latin-1")}) + "\n")
            log.flush()
        try:
            if not data:
                dst.shutdown(socket.SHUT_WR)
                return
            dst.sendall(data)
        except OSError:
            return

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", listen_port))
ls.listen(16)
n = 0
while True:
    client, _ = ls.accept()
    server = socket.create_connection(("127.0.0.1", server_port))
    n += 1
    for args in ((n, "C", client, server), (n, "S", server, client)):
        threading.Thread(target=pump, args=args, daemon=True).start()
PY
"$PY" "$T/proxy.py" "$proxy_port" "$PORT" "$T/wire.jsonl" >"$T/proxy.log" 2>&1 &
PIDS+=("$!")
wait_port "$proxy_port"

pf_port=$(free_port)
mkdir -p "$PF/etc"
printf 'relay.test smtp:[127.0.0.1]:%s\n' "$proxy_port" >"$PF/etc/transport"
start_postfix "$pf_port" \
    "relay_domains = relay.test" \
    "transport_maps = texthash:$PF/etc/transport"

# The messages (LF line ends; the injecting clients send CRLF, smtpp-server stores CRLF).
printf 'From: <a@client.test>\nTo: <p@relay.test>\nSubject: plain\nDate: Fri, 4 Dec 2026 12:00:00 +0000\nMessage-ID: <plain@client.test>\n\nHello through Postfix.\n' >"$T/plain.txt"
printf 'From: <a@client.test>\nSubject: 8-bit\nMessage-ID: <eight@client.test>\nContent-Type: text/plain; charset=utf-8\n\n.leading dot\n..two dots\n.\nGr\303\274\303\237e \342\202\254\n. \nend\n' >"$T/eight.txt"
printf 'From: J\303\266rg <j\303\266rg@client.test>\nSubject: Gr\303\274\303\237e\nMessage-ID: <utf8@client.test>\n\nHall\303\266chen\n' >"$T/utf8.txt"
"$PY" - "$T/big.txt" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: <a@client.test>\nSubject: big\nMessage-ID: <big@client.test>\n\n")
    for i in range(15000):
        f.write(b"%sline %06d %s\n" % (b"." if i % 5 == 0 else b"", i, b"r" * 60))
PY
for f in plain eight utf8 big; do crlf "$T/$f.txt" "$T/$f.eml"; done
U1=$'j\303\266rg@client.test'
U2=$'\303\274ber@relay.test'

# relayed INDEX EML FROM PARAMS RCPT...: smtpp-server's message INDEX holds EML after one
# Received header by Postfix, came by ESMTP from postfix.test with exactly these MAIL
# parameters (space-separated KEY or KEY=VALUE; SIZE=* means any size) and recipients.
relayed() {
    "$PY" - "$md" "$@" <<'PY'
import glob, json, os, sys, time
d, index, eml, sender, params, rcpts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
deadline = time.time() + 30
while len(glob.glob(d + "/*.json")) <= index and time.time() < deadline:
    time.sleep(0.1)
ids = sorted((os.path.basename(p)[:-5] for p in glob.glob(d + "/*.json")), key=lambda i: int(i.split(".")[2]))
if len(ids) <= index:
    sys.exit("message %d not relayed within 30 s (%d stored)" % (index, len(ids)))
env = json.load(open("%s/%s.json" % (d, ids[index]), encoding="utf-8"))
got = open("%s/%s.eml" % (d, ids[index]), "rb").read()
problems = []
if env["helo_verb"] != "EHLO" or env["helo"] != "postfix.test":
    problems.append("greeted with %s %s" % (env["helo_verb"], env["helo"]))
if env["mail_from"] != sender:
    problems.append("mail_from %r" % env["mail_from"])
if sorted(env["rcpt_to"]) != sorted(rcpts):
    problems.append("rcpt_to %r" % env["rcpt_to"])
want_params = dict(p.split("=", 1) if "=" in p else (p, True) for p in params.split())
got_params = dict(env["mail_parameters"])
if want_params.get("SIZE") == "*" and "SIZE" in got_params:
    want_params["SIZE"] = got_params["SIZE"]
if got_params != want_params:
    problems.append("MAIL parameters %r, expected %r" % (got_params, want_params))
if env["chunked"]:
    problems.append("BDAT used (Postfix's client only has DATA)")
lines = got.split(b"\r\n")
if not lines[0].startswith(b"Received: from ") or b"by postfix.test (Postfix) with " not in b" ".join(lines[:4]):
    problems.append("first header %r" % lines[0])
i = 1
while lines[i].startswith(b"\t"):
    i += 1
body = b"\r\n".join(lines[i:])
want = open(eml, "rb").read()
if body != want:
    n = next((k for k in range(min(len(body), len(want))) if body[k] != want[k]), min(len(body), len(want)))
    problems.append("stored bytes differ at %d of %d/%d: %r vs %r" % (n, len(body), len(want), body[n:n + 40], want[n:n + 40]))
if problems:
    sys.exit("message %d: %s" % (index, "; ".join(problems)))
PY
}

send() { timeout 60 "$SMTPP_SEND" --server 127.0.0.1:$pf_port --helo client.test "$@"; }

send --from a@client.test --to p@relay.test "$T/plain.txt" >"$T/out" 2>"$T/send.log" || fail "plain: $(cat "$T/out")"
relayed 0 "$T/plain.eml" a@client.test "SIZE=*" p@relay.test || fail "plain: $(pf_log)"
ok "smtpp-send -> Postfix -> smtpp-server: plain message, bytes and envelope"

send --from a@client.test --to p@relay.test --to q@relay.test --to r@relay.test "$T/eight.txt" >"$T/out" 2>"$T/send.log" ||
    fail "8-bit: $(cat "$T/out")"
relayed 1 "$T/eight.eml" a@client.test "SIZE=* BODY=8BITMIME" p@relay.test q@relay.test r@relay.test || fail "8-bit: $(pf_log)"
ok "smtpp-send -> Postfix -> smtpp-server: 8-bit body, dot lines, three recipients in one transaction"

send --from "$U1" --to "$U2" "$T/utf8.txt" >"$T/out" 2>"$T/send.log" || fail "SMTPUTF8: $(cat "$T/out")"
relayed 2 "$T/utf8.eml" "$U1" "SIZE=* BODY=8BITMIME SMTPUTF8" "$U2" || fail "SMTPUTF8: $(pf_log)"
ok "smtpp-send -> Postfix -> smtpp-server: SMTPUTF8 addresses and headers"

send --from a@client.test --to p@relay.test - <"$T/big.txt" >"$T/out" 2>"$T/send.log" || fail "big: $(cat "$T/out")"
relayed 3 "$T/big.eml" a@client.test "SIZE=*" p@relay.test || fail "big: $(pf_log)"
ok "smtpp-send -> Postfix -> smtpp-server: $(stat -c %s "$T/big.eml") bytes, every fifth line dotted"

n=4
if command -v swaks >/dev/null 2>&1; then
    cp "$T/plain.eml" "$T/swaks.eml"
    printf '\r\n' >>"$T/swaks.eml" # swaks sends a CRLF of its own before the final dot
    swaks --server 127.0.0.1:$pf_port --helo client.test --from b@client.test --to s@relay.test,t@relay.test \
        --pipeline --timeout 20 --hide-all --data "@$T/plain.txt" || fail "swaks -> Postfix"
    relayed 4 "$T/swaks.eml" b@client.test "SIZE=*" s@relay.test t@relay.test || fail "swaks: $(pf_log)"
    ok "swaks -> Postfix -> smtpp-server: two recipients"
    n=5
else
    echo "note: swaks is not installed, swaks part skipped"
fi

# The wire: EHLO, then MAIL, every RCPT and DATA before any reply (RFC 2920).
"$PY" - "$T/wire.jsonl" "$n" <<'PY' || fail "Postfix's SMTP client on the wire"
import json, sys
flights = {}  # conn -> list of (dir, bytes) with consecutive reads of one side merged
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if not e["data"]:
        continue  # end of stream
    f = flights.setdefault(e["conn"], [])
    if f and f[-1][0] == e["dir"]:
        f[-1][1] += e["data"]
    else:
        f.append([e["dir"], e["data"]])
transactions = sessions = 0
for conn, f in flights.items():
    client = [data for d, data in f if d == "C"]
    server = [data for d, data in f if d == "S"]
    if not client:
        continue  # wait_port's probe
    sessions += 1
    assert server[0].startswith("220 ") and "PIPELINING" in server[1], (conn, server[:2])
    assert client[0].startswith("EHLO postfix.test\r\n"), (conn, client[0])
    for flight in client:
        if flight.startswith("MAIL FROM:"):
            cmds = flight.rstrip("\r\n").split("\r\n")
            assert cmds[-1] == "DATA" and all(c.startswith("RCPT TO:") for c in cmds[1:-1]) and len(cmds) > 2, cmds
            transactions += 1
assert transactions == int(sys.argv[2]), "%d pipelined transactions, %s expected" % (transactions, sys.argv[2])
print("wire: %d session(s), %d transactions, each MAIL+RCPT+DATA in one flight" % (sessions, transactions))
PY
ok "Postfix's client used EHLO and pipelined MAIL, RCPT and DATA ($n transactions)"

$CHECK "$md" --count $n || fail "message count"
grep -q ' \(fatal\|panic\): ' "$T/postfix.log" && fail "Postfix failed: $(grep ' \(fatal\|panic\): ' "$T/postfix.log")"
grep ' warning: ' "$T/postfix.log" || true # shown, not fatal: they may depend on the machine
stop_postfix
stop_server
echo "postfix relay: all passed"
