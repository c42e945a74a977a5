#!/bin/bash
# msmtp -> smtpp-server (and asio-server): plain with two recipients, then STARTTLS + AUTH
# PLAIN. msmtp turns the LF line ends of its input into CRLF; the message carries From: and
# Date: and --set-msgid-header=off is given, so msmtp adds no header. Stored bytes compared
# with the CRLF form of the input. msmtp sends no BODY=8BITMIME: the server marks the 8-bit
# body anyway (eight_bit in the envelope).
. "$(dirname "$0")/lib.sh"
need msmtp

printf 'From: a@client.test\nTo: x@mx.test\nDate: Mon, 02 Nov 2026 10:00:00 +0000\nSubject: msmtp\n\n.leading dot\n..two\n.\n8-bit: \303\244\303\266\303\274\nend\n' >"$T/msg.txt"
crlf "$T/msg.txt" "$T/msg.eml"
make_cert
for kind in $SERVERS; do
    md="$T/$kind-md"
    mkdir -p "$md"
    args=(--maildir "$md")
    [ "${SMTPP_TLS:-0}" = 1 ] && args+=(--auth user1:secret --tls-cert "$T/cert.pem" --tls-key "$T/key.pem")
    start_server "$kind" "$kind" "${args[@]}"
    M=(msmtp --file=/dev/null --host=127.0.0.1 --port="$PORT" --domain=client.test --from=a@client.test --timeout=10 --set-msgid-header=off)
    "${M[@]}" --auth=off --tls=off x@mx.test y@mx.test <"$T/msg.txt" >"$T/msmtp.log" 2>&1 || fail "$kind: msmtp: $(cat "$T/msmtp.log")"
    $CHECK "$md" --index 0 --eml "$T/msg.eml" --from a@client.test --to x@mx.test --to y@mx.test --helo client.test \
        --eight-bit yes --tls no || fail "$kind: msmtp message"
    ok "$kind: msmtp"
    if [ "${SMTPP_TLS:-0}" = 1 ]; then
        "${M[@]}" --tls=on --tls-starttls=on --tls-certcheck=off --auth=plain --user=user1 --passwordeval='echo secret' \
            x@mx.test <"$T/msg.txt" >"$T/msmtp.log" 2>&1 || fail "$kind: msmtp STARTTLS: $(cat "$T/msmtp.log")"
        $CHECK "$md" --count 2 --index 1 --eml "$T/msg.eml" --tls yes --auth user1 || fail "$kind: msmtp STARTTLS message"
        ok "$kind: msmtp STARTTLS + AUTH PLAIN"
    fi
    stop_server
done
echo "msmtp: all passed"
