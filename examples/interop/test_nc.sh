#!/bin/bash
# A person typing into nc: `nc -C` (CRLF line ends, as telnet sends) through a whole
# transaction with DATA; plain `nc` (bare LF) against --lenient-lf, storing a message with
# BDAT (DATA needs CRLF.CRLF to end, whatever the leniency; a BDAT text body must be CRLF
# text too, so its one line is sent with CRLF and a bare-LF body is refused with 550 5.6.0);
# plain nc against the strict default, where a bare LF does not end a command line. Lines are sent one at a time with
# pauses, as typed. Also: 421 to an idle client after --timeout, and to open clients on SIGTERM.
. "$(dirname "$0")/lib.sh"
need nc timeout

# codes FILE: the reply code of each final reply line ("250-" continuation lines skipped).
codes() { tr -d '\r' <"$1" | grep -E '^[0-9]{3}( |$)' | cut -c1-3 | tr '\n' ' ' | sed 's/ $//'; }
typed() { # typed LINE...: one line every 0.1 s, then wait for the server to close
    sleep 0.2
    local l
    for l in "$@"; do
        printf '%s\n' "$l"
        sleep 0.1
    done
    sleep 0.5
}

printf 'Subject: typed\r\n\r\n.a line typed with a leading dot\r\nhello\r\n' >"$T/typed.eml"
printf 'Hello world\r\n' >"$T/bdat.eml"
for kind in $SERVERS; do
    md="$T/$kind-md"
    mkdir -p "$md"
    start_server "$kind" "$kind" --maildir "$md"
    typed "EHLO me.test" "MAIL FROM:<a@client.test>" "RCPT TO:<x@mx.test>" "DATA" "Subject: typed" "" \
        "..a line typed with a leading dot" "hello" "." "QUIT" | timeout 10 nc -N -C 127.0.0.1 "$PORT" >"$T/nc1.out"
    got=$(codes "$T/nc1.out")
    [ "$got" = "220 250 250 250 354 250 221" ] || fail "$kind: nc -C replies: $got: $(cat "$T/nc1.out")"
    $CHECK "$md" --count 1 --index 0 --eml "$T/typed.eml" --from a@client.test --to x@mx.test --helo me.test ||
        fail "$kind: nc -C message"
    ok "$kind: nc -C, a typed transaction"

    # Strict by default: a bare LF does not end a command line; the first CRLF ends one long
    # line with bare LFs in it, refused with 500 5.5.2.
    { typed "EHLO me.test" "QUIT"; printf 'NOOP\r\n'; sleep 0.3; } | timeout 10 nc -N 127.0.0.1 "$PORT" >"$T/nc2.out"
    grep -q '^500 5.5.2' "$T/nc2.out" || fail "$kind: strict server and bare LF: $(cat "$T/nc2.out")"
    [ "$(codes "$T/nc2.out")" = "220 500" ] || fail "$kind: strict server replies: $(codes "$T/nc2.out")"
    ok "$kind: plain nc against the strict default: 500 5.5.2"
    stop_server

    lm="$T/$kind-lenient"
    mkdir -p "$lm"
    start_server "$kind" "$kind-lenient" --maildir "$lm" --lenient-lf
    { typed "EHLO me.test" "NOOP" "VRFY someone" "MAIL FROM:<a@client.test>" "RCPT TO:<x@mx.test>" "RSET" \
        "MAIL FROM:<b@client.test>" "RCPT TO:<y@mx.test>" "BDAT 13 LAST"; printf 'Hello world\r\n'; sleep 0.2
      typed "MAIL FROM:<c@client.test>" "RCPT TO:<z@mx.test>" "BDAT 12 LAST"; printf 'Hello world\n'; sleep 0.2
      printf 'QUIT\n'; sleep 0.5; } |
        timeout 10 nc -N 127.0.0.1 "$PORT" >"$T/nc3.out"
    got=$(codes "$T/nc3.out")
    [ "$got" = "220 250 250 252 250 250 250 250 250 250 250 250 550 221" ] ||
        fail "$kind: plain nc --lenient-lf replies: $got: $(cat "$T/nc3.out")"
    $CHECK "$lm" --count 1 --index 0 --eml "$T/bdat.eml" --from b@client.test --to y@mx.test --chunked yes ||
        fail "$kind: plain nc BDAT message"
    ok "$kind: plain nc with --lenient-lf, BDAT message"
    stop_server

    # An idle client gets 421 after --timeout; on SIGTERM every open client gets 421.
    start_server "$kind" "$kind-timeout" --timeout 1
    sleep 4 | timeout 10 nc -N 127.0.0.1 "$PORT" >"$T/nc4.out"
    [ "$(codes "$T/nc4.out")" = "220 421" ] || fail "$kind: idle timeout: $(cat "$T/nc4.out")"
    { sleep 0.3; printf 'EHLO me.test\r\n'; sleep 3; } | timeout 10 nc -N 127.0.0.1 "$PORT" >"$T/nc5.out" &
    nc_pid=$!
    sleep 0.6
    stop_server
    wait $nc_pid
    [ "$(codes "$T/nc5.out")" = "220 250 421" ] || fail "$kind: 421 on SIGTERM: $(cat "$T/nc5.out")"
    ok "$kind: 421 after --timeout, 421 to open clients on SIGTERM, exit status 0"
done
echo "nc: all passed"
