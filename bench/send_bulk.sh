#!/bin/bash
# smtpp-send's throughput into Postfix's smtp-sink (a C SMTP server that throws every message
# away) on 127.0.0.1: N messages of SIZE octets from one directory in one run over one
# connection, the same over --connections C, and N runs of smtpp-send with one message each
# (a new process and connection per message, as a shell loop sending mail would). Each
# scenario gets a fresh smtp-sink whose counters (-c) must show every message; smtpp-send must
# exit 0. Prints messages/s per scenario.
#
#   bench/send_bulk.sh [--quick] [--build-dir DIR] [--messages N] [--size OCTETS]
#                      [--connections C] [--single N]
#
#   --quick        CI-sized smoke run: 200 messages, 50 single runs
#   --build-dir    where smtpp-send was built (DIR/examples/smtpp-send); default: PATH
#   --messages N   messages per batch run (default 10000)
#   --size OCTETS  message size on disk, LF line ends (default 1024)
#   --connections  connections of the parallel run (default 8)
#   --single N     single-message runs (default 10000; the rate is N / their total time)
#
# Not run by CI at this size (the interop test test_smtpp_send_batch.sh sends 200 messages
# over 1 and 4 connections into smtp-sink). Needs python3 and Postfix's smtp-sink (Debian:
# postfix; its daemon need not run). Nothing listens on port 25.
set -euo pipefail

quick=0
build_dir=
messages=10000
size=1024
connections=8
single=10000
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --build-dir) build_dir=$2; shift ;;
    --messages) messages=$2; shift ;;
    --size) size=$2; shift ;;
    --connections) connections=$2; shift ;;
    --single) single=$2; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "send_bulk.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if [ $quick = 1 ]; then
    messages=200
    single=50
fi

die() { echo "send_bulk.sh: $*" >&2; exit 1; }
PATH=$PATH:/usr/sbin:/sbin # smtp-sink lives in sbin
if [ -n "$build_dir" ]; then
    send=$build_dir/examples/smtpp-send
else
    send=$(command -v smtpp-send || true)
fi
[ -n "$send" ] && [ -x "$send" ] ||
    die "smtpp-send not found (--build-dir DIR: cmake -S . -B DIR -DCMAKE_BUILD_TYPE=Release && cmake --build DIR --target smtpp-send)"
sink_bin=$(command -v smtp-sink || true)
[ -n "$sink_bin" ] || die "smtp-sink not found (Debian: apt-get install postfix)"
command -v python3 >/dev/null || die "python3 not found"
[ "$single" -le "$messages" ] || die "--single N must not exceed --messages"

T=$(mktemp -d "${TMPDIR:-/tmp}/smtpp-send-bulk.XXXXXX")
sink_pid=
cleanup() {
    set +e
    [ -z "$sink_pid" ] || { kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; }
    rm -rf "$T"
}
trap cleanup EXIT

python3 - "$T/mail" "$messages" "$size" <<'PY'
import os, sys
out, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
line = b"x" * 71 + b"\n"
for i in range(count):
    head = b"From: a@client.test\nTo: x@mx.test\nSubject: bulk %06d\n\n" % i
    body = (line * (size // len(line) + 1))[: max(size - len(head) - 1, 0)]
    with open("%s/%06d.eml" % (out, i), "wb") as f:
        f.write(head + body + b"\n")
PY

# start_sink: a fresh smtp-sink with counters on a free port (PORT).
start_sink() {
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    local user=()
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    "$sink_bin" "${user[@]}" -c "127.0.0.1:$PORT" 256 >"$T/sink.log" 2>&1 &
    sink_pid=$!
    local i
    for i in $(seq 1 100); do
        python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2).close()' "$PORT" 2>/dev/null && return 0
        sleep 0.05
    done
    die "smtp-sink did not start"
}

# stop_sink SESSIONS EXPECTED: the sink must have counted EXPECTED messages once SESSIONS
# sessions said QUIT (the start-up probe did not).
stop_sink() {
    local sessions=$1 expected=$2 got= i
    for i in $(seq 1 100); do
        got=$(tr '\r' '\n' <"$T/sink.log" | sed -n "s/^sess=[0-9]* quit=$sessions mesg=\([0-9]*\)$/\1/p" | tail -1)
        [ -n "$got" ] && break
        sleep 0.05
    done
    kill "$sink_pid"
    wait "$sink_pid" 2>/dev/null || true
    sink_pid=
    [ "$got" = "$expected" ] || die "smtp-sink counted '${got:-?}' messages, $expected sent"
}

now_ns() { date +%s%N; }
results=()
# record NAME MESSAGES START_NS END_NS
record() {
    local ms=$(( ($4 - $3) / 1000000 ))
    [ "$ms" -gt 0 ] || ms=1
    results+=("$(awk -v name="$1" -v n="$2" -v ms="$ms" \
        'BEGIN { printf "%-40s %8d %9.2f %10.0f", name, n, ms / 1000, n * 1000 / ms }')")
}

batch() {
    local n=$1 name=$2 start end
    start_sink
    start=$(now_ns)
    "$send" --server "127.0.0.1:$PORT" --from a@client.test --to x@mx.test --connections "$n" "$T/mail" \
        >"$T/out" 2>"$T/err" || die "$name: smtpp-send exited $?: $(tail -3 "$T/err")"
    end=$(now_ns)
    stop_sink "$n" "$messages"
    record "$name" "$messages" "$start" "$end"
}

batch 1 "one run, one connection"
batch "$connections" "one run, --connections $connections"

start_sink
files=("$T"/mail/*.eml)
start=$(now_ns)
for ((i = 0; i < single; i++)); do
    "$send" --server "127.0.0.1:$PORT" --from a@client.test --to x@mx.test "${files[i]}" >/dev/null 2>"$T/err" ||
        die "single run $i: smtpp-send exited $?: $(cat "$T/err")"
done
end=$(now_ns)
stop_sink "$single" "$single"
record "$single runs of one message each" "$single" "$start" "$end"

echo "smtpp-send -> smtp-sink on 127.0.0.1, $size-octet messages ($(nproc) CPUs, $(uname -r))"
printf '%-40s %8s %9s %10s\n' scenario messages seconds "msg/s"
printf '%s\n' "${results[@]}"
