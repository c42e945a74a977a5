#!/bin/bash
# Exim 4 as a peer, both ways, through one Exim daemon on two loopback ports (port 1 offers
# CHUNKING, port 2 does not):
#   * smtpp-send -> Exim: BDAT on port 1, DATA on port 2; 8-bit body, lines starting with '.',
#     three recipients, a 1 MB message; Exim delivers mx.test into Maildirs, and each file must
#     be the sent message byte for byte after Exim's Received header;
#   * Exim -> smtpp-server: Exim routes relay.test to smtpp-server --maildir; Exim's log must
#     show PIPELINING (L) and CHUNKING (K) used, smtpp-server must store the exact bytes (after
#     the Received header) with the right envelope, SMTPUTF8 included.
#
# Debian's exim4 conflicts with postfix (both provide mail-transport-agent), so when Exim is
# not installed the test fetches exim4-daemon-light with `apt-get download` into a cache
# ($SMTPP_EXIM_CACHE, default ~/.cache/smtpp-interop/exim4) and runs the extracted binary with
# a private configuration (-C). That binary wants the user Debian-exim and re-executes itself
# as /usr/sbin/exim4: it runs in a private mount namespace (unshare -m) where /etc/passwd and
# /etc/group are copies with Debian-exim added and /usr/sbin is the extracted directory.
# Nothing outside the namespace changes. Needs root; skipped (77) without it, or without
# apt-get/dpkg-deb/network.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap 'set +e; cleanup' EXIT # lib.sh's cleanup must run to the end whatever a kill returns
[ -n "${SMTPP_SEND:-}" ] && [ -x "$SMTPP_SEND" ] || skip "smtpp-send is not built"
[ "$(id -u)" = 0 ] || skip "the Exim peer needs root (exim -bd, private mount namespace)"

# --- the Exim binary: installed, or extracted from Debian's package ---
exim_bin=$(command -v exim4 || command -v exim || true)
if [ -n "$exim_bin" ] && getent passwd Debian-exim >/dev/null; then
    namespace=no
else
    need unshare mount
    cache=${SMTPP_EXIM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smtpp-interop/exim4}
    if [ ! -x "$cache/root/usr/sbin/exim4" ]; then
        command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || skip "Exim is not installed and apt-get/dpkg-deb are not available"
        mkdir -p "$cache"
        work=$(mktemp -d "$cache/download.XXXXXX") # concurrent runs: extract aside, then rename
        (cd "$work" && timeout 120 apt-get download exim4-daemon-light) >"$T/apt.log" 2>&1 ||
            { rm -rf "$work"; skip "cannot download exim4-daemon-light: $(tail -1 "$T/apt.log")"; }
        dpkg-deb -x "$work"/exim4-daemon-light_*.deb "$work/root" || { rm -rf "$work"; fail "dpkg-deb -x exim4-daemon-light"; }
        mv -T "$work/root" "$cache/root" 2>/dev/null || true # another run may have won
        rm -rf "$work"
    fi
    exim_bin=$cache/root/usr/sbin/exim4
    if ldd "$exim_bin" | grep -q 'not found'; then
        skip "the extracted exim4 misses libraries: $(ldd "$exim_bin" | grep 'not found' | tr -s ' \t\n' ' ')"
    fi
    namespace=yes
fi
"$exim_bin" -bV >/dev/null 2>&1 || [ $namespace = yes ] || skip "$exim_bin -bV fails"

# --- the configuration ---
E=$T/exim
chmod 755 "$T" # Exim receives and delivers as nobody
mkdir -p "$E/spool" "$E/log" "$E/mail"
chown nobody:nogroup "$E/spool" "$E/log" "$E/mail"
md="$T/relayed"
mkdir -p "$md"
start_server epoll smtpp --maildir "$md"
bdat_port=$(free_port)
data_port=$(free_port)
cat >"$E/exim.conf" <<EOF
exim_user = nobody
exim_group = nogroup
never_users = root
spool_directory = $E/spool
log_file_path = $E/log/%slog
log_selector = +pipelining +received_recipients
primary_hostname = exim.test
qualify_domain = exim.test
local_interfaces = 127.0.0.1.$bdat_port : 127.0.0.1.$data_port
keep_environment =
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
pipelining_advertise_hosts = *
chunking_advertise_hosts = \${if eq{\$received_port}{$data_port}{}{*}}
smtputf8_advertise_hosts = *
accept_8bitmime = true
message_size_limit = 20M
queue_run_max = 0
domainlist local_domains = mx.test
domainlist relay_to_domains = relay.test
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept domains = +local_domains : +relay_to_domains
  deny   message = relay not permitted
