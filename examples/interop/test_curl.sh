#!/bin/bash
# curl's smtp:// upload -> smtpp-server (and asio-server): two recipients, a dot-stuffed body,
# then STARTTLS (--ssl-reqd) with AUTH over TLS. Stored bytes compared with the uploaded file.
. "$(dirname "$0")/lib.sh"
need curl

printf 'From: a@client.test\r\nTo: x@mx.test\r\nSubject: curl\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n' >"$T/msg.eml"
make_cert
for kind in $SERVERS; do
    md="$T/$kind-md"
    mkdir -p "$md"
    args=(--maildir "$md")
    [ "${SMTPP_TLS:-0}" = 1 ] && args+=(--auth user1:secret --tls-cert "$T/cert.pem" --tls-key "$T/key.pem")
    start_server "$kind" "$kind" "${args[@]}"
    curl -sS --max-time 10 --url "smtp://127.0.0.1:$PORT/client.test" --mail-from a@client.test \
        --mail-rcpt x@mx.test --mail-rcpt y@mx.test --upload-file "$T/msg.eml" || fail "$kind: curl upload"
    $CHECK "$md" --index 0 --eml "$T/msg.eml" --from a@client.test --to x@mx.test --to y@mx.test --helo client.test --tls no ||
        fail "$kind: curl message"
    ok "$kind: curl smtp:// upload"
    if [ "${SMTPP_TLS:-0}" = 1 ]; then
        curl -sS --max-time 10 --url "smtp://127.0.0.1:$PORT/client.test" --ssl-reqd --insecure --user user1:secret \
            --mail-from a@client.test --mail-rcpt x@mx.test --upload-file "$T/msg.eml" || fail "$kind: curl STARTTLS"
        $CHECK "$md" --count 2 --index 1 --eml "$T/msg.eml" --tls yes --auth user1 || fail "$kind: curl STARTTLS message"
        if curl -sS --max-time 10 --url "smtp://127.0.0.1:$PORT/client.test" --ssl-reqd --insecure --user user1:wrong \
            --mail-from a@client.test --mail-rcpt x@mx.test --upload-file "$T/msg.eml" 2>/dev/null; then
            fail "$kind: curl with a wrong password was accepted"
        fi
        $CHECK "$md" --count 2 || fail "$kind: after the wrong password"
        ok "$kind: curl STARTTLS + AUTH, wrong password refused"
    fi
    stop_server
done
echo "curl: all passed"
