#!/bin/bash
# End-to-end throughput over real TCP on 127.0.0.1: Postfix's smtp-source (20 parallel sessions)
# against the example smtpp-server and against Postfix's smtp-sink, a C SMTP sink that throws
# every message away. The servers run side by side for the whole run and the measurements
# alternate (sink, smtpp, sink, smtpp, ...) for --rounds rounds, so that a busy machine slows
# both alike. Two tables of medians: messages/s with the ratio smtpp / sink (above 1:
# smtpp-server is faster), and the server's own CPU time per message (user + system from
# /proc/PID/stat, 10 ms ticks: less sensitive to other load on the machine; below 1: smtpp-server
# needs less CPU). Scenarios: 1 KiB and 100 KiB messages (smtp-source -l), one
# message per session (a new connection each) and every session's messages over one
# connection (smtp-source -d). Then: resident memory of a fresh smtpp-server holding 10,000
# idle connections (greeting read), and 10,000 after EHLO (bench/idle_connections.py).
#
#   bench/e2e.sh [--quick] [--build-dir DIR] [--rounds N] [--maildir] [--idle N]
#
#   --quick      CI smoke run: tiny message counts, one round, 500 idle connections
#   --build-dir  where smtpp-server was built (DIR/examples/smtpp-server); default: PATH
#   --rounds N   alternations per scenario (default 5; medians reported)
#   --maildir    also measure smtpp-server --maildir on a tmpfs (/dev/shm when present):
#                every message written to a file (no fsync) and its envelope as JSON
#   --idle N     idle connections to hold (default 10000; 0 skips that part)
#
# smtpp-server without --maildir prints one line per message; it goes to a file, and every
# run checks that the server saw exactly the messages smtp-source sent. Needs python3 and
# Postfix's smtp-source and smtp-sink (Debian: postfix; its daemon need not run). Nothing
# listens on port 25: every server gets a free 127.0.0.1 port.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quick=0
build_dir=
rounds=5
with_maildir=0
idle=10000
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --build-dir) build_dir=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --maildir) with_maildir=1 ;;
    --idle) idle=$2; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "e2e.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if [ $quick = 1 ]; then
    rounds=1
    [ "$idle" = 0 ] || idle=500
fi

die() { echo "e2e.sh: $*" >&2; exit 1; }
PATH=$PATH:/usr/sbin:/sbin # smtp-source and smtp-sink live in sbin
if [ -n "$build_dir" ]; then
    server=$build_dir/examples/smtpp-server
else
    server=$(command -v smtpp-server || true)
fi
[ -n "$server" ] && [ -x "$server" ] ||
    die "smtpp-server not found (--build-dir DIR: cmake -S . -B DIR -DCMAKE_BUILD_TYPE=Release && cmake --build DIR --target smtpp-server)"
source_bin=$(command -v smtp-source || true)
sink_bin=$(command -v smtp-sink || true)
[ -n "$source_bin" ] && [ -n "$sink_bin" ] || die "smtp-source and smtp-sink not found (Debian: apt-get install postfix)"
command -v python3 >/dev/null || die "python3 not found"

# 20 sessions x thousands of connections, and the idle connections: descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

T=$(mktemp -d "${TMPDIR:-/tmp}/smtpp-e2e.XXXXXX")
shm=
PIDS=()
cleanup() {
    set +e
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
    [ -z "$shm" ] || rm -rf "$shm"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {
    local _
    for _ in $(seq 1 100); do
        python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2).close()' "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    die "nothing listens on port $1"
}

# start_smtpp NAME ARGS...: an smtpp-server on a free port; sets PORT and PID.
start_smtpp() {
    local name=$1
    shift
    PORT=$(free_port)
    # --max-per-client 0: every client of the benchmark connects from 127.0.0.1
    "$server" --listen 127.0.0.1:$PORT --hostname smtpp.test --max-per-client 0 "$@" >"$T/$name.out" 2>"$T/$name.err" &
    PID=$!
    PIDS+=("$PID")
    wait_port "$PORT"
}

# --- the servers ---
start_smtpp smtpp
smtpp_port=$PORT
smtpp_pid=$PID
smtpp_out=$T/smtpp.out
targets="sink smtpp"
if [ $with_maildir = 1 ]; then
    shm=$(mktemp -d "$([ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/smtpp-e2e-md.XXXXXX")
    start_smtpp smtpp-md --maildir "$shm"
    md_port=$PORT
    md_pid=$PID
    targets="sink smtpp smtpp-md"
fi
sink_port=$(free_port)
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody) # smtp-sink refuses to run as root
"$sink_bin" "${sink_user[@]}" 127.0.0.1:$sink_port 1024 >"$T/sink.out" 2>&1 &
sink_pid=$!
PIDS+=("$sink_pid")
wait_port "$sink_port"