begin routers
to_smtpp:
  driver = manualroute
  domains = +relay_to_domains
  route_list = * 127.0.0.1::$PORT byname
  self = send
  transport = to_smtpp
maildir:
  driver = accept
  domains = +local_domains
  local_parts = lsearch;$E/mailboxes
  transport = maildir
begin transports
to_smtpp:
  driver = smtp
  hosts_try_chunking = *
  allow_localhost
maildir:
  driver = appendfile
  directory = $E/mail/\${local_part_data}/Maildir
  maildir_format
  create_directory
  delivery_date_add = false
  envelope_to_add = false
  return_path_add = false
  user = nobody
  group = nogroup
  mode = 0644
begin retry
* * F,1m,10s
EOF
chmod 644 "$E/exim.conf"

# Runs Exim (in the private namespace when extracted); with exec, its PID is $!.
cat >"$E/run.sh" <<EOF
#!/bin/sh
set -e
if [ $namespace = yes ]; then
    cp /etc/passwd "$E/passwd"
    cp /etc/group "$E/group"
    echo "Debian-exim:x:\$(id -u nobody):\$(id -g nobody):Exim for smtpp tests:/nonexistent:/usr/sbin/nologin" >>"$E/passwd"
    echo "Debian-exim:x:\$(id -g nobody):" >>"$E/group"
    mount --bind "$E/passwd" /etc/passwd
    mount --bind "$E/group" /etc/group
    mount --bind "$(dirname "$exim_bin")" /usr/sbin
    exec /usr/sbin/exim4 -C "$E/exim.conf" "\$@"
fi
exec "$exim_bin" -C "$E/exim.conf" "\$@"
EOF
launcher=(sh "$E/run.sh")
[ $namespace = yes ] && launcher=(unshare -m --propagation private sh "$E/run.sh")

mailboxes=(x y z big8 bigd data8)
for b in "${mailboxes[@]}"; do echo "$b: $b"; done >"$E/mailboxes" # $local_part_data: the value

(cd / && exec "${launcher[@]}" -bdf -odi) >"$T/exim-daemon.log" 2>&1 &
exim_pid=$!
PIDS+=("$exim_pid")
wait_port "$bdat_port"
wait_port "$data_port"
exim_log() { tail -n 20 "$E/log/mainlog" 2>/dev/null; cat "$E/log/paniclog" 2>/dev/null || true; }

# --- the messages (LF line ends; CRLF on the wire) ---
printf 'From: <a@client.test>\nTo: <x@mx.test>\nSubject: exim\nDate: Fri, 4 Dec 2026 12:00:00 +0000\nMessage-ID: <m1@client.test>\nContent-Type: text/plain; charset=utf-8\n\n.leading dot\n..two dots\n.\nGr\303\274\303\237e \342\202\254\n. \nend\n' >"$T/msg.txt"
printf 'From: J\303\266rg <j\303\266rg@client.test>\nSubject: Gr\303\274\303\237e\nMessage-ID: <utf8@client.test>\n\nHall\303\266chen\n' >"$T/utf8.txt"
"$PY" - "$T/big.txt" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: <a@client.test>\nSubject: big\nMessage-ID: <big@client.test>\n\n")
    for i in range(15000):
        f.write(b"%sline %06d %s\n" % (b"." if i % 5 == 0 else b"", i, b"e" * 60))
PY
for f in msg utf8 big; do crlf "$T/$f.txt" "$T/$f.eml"; done
U1=$'j\303\266rg@client.test'
U2=$'\303\274ber@relay.test'

