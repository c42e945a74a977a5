#!/bin/bash
# swaks -> smtpp-server (and asio-server): plain, PIPELINING, 8-bit body, AUTH PLAIN and LOGIN,
# a wrong password, LMTP, STARTTLS with a throwaway self-signed certificate (+ AUTH over TLS).
# Every stored message is compared byte for byte with what swaks sent, and its envelope checked.
. "$(dirname "$0")/lib.sh"
need swaks

# swaks sends --data with CRLF line ends and its own CRLF before the final dot.
printf 'From: a@client.test\nTo: x@mx.test\nSubject: swaks\n\n.leading dot\n..two dots\n. \nlast line\n' >"$T/plain.txt"
printf 'From: a@client.test\nTo: x@mx.test\nSubject: 8-bit\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGr\303\274\303\237e, \342\202\254 and \360\237\230\200\n' >"$T/8bit.txt"
for f in plain 8bit; do
    crlf "$T/$f.txt" "$T/$f.eml"
    printf '\r\n' >>"$T/$f.eml"
done

SW="swaks --from a@client.test --helo client.test --timeout 10 --hide-all"
make_cert
for kind in $SERVERS; do
    md="$T/$kind-md"
    mkdir -p "$md"
    start_server "$kind" "$kind" --maildir "$md" --auth user1:secret
    $SW --server 127.0.0.1:$PORT --to x@mx.test --data "$T/plain.txt" || fail "$kind: swaks plain"
    $CHECK "$md" --index 0 --eml "$T/plain.eml" --from a@client.test --to x@mx.test --auth - --tls no --helo client.test || fail "$kind: plain message"
    ok "$kind: plain"

    $SW --server 127.0.0.1:$PORT --to x@mx.test,y@mx.test,z@mx.test --pipeline --data "$T/plain.txt" || fail "$kind: swaks --pipeline"
    $CHECK "$md" --index 1 --eml "$T/plain.eml" --to x@mx.test --to y@mx.test --to z@mx.test || fail "$kind: pipelined message"
    ok "$kind: pipeline, 3 recipients"

    $SW --server 127.0.0.1:$PORT --to x@mx.test --data "$T/8bit.txt" || fail "$kind: swaks 8-bit"
    $CHECK "$md" --index 2 --eml "$T/8bit.eml" --eight-bit yes || fail "$kind: 8-bit message"
    ok "$kind: 8-bit body"

    $SW --server 127.0.0.1:$PORT --to x@mx.test --data "$T/plain.txt" --auth PLAIN --auth-user user1 --auth-password secret || fail "$kind: AUTH PLAIN"
    $CHECK "$md" --index 3 --eml "$T/plain.eml" --auth user1 || fail "$kind: AUTH PLAIN message"
    $SW --server 127.0.0.1:$PORT --to x@mx.test --data "$T/plain.txt" --auth LOGIN --auth-user user1 --auth-password secret --pipeline || fail "$kind: AUTH LOGIN"
    $CHECK "$md" --index 4 --eml "$T/plain.eml" --auth user1 || fail "$kind: AUTH LOGIN message"
    if $SW --server 127.0.0.1:$PORT --to x@mx.test --data "$T/plain.txt" --auth PLAIN --auth-user user1 --auth-password wrong; then
        fail "$kind: a wrong password was accepted"
    fi
    $CHECK "$md" --count 5 || fail "$kind: after the wrong password"
    ok "$kind: AUTH PLAIN, AUTH LOGIN, wrong password refused"
    stop_server

    # LMTP: one reply per recipient after the message.
    lm="$T/$kind-lmtp"
    mkdir -p "$lm"
    start_server "$kind" "$kind-lmtp" --maildir "$lm" --lmtp
    swaks --protocol LMTP --server 127.0.0.1:$PORT --from a@client.test --to x@mx.test,y@mx.test --data "$T/plain.txt" --timeout 10 >"$T/lmtp.out" 2>&1 || fail "$kind: swaks LMTP"
    [ "$(grep -c '<-  250 2.0.0' "$T/lmtp.out")" = 2 ] || fail "$kind: LMTP did not give two replies: $(cat "$T/lmtp.out")"
    $CHECK "$lm" --count 1 --index 0 --eml "$T/plain.eml" --to x@mx.test --to y@mx.test || fail "$kind: LMTP message"
    ok "$kind: LMTP, two recipients, two replies"
    stop_server

    # STARTTLS: AUTH is only offered after it (plaintext passwords need TLS when TLS exists).
    if [ "${SMTPP_TLS:-0}" = 1 ]; then
        tm="$T/$kind-tls"
        mkdir -p "$tm"
        start_server "$kind" "$kind-tls" --maildir "$tm" --auth user1:secret --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
        $SW --server 127.0.0.1:$PORT --to x@mx.test --data "$T/plain.txt" -tls || fail "$kind: swaks STARTTLS"
        $CHECK "$tm" --index 0 --eml "$T/plain.eml" --tls yes --auth - || fail "$kind: STARTTLS message"
        $SW --server 127.0.0.1:$PORT --to x@mx.test --data "$T/8bit.txt" -tls --pipeline --auth LOGIN --auth-user user1 --auth-password secret || fail "$kind: STARTTLS + AUTH LOGIN"
        $CHECK "$tm" --index 1 --eml "$T/8bit.eml" --tls yes --auth user1 || fail "$kind: STARTTLS + AUTH message"
        if $SW --server 127.0.0.1:$PORT --to x@mx.test --data "$T/plain.txt" --auth PLAIN --auth-user user1 --auth-password secret; then
            fail "$kind: AUTH PLAIN accepted without TLS although TLS is available"
        fi
        $CHECK "$tm" --count 2 || fail "$kind: after plaintext AUTH"
        ok "$kind: STARTTLS, STARTTLS + AUTH LOGIN, no AUTH in the clear"
        stop_server
    else
        echo "note: built without OpenSSL, STARTTLS not tested"
    fi
done
echo "swaks: all passed"
