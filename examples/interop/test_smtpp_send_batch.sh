#!/bin/bash
# smtpp-send with many messages per run, against real servers:
#   * smtpp-server --maildir: files, a directory (sorted, dot files and subdirectories left
#     out), an mbox (mboxrd escapes taken off, a dot line, CRLF and LF boxes) and standard
#     input in one run over one connection, stored byte for byte in command-line order; the
#     --report JSON lines agree;
#   * smtpp-server --maildir, 200 messages with --connections 4: every message stored exactly
#     once, from four connections;
#   * Postfix smtp-sink: 200 messages over 1 and over 4 connections, counted by the sink
#     (the small version of bench/send_bulk.sh).
. "$(dirname "$0")/lib.sh"
[ -n "${SMTPP_SEND:-}" ] && [ -x "$SMTPP_SEND" ] || skip "smtpp-send is not built"
smtpp_send() { timeout 60 "$SMTPP_SEND" "$@"; }

# --- the inputs ---
printf 'Subject: a\n\nfirst file\n.\n' >"$T/a.txt"
printf 'Subject: b\n\n..two dots\nlast file\n' >"$T/b.txt"
mkdir -p "$T/dir/sub"
printf 'Subject: d10\n\nten\n' >"$T/dir/10.txt"
printf 'Subject: d01\n\none\n' >"$T/dir/01.txt"
printf 'Subject: d02\n\ntwo\n' >"$T/dir/02.txt"
printf 'Subject: hidden\n\nnot sent\n' >"$T/dir/.hidden"
printf 'Subject: sub\n\nnot sent\n' >"$T/dir/sub/x.txt"
printf 'Subject: stdin\n\nfrom standard input\n' >"$T/stdin.txt"
# mboxrd: "From " lines in a body are written ">From ", ">From " ones ">>From ".
{
    printf 'From alice@client.test Mon Jan  1 00:00:00 2024\n'
    printf 'Subject: box1\n\n>From the start of a line\n>>From quoted\n> From not escaped\n\n'
    printf 'From bob@client.test Mon Jan  1 00:00:01 2024\n'
    printf 'Subject: box2\n\nbefore a dot line\n.\n..\nafter\n\n'
    printf 'From carol@client.test Mon Jan  1 00:00:02 2024\n'
    printf 'Subject: box3\n\nlast, no empty line after it\n'
} >"$T/box.mbox"
printf 'Subject: box1\n\nFrom the start of a line\n>From quoted\n> From not escaped\n' >"$T/box1.txt"
printf 'Subject: box2\n\nbefore a dot line\n.\n..\nafter\n' >"$T/box2.txt"
printf 'Subject: box3\n\nlast, no empty line after it\n' >"$T/box3.txt"
printf 'From x@client.test Mon Jan  1 00:00:00 2024\r\nSubject: crlf\r\n\r\n>From crlf\r\n\r\n' >"$T/crlf.mbox"
printf 'Subject: crlf\n\nFrom crlf\n' >"$T/crlf.txt"

want=(a.txt dir/01.txt dir/02.txt dir/10.txt box1.txt box2.txt box3.txt crlf.txt b.txt stdin.txt)
for f in "${want[@]}"; do crlf "$T/$f" "$T/$(basename "$f").eml"; done

# --- smtpp-server: everything in one run, one connection ---
md="$T/md"
mkdir -p "$md"
start_server epoll smtpp --maildir "$md"
smtpp_send --server 127.0.0.1:$PORT --from a@client.test --to x@mx.test --to y@mx.test --report "$T/report.json" \
    "$T/a.txt" "$T/dir" --mbox "$T/box.mbox" --mbox "$T/crlf.mbox" "$T/b.txt" - <"$T/stdin.txt" >"$T/out1" 2>"$T/err1" ||
    fail "one run, ten messages: $(cat "$T/out1" "$T/err1")"
[ "$(grep -c ': 250 2.0.0' "$T/out1")" = 20 ] || fail "twenty recipient lines expected: $(cat "$T/out1")"
grep -q "^$T/box.mbox#2: y@mx.test: 250 " "$T/out1" || fail "mbox messages named FILE#N: $(cat "$T/out1")"
[ ! -s "$T/err1" ] || fail "nothing on stderr expected: $(cat "$T/err1")"
$CHECK "$md" --count 10 || fail "ten messages stored"
i=0
for f in "${want[@]}"; do
    $CHECK "$md" --index $i --eml "$T/$(basename "$f").eml" --from a@client.test --to x@mx.test --to y@mx.test ||
        fail "message $i ($f)"
    i=$((i + 1))