# --- throughput ---
# name|smtp-source options|messages (full run)|messages (--quick)
scenarios=(
    "1 KiB, new connection per message|-l 1024|4000|200"
    "1 KiB, one connection per session (-d)|-d -l 1024|20000|400"
    "100 KiB, new connection per message|-l 102400|1500|40"
    "100 KiB, one connection per session (-d)|-d -l 102400|4000|80"
)
port_of() {
    case "$1" in
    sink) echo "$sink_port" ;;
    smtpp) echo "$smtpp_port" ;;
    smtpp-md) echo "$md_port" ;;
    esac
}
pid_of() {
    case "$1" in
    sink) echo "$sink_pid" ;;
    smtpp) echo "$smtpp_pid" ;;
    smtpp-md) echo "$md_pid" ;;
    esac
}
# CPU time (user + system, clock ticks) the server process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$(pid_of "$1")/stat"; }
stored() {
    case "$1" in
    smtpp) grep -c '^message ' "$smtpp_out" || true ;;
    smtpp-md) find "$shm" -name '*.json' | wc -l ;;
    esac
}

# run NAME TARGET OPTIONS COUNT: appends "NAME|TARGET|messages/s|server CPU µs/message" to the
# results; an smtpp-server must have seen exactly COUNT messages.
run() {
    local name=$1 target=$2 opts=$3 count=$4 before after start end cpu0 cpu1
    before=$(stored "$target")
    cpu0=$(cpu_ticks "$target")
    start=$(date +%s.%N)
    # shellcheck disable=SC2086 # opts is a word list
    timeout 600 "$source_bin" -s 20 -m "$count" $opts -f a@client.test -t x@mx.test -M client.test \
        "127.0.0.1:$(port_of "$target")" >"$T/source.log" 2>&1 ||
        die "smtp-source against $target failed: $(tail -3 "$T/source.log")"
    end=$(date +%s.%N)
    cpu1=$(cpu_ticks "$target")
    after=$(stored "$target")
    if [ "$target" != sink ] && [ "$((after - before))" != "$count" ]; then
        die "$target stored $((after - before)) messages, $count sent"
    fi
    [ "$target" = smtpp-md ] && find "$shm" -mindepth 1 -delete # keep the tmpfs small
    python3 - "$name" "$target" "$count" "$start" "$end" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" >>"$T/results" <<'PY'
import sys
name, target, count, start, end, ticks, hz = sys.argv[1:8]
rate = int(count) / (float(end) - float(start))
print("%s|%s|%.1f|%.1f" % (name, target, rate, int(ticks) * 1e6 / int(hz) / int(count)))
PY
}

echo "smtp-source: $source_bin -s 20 -m COUNT [-d] -l SIZE -f a@client.test -t x@mx.test -M client.test 127.0.0.1:PORT"
echo "servers: $sink_bin ${sink_user[*]} 127.0.0.1:PORT 1024 | $server --listen 127.0.0.1:PORT$([ $with_maildir = 1 ] && echo " [--maildir $shm]")"
echo "rounds: $rounds; $(nproc) CPU(s); $(uname -sr)"
: >"$T/results"
for round in $(seq 1 "$rounds"); do
    for s in "${scenarios[@]}"; do
        IFS='|' read -r name opts full small <<<"$s"
        count=$full
        [ $quick = 1 ] && count=$small
        for target in $targets; do
            run "$name" "$target" "$opts" "$count"
        done
    done
    echo "round $round of $rounds done"
done

python3 - "$T/results" "$targets" <<'PY'
import statistics, sys
targets = sys.argv[2].split()
rate, cpu = {}, {}
for line in open(sys.argv[1]):
    name, target, r, c = line.rstrip("\n").split("|")
    rate.setdefault(name, {}).setdefault(target, []).append(float(r))
    cpu.setdefault(name, {}).setdefault(target, []).append(float(c))
label = {"sink": "smtp-sink", "smtpp": "smtpp-server", "smtpp-md": "smtpp --maildir"}


def table(title, data, fmt, ratio_label):
    head = "%-42s" % title + "".join("%17s" % label[t] for t in targets)
    head += "".join("%14s" % ("%s/sink" % t) for t in targets[1:])
    print()
    print(head)
    print("-" * len(head))
    for name, by in data.items():
        med = {t: statistics.median(by[t]) for t in targets}
        line = "%-42s" % name + "".join(fmt % med[t] for t in targets)
        line += "".join("%14.2f" % (med[t] / med["sink"] if med["sink"] else float("nan")) for t in targets[1:])
        print(line)
    spread = max((max(v) - min(v)) / statistics.median(v) for by in data.values() for v in by.values()
                 if statistics.median(v))
    print("(%s; largest spread within one cell: %.0f%% of its median)" % (ratio_label, spread * 100))


table("messages/s (median)", rate, "%17.0f", "ratio above 1: faster than smtp-sink")
table("server CPU us/message (median)", cpu, "%17.1f", "ratio below 1: less CPU than smtp-sink")
PY

# --- idle connections: a fresh server each time, so its memory before is the baseline ---
if [ "$idle" != 0 ]; then
    echo
    for mode in greeting ehlo; do
        start_smtpp "idle-$mode"
        extra=()
        [ $mode = ehlo ] && extra=(--ehlo)
        python3 "$here/idle_connections.py" "$PORT" "$idle" "$PID" "${extra[@]}" ||
            die "idle connections ($mode) failed: $(tail -3 "$T/idle-$mode.err")"
        kill "$PID"
        wait "$PID" || die "smtpp-server exited with status $? after the idle connections"
    done
fi