# in_maildir BOX FILE: BOX's Maildir holds one message: Exim's Received header, then FILE.
in_maildir() {
    "$PY" - "$E/mail/$1/Maildir" "$2" <<'PY'
import glob, sys, time
box, want_file = sys.argv[1:3]
deadline = time.time() + 30
while not glob.glob(box + "/new/*") and time.time() < deadline:
    time.sleep(0.1)
files = glob.glob(box + "/new/*")
if len(files) != 1:
    sys.exit("%s: %d messages, 1 expected" % (box, len(files)))
lines = open(files[0], "rb").read().split(b"\n")
if not lines[0].startswith(b"Received: from "):
    sys.exit("%s: first line %r" % (box, lines[0]))
i = 1
while lines[i].startswith(b"\t"):
    i += 1
if b"by exim.test with esmtp" not in b" ".join(lines[:i]).lower():
    sys.exit("%s: Received header %r" % (box, lines[:i]))
body, want = b"\n".join(lines[i:]), open(want_file, "rb").read()
if body != want:
    n = next((k for k in range(min(len(body), len(want))) if body[k] != want[k]), min(len(body), len(want)))
    sys.exit("%s: bytes differ at %d of %d/%d: %r vs %r" % (box, n, len(body), len(want), body[n:n + 40], want[n:n + 40]))
PY
}

# wait_relayed N: smtpp-server has stored N messages (30 s).
wait_relayed() {
    local _
    for _ in $(seq 1 300); do
        [ "$(find "$md" -name '*.json' | wc -l)" -ge "$1" ] && return 0
        sleep 0.1
    done
    fail "Exim relayed $(find "$md" -name '*.json' | wc -l) messages to smtpp-server, $1 expected: $(exim_log)"
}

# Exim's delivery log line for RCPT: "=>" (or "->" for a further recipient) ... FLAGS.
delivery_flags() {
    grep -E " [=-]> $1 R=to_smtpp T=to_smtpp H=127\.0\.0\.1 \[127\.0\.0\.1\]" "$E/log/mainlog" | tail -1
}

send() { timeout 60 "$SMTPP_SEND" --helo client.test "$@"; }

# --- smtpp-send -> Exim ---
send --server 127.0.0.1:$bdat_port --verbose --from a@client.test --to x@mx.test --to y@mx.test --to z@mx.test "$T/msg.txt" \
    >"$T/out" 2>"$T/send.log" || fail "smtpp-send -> Exim (BDAT): $(cat "$T/out")"
grep -q '^-> BDAT ' "$T/send.log" || fail "CHUNKING offered on port 1 but not used"
grep -q '^-> MAIL FROM:<a@client.test> SIZE=[0-9]* BODY=8BITMIME$' "$T/send.log" || fail "no BODY=8BITMIME"
[ "$(grep -c '@mx.test: 250' "$T/out")" = 3 ] || fail "three recipient lines expected: $(cat "$T/out")"
for b in x y z; do in_maildir $b "$T/msg.txt" || fail "smtpp-send -> Exim (BDAT), $b: $(exim_log)"; done
ok "smtpp-send -> Exim: BDAT, 8-bit, dot lines, three recipients delivered byte for byte"

send --server 127.0.0.1:$data_port --verbose --from a@client.test --to data8@mx.test "$T/msg.txt" \
    >"$T/out" 2>"$T/send.log" || fail "smtpp-send -> Exim (DATA): $(cat "$T/out")"
grep -q '^-> DATA$' "$T/send.log" && ! grep -q '^-> BDAT' "$T/send.log" || fail "DATA expected on port 2"
in_maildir data8 "$T/msg.txt" || fail "smtpp-send -> Exim (DATA): $(exim_log)"
ok "smtpp-send -> Exim: DATA (dot-stuffed), delivered byte for byte"

send --server 127.0.0.1:$bdat_port --from a@client.test --to big8@mx.test - <"$T/big.txt" >"$T/out" 2>"$T/send.log" ||
    fail "big (BDAT): $(cat "$T/out")"
send --server 127.0.0.1:$data_port --from a@client.test --to bigd@mx.test - <"$T/big.txt" >"$T/out" 2>"$T/send.log" ||
    fail "big (DATA): $(cat "$T/out")"