done
"$PY" - "$md" "$T/report.json" "$T" <<'PY' || fail "one connection, report"
import glob, json, sys
md, report, t = sys.argv[1:]
clients = {json.load(open(p))["client"] for p in glob.glob(md + "/*.json")}
assert len(clients) == 1, clients
lines = [json.loads(l) for l in open(report)]
names = [m["message"] for m in lines]
assert names == [t + "/a.txt", t + "/dir/01.txt", t + "/dir/02.txt", t + "/dir/10.txt", t + "/box.mbox#1",
                 t + "/box.mbox#2", t + "/box.mbox#3", t + "/crlf.mbox#1", t + "/b.txt", "-"], names
assert [m["index"] for m in lines] == list(range(10))
for m in lines:
    assert m["outcome"] == "delivered" and m["code"] == 250 and m["error"] is None, m
    assert [r["recipient"] for r in m["recipients"]] == ["x@mx.test", "y@mx.test"], m
    assert all(r["outcome"] == "delivered" and r["status"] == "2.0.0" for r in m["recipients"]), m
PY
ok "smtpp-send -> smtpp-server: files, a directory, two mboxes (mboxrd escapes, dot lines, CRLF) and stdin, one connection, in order, byte for byte"
stop_server

# --- smtpp-server: 200 messages over 4 connections ---
mkdir -p "$T/many"
"$PY" - "$T/many" <<'PY'
import sys
for i in range(200):
    with open("%s/%03d.eml" % (sys.argv[1], i), "w") as f:
        f.write("Subject: many-%03d\n\n%s\n.\n" % (i, "x" * 900))
PY
md4="$T/md4"
mkdir -p "$md4"
start_server epoll smtpp4 --maildir "$md4"
smtpp_send --server 127.0.0.1:$PORT --from a@client.test --to x@mx.test --connections 4 "$T/many" >"$T/out2" 2>"$T/err2" ||
    fail "--connections 4: $(tail -5 "$T/out2" "$T/err2")"
stop_server
"$PY" - "$md4" <<'PY' || fail "--connections 4: stored messages"
import collections, glob, json, re, sys
md = sys.argv[1]
subjects = collections.Counter()
for p in glob.glob(md + "/*.eml"):
    subjects[re.search(rb"Subject: (many-\d+)", open(p, "rb").read()).group(1).decode()] += 1
assert sorted(subjects) == ["many-%03d" % i for i in range(200)], sorted(subjects)[:5]
assert set(subjects.values()) == {1}, [s for s, n in subjects.items() if n != 1]
clients = collections.Counter(json.load(open(p))["client"] for p in glob.glob(md + "/*.json"))
assert len(clients) == 4, clients
PY
ok "smtpp-send --connections 4 -> smtpp-server: 200 messages, each stored exactly once, over 4 connections"

# --- Postfix smtp-sink: 200 messages over 1 and 4 connections, counted by the sink ---
SINK=/usr/sbin/smtp-sink
if [ -x "$SINK" ]; then
    user=()
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    for n in 1 4; do
        port=$(free_port)
        # -c: counters, updated at each message ("mesg=N") and session end.
        "$SINK" "${user[@]}" -c 127.0.0.1:$port 64 >"$T/sink$n.log" 2>&1 &
        spid=$!
        PIDS+=("$spid")
        wait_port "$port"
        start=$(date +%s%N)
        smtpp_send --server 127.0.0.1:$port --from a@client.test --to x@mx.test --connections $n "$T/many" \
            >"$T/out-sink$n" 2>"$T/err-sink$n" || fail "smtp-sink, $n connections: $(tail -3 "$T/out-sink$n" "$T/err-sink$n")"
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        [ "$(grep -c ': 250 2.0.0 Ok' "$T/out-sink$n")" = 200 ] || fail "smtp-sink, $n connections: 200 lines expected"
        for i in $(seq 1 50); do # the counters once every connection said QUIT (wait_port's did not)
            got=$(tr '\r' '\n' <"$T/sink$n.log" | sed -n "s/^sess=[0-9]* quit=$n mesg=\([0-9]*\)$/\1/p" | tail -1)
            [ -n "$got" ] && break
            sleep 0.1
        done
        [ "$got" = 200 ] || fail "smtp-sink counted '${got:-?}' messages over $n connections: $(tr '\r' '\n' <"$T/sink$n.log" | tail -2)"
        kill "$spid"
        wait "$spid" 2>/dev/null
        ok "smtpp-send --connections $n -> smtp-sink: 200 messages counted by the sink ($ms ms)"
    done
else
    echo "note: postfix (smtp-sink) is not installed, smtp-sink part skipped"
fi
echo "smtpp-send batches: all passed"
