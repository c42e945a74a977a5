# Shared helpers for the interop tests (sourced, not run). Each test:
#   * runs in its own temporary directory ($T), removed on exit;
#   * starts the servers (smtpp-server, asio-server, ...) on 127.0.0.1 with port 0 (the kernel picks a free
#     port; the server prints it), and peers on a free high port, never on port 25;
#   * stops what it started by PID (trap on exit);
#   * exits 77 (ctest SKIP_RETURN_CODE) when a peer program is not installed.
set -u
PY=/usr/bin/python3 # Debian's Python (aiosmtpd lives there), not a pyenv one
LIB=${SMTPP_INTEROP_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
CHECK="$PY $LIB/check.py"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; exit 1; }
ok() { echo "ok: $*"; }

# need PROGRAM...: skip the test unless each is installed.
need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || skip "$c is not installed (Debian packages: see examples/README.md)"
    done
}

[ -x "$PY" ] || skip "$PY is not installed"
[ -n "${SMTPP_SERVER:-}" ] && [ -x "$SMTPP_SERVER" ] || skip "SMTPP_SERVER is not set (run through ctest)"

T=$(mktemp -d "${TMPDIR:-/tmp}/smtpp-interop.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The servers, by kind: the same connection code on different event loops.
server_binary() {
    case "$1" in
        epoll) echo "$SMTPP_SERVER" ;;
        asio) echo "${SMTPP_ASIO_SERVER:-}" ;;
        libuv) echo "${SMTPP_LIBUV_SERVER:-}" ;;
        uring) echo "${SMTPP_URING_SERVER:-}" ;;
        coro) echo "${SMTPP_CORO_SERVER:-}" ;;
    esac
}
# The servers to test: those SMTPP_SERVERS names (ctest runs the tests once more for each
# server on another loop: SMTPP_SERVERS=libuv, ...), else "epoll" and "asio" when built.
if [ -n "${SMTPP_SERVERS:-}" ]; then
    SERVERS=$SMTPP_SERVERS
    for kind in $SERVERS; do
        [ -x "$(server_binary "$kind")" ] || skip "the $kind server is not built"
    done
else
    SERVERS="epoll"
    [ -x "$(server_binary asio)" ] && SERVERS="epoll asio"
fi
has_server() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
# A server that cannot run here at all (uring-server where io_uring is not allowed) exits
# with this status and says why; the test is skipped.
UNAVAILABLE=3

# start_server KIND NAME ARGS...: starts the server with --listen 127.0.0.1:0, waits for its
# "listening on" line, sets PORT and SERVER_PID. Its output goes to $T/NAME.log.
start_server() {
    local kind=$1 name=$2
    shift 2
    # Created here: the background job may not have opened it yet when sed first looks, and
    # a failing sed would end the script under set -e.
    : >"$T/$name.log"
    "$(server_binary "$kind")" --listen 127.0.0.1:0 --hostname mx.test "$@" >>"$T/$name.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    local i
    for i in $(seq 1 100); do
        PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$T/$name.log")
        [ -n "$PORT" ] && return 0
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            local rc=0
            wait "$SERVER_PID" || rc=$?
            [ "$rc" = "$UNAVAILABLE" ] && skip "$(tail -n 1 "$T/$name.log")"
            fail "$name did not start (exit status $rc)"
        fi
        sleep 0.05
    done
    fail "$name did not print its address"
}

# stop_server: SIGTERM, and the server must exit 0 within 5 seconds.
stop_server() {
    local pid=${1:-$SERVER_PID} i
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && fail "server $pid ignored SIGTERM"
    wait "$pid" || fail "server $pid exited with status $?"
}

# A free TCP port on 127.0.0.1 for peers that cannot bind port 0 and report it.
free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT: until something listens there (5 s).
wait_port() {
    local i
    for i in $(seq 1 100); do
        "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2).close()' "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "nothing listens on port $1"
}

# A throwaway self-signed certificate in $T (cert.pem, key.pem).
make_cert() {
    need openssl
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj /CN=mx.test -keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 ||
        fail "openssl could not make a certificate"
}

# crlf IN OUT: LF line ends to CRLF (the wire form a client sends).
crlf() { "$PY" -c 'import sys; d=open(sys.argv[1],"rb").read().replace(b"\r\n",b"\n").replace(b"\n",b"\r\n"); open(sys.argv[2],"wb").write(d)' "$1" "$2"; }