in_maildir big8 "$T/big.txt" || fail "big (BDAT): $(exim_log)"
in_maildir bigd "$T/big.txt" || fail "big (DATA): $(exim_log)"
ok "smtpp-send -> Exim: $(stat -c %s "$T/big.eml") bytes over BDAT and over DATA"

if send --server 127.0.0.1:$bdat_port --from a@client.test --to x@elsewhere.test "$T/msg.txt" >"$T/out" 2>"$T/send.log"; then
    fail "a refused recipient gave exit status 0"
fi
grep -q '^x@elsewhere.test: 550 relay not permitted' "$T/out" || fail "refusal line: $(cat "$T/out")"
ok "smtpp-send -> Exim: refused recipient, 550 on its line, exit 1"

# --- Exim -> smtpp-server ---
send --server 127.0.0.1:$bdat_port --from a@client.test --to p@relay.test --to q@relay.test "$T/msg.txt" >"$T/out" 2>"$T/send.log" ||
    fail "-> Exim -> smtpp-server: $(cat "$T/out")"
wait_relayed 1
send --server 127.0.0.1:$data_port --from "$U1" --to "$U2" "$T/utf8.txt" >"$T/out" 2>"$T/send.log" ||
    fail "SMTPUTF8 -> Exim -> smtpp-server: $(cat "$T/out")"
wait_relayed 2
send --server 127.0.0.1:$bdat_port --from a@client.test --to p@relay.test - <"$T/big.txt" >"$T/out" 2>"$T/send.log" ||
    fail "big -> Exim -> smtpp-server: $(cat "$T/out")"
wait_relayed 3
# Exim prepends its Received header: skip it, then compare (the .eml is CRLF).
strip_received() { "$PY" -c 'import sys; l=open(sys.argv[1],"rb").read().split(b"\r\n"); i=1
while l[i].startswith(b"\t"): i+=1
assert l[0].startswith(b"Received: from ") and b"by exim.test with " in b" ".join(l[:i]), l[:i]
open(sys.argv[2],"wb").write(b"\r\n".join(l[i:]))' "$1" "$2"; }
i=0
for m in msg utf8 big; do
    id=$(ls "$md" | sed -n 's/\.json$//p' | sort -t. -k3,3n | sed -n "$((i + 1))p")
    strip_received "$md/$id.eml" "$T/got-$m.eml" || fail "Exim's Received header in $m"
    cmp "$T/got-$m.eml" "$T/$m.eml" || fail "Exim -> smtpp-server: $m stored other bytes"
    i=$((i + 1))
done
$CHECK "$md" --count 3 || fail "message count"
$CHECK "$md" --index 0 --from a@client.test --to p@relay.test --to q@relay.test --helo exim.test --chunked yes --eight-bit yes ||
    fail "Exim -> smtpp-server: envelope of the 8-bit message"
$CHECK "$md" --index 1 --from "$U1" --to "$U2" --chunked yes --param SMTPUTF8= || fail "Exim -> smtpp-server: SMTPUTF8"
$CHECK "$md" --index 2 --from a@client.test --to p@relay.test --chunked yes || fail "Exim -> smtpp-server: big message"
for r in p@relay.test "$U2"; do
    flags=$(delivery_flags "$r")
    case "$flags" in *" L K C=\"250 2.0.0 Message accepted\""*) ;; *) fail "Exim did not pipeline and chunk to $r: $flags" ;; esac
done
ok "Exim -> smtpp-server: PIPELINING + CHUNKING (BDAT), 8-bit, SMTPUTF8, 1 MB, bytes and envelopes equal"

# The paniclog holds a note per re-execution ("exim user lost privilege for using -C option",
# the expected effect of an untrusted -C configuration) and nothing else.
panics=$(grep -v 'lost privilege for using -C option' "$E/log/paniclog" 2>/dev/null || true)
[ -z "$panics" ] || fail "Exim panicked: $panics"
kill "$exim_pid"
wait "$exim_pid" || true
stop_server
echo "exim: all passed"
