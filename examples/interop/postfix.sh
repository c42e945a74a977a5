# A private Postfix instance for the interop tests (sourced after lib.sh, not run).
#
# Everything lives in $T/postfix: its own main.cf and master.cf (etc/), queue and data
# directories and mailboxes; its log is $T/postfix.log (fail shows it). Postfix's master(8)
# runs in the foreground (-d) in its own process group, started and stopped by PID;
# /etc/postfix and the system instance are never touched (`postfix -c DIR check` only creates
# the private queue directories). No service is chrooted. Needs root: master(8) and the
# delivery agents change user.
#
#   start_postfix PORT [MAIN_CF_LINE...]   smtpd on 127.0.0.1:PORT; the extra lines go to main.cf
#   stop_postfix                           SIGTERM to master, waits for all its processes
#   pf_log                                 the end of the instance's log (for messages)

need postconf postfix
[ "$(id -u)" = 0 ] || skip "a private Postfix instance needs root (master(8) changes user)"
PF_MASTER=$(postconf -dh daemon_directory)/master
[ -x "$PF_MASTER" ] || skip "Postfix master(8) not found in $(postconf -dh daemon_directory)"
PF=$T/postfix
PF_PID=

# The services a small MTA needs, none chrooted; more lines (e.g. a second smtpd) may follow.
pf_master_cf() {
    cat <<EOF
127.0.0.1:$1 inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# main.cf: loopback only, no DNS, no TLS, no local domain, no header rewriting (so the
# delivered message is the sent one plus the headers Postfix prepends), log to a file.
pf_main_cf() {
    cat <<EOF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $T/postfix.log
maillog_file_prefixes = $T
myhostname = postfix.test
mydomain = postfix.test
myorigin = postfix.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
local_header_rewrite_clients =
alias_maps =
alias_database =
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
EOF
}

start_postfix() {
    local port=$1 _
    shift
    chmod 755 "$T" # the Postfix daemons run as postfix, delivery as nobody
    mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
    chown postfix "$PF/data"
    pf_main_cf >"$PF/etc/main.cf"
    printf '%s\n' "$@" >>"$PF/etc/main.cf"
    [ -f "$PF/etc/master.cf" ] || pf_master_cf "$port" >"$PF/etc/master.cf"
    postfix -c "$PF/etc" check >"$T/postfix-check.log" 2>&1 ||
        fail "postfix check: $(cat "$T/postfix-check.log")"
    # Its own process group (setsid), so that master(8) can signal all its children at exit.
    (cd / && exec setsid "$PF_MASTER" -c "$PF/etc" -d) >"$T/postfix-master.log" 2>&1 &
    PF_PID=$!
    PIDS+=("$PF_PID")
    for _ in $(seq 1 100); do
        "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2).close()' "$port" 2>/dev/null && return 0
        kill -0 "$PF_PID" 2>/dev/null || fail "Postfix master did not start: $(cat "$T/postfix-master.log"; pf_log)"
        sleep 0.05
    done
    fail "Postfix does not listen on $port: $(pf_log)"
}

stop_postfix() {
    [ -n "$PF_PID" ] || return 0
    local pid=$PF_PID _
    PF_PID=
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # master(8) sends SIGTERM to its process group on the way out: wait for the daemons.
    for _ in $(seq 1 100); do
        pgrep -g "$pid" >/dev/null || return 0
        sleep 0.05
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
}

pf_log() { [ -f "$T/postfix.log" ] && tail -n 20 "$T/postfix.log"; }

# lib.sh's cleanup removes $T: stop Postfix (all its processes) before that. set +e: the
# cleanup must run to the end whatever a kill or wait returns.
trap 'set +e; stop_postfix; cleanup' EXIT
