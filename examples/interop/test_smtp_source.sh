#!/bin/bash
# Postfix's smtp-source -> smtpp-server (and asio-server): hundreds of parallel sessions,
# thousands of messages. Run 1: 2000 messages, one connection each, 200 at a time, from a
# pre-formatted file (-F: smtp-source dot-stuffs it, sends CRLF line ends and an empty last line), every stored
# message compared byte for byte with the file. Run 2: 2000 messages over 100 connections kept
# open (-d), 5 recipients each, smtp-source's generated messages (same body, unique
# Message-Id). Run 3: LMTP (-L), 3 recipients per message.
. "$(dirname "$0")/lib.sh"
SRC=/usr/sbin/smtp-source
need "$SRC"
ONE_CLIENT="--max-per-client 0" # all of smtp-source's sessions come from 127.0.0.1

{
    printf 'From: <a@client.test>\nTo: <x@mx.test>\nSubject: load\n\n'
    printf '.leading dot\n..two dots\n.\n'
    for i in $(seq 1 40); do printf 'line %03d %s\n' "$i" "$(printf 'z%.0s' $(seq 1 $((i * 2))))"; done
} >"$T/msg.txt"
crlf "$T/msg.txt" "$T/msg.eml"
printf '\r\n' >>"$T/msg.eml" # smtp-source -F sends an empty line before the final dot

for kind in $SERVERS; do
    md="$T/$kind-1"
    mkdir -p "$md"
    start_server "$kind" "$kind-1" --maildir "$md" $ONE_CLIENT
    timeout 50 "$SRC" -s 200 -m 2000 -F "$T/msg.txt" -f a@client.test -t x@mx.test -M client.test 127.0.0.1:$PORT \
        >"$T/src1.log" 2>&1 || fail "$kind: smtp-source run 1: $(tail -3 "$T/src1.log")"
    stop_server
    $CHECK "$md" --count 2000 --all-from a@client.test --all-to x@mx.test --all-eml "$T/msg.eml" || fail "$kind: run 1"
    ok "$kind: 2000 messages over 2000 connections (200 parallel), byte for byte"
done

# The remaining runs against the epoll server only (the others share the protocol code).
has_server epoll || { echo "smtp-source: all passed"; exit 0; }
md="$T/run2"
mkdir -p "$md"
start_server epoll run2 --maildir "$md" $ONE_CLIENT
timeout 50 "$SRC" -d -s 100 -m 2000 -r 5 -l 2000 -f a@client.test -t x@mx.test -M client.test 127.0.0.1:$PORT \
    >"$T/src2.log" 2>&1 || fail "smtp-source run 2: $(tail -3 "$T/src2.log")"
stop_server
$CHECK "$md" --count 2000 --all-from a@client.test --same-body \
    --all-to 5x@mx.test --all-to 4x@mx.test --all-to 3x@mx.test --all-to 2x@mx.test --all-to x@mx.test ||
    fail "run 2"
ok "epoll: 2000 messages x 5 recipients over 100 kept-open connections"

md="$T/run3"
mkdir -p "$md"
start_server epoll run3 --maildir "$md" --lmtp $ONE_CLIENT
timeout 50 "$SRC" -L -d -s 50 -m 500 -r 3 -l 500 -f a@client.test -t x@mx.test -M client.test 127.0.0.1:$PORT \
    >"$T/src3.log" 2>&1 || fail "smtp-source LMTP run: $(tail -3 "$T/src3.log")"
stop_server
$CHECK "$md" --count 500 --all-from a@client.test --same-body --all-to 3x@mx.test --all-to 2x@mx.test --all-to x@mx.test ||
    fail "run 3"
ok "epoll: LMTP, 500 messages x 3 recipients over 50 connections"
echo "smtp-source: all passed"
