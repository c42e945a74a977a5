#!/bin/bash
# Thousands of concurrent connections and clients that never read, against smtpp-server and
# asio-server: 3000 connections open at once (greeting, EHLO, a pipelined message on every
# tenth, QUIT), and 20 clients pushing pipelined NOOPs without reading their replies. The
# server's resident memory must stay bounded (under 100 MB for all of that).
. "$(dirname "$0")/lib.sh"

for kind in $SERVERS; do
    md="$T/$kind-md"
    mkdir -p "$md"
    start_server "$kind" "$kind" --maildir "$md" --max-per-client 0 # all from 127.0.0.1
    "$PY" "$LIB/many_connections.py" "$PORT" 3000 "$SERVER_PID" 100
    rc=$?
    [ $rc = 77 ] && skip "not enough file descriptors for 3000 connections"
    [ $rc = 0 ] || fail "$kind: 3000 connections"
    $CHECK "$md" --count 300 --all-from a@client.test || fail "$kind: messages of the 3000 connections"
    "$PY" "$LIB/slow_readers.py" "$PORT" 20 "$SERVER_PID" 100 || fail "$kind: slow readers"
    stop_server
    ok "$kind: 3000 connections, 20 slow readers"
done
echo "many connections: all passed"
