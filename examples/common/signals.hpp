// smtpp examples: which signals stop the servers. Every signal whose default action would kill
// the process (SIGHUP from a closed terminal, SIGUSR1 sent by mistake, SIGXCPU, ...) stops the
// server cleanly instead: 421 to every client, unfinished messages removed, exit status 0.
// SIGPIPE and SIGXFSZ are ignored: send(2) and write(2) report EPIPE and EFBIG, which the
// servers handle. Faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP) keep their
// default action: after one of those nothing can be trusted to stop cleanly.
#ifndef SMTPP_EXAMPLES_SIGNALS_HPP
#define SMTPP_EXAMPLES_SIGNALS_HPP

#include <csignal>
#include <cstring>
#include <string>
#include <vector>

namespace smtpp_examples {

inline std::vector<int> stop_signals() {
    std::vector<int> s = {SIGHUP,  SIGINT,    SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                          SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGIO};
#ifdef SIGPWR
    s.push_back(SIGPWR);
#endif
#ifdef SIGSTKFLT
    s.push_back(SIGSTKFLT);
#endif
#ifdef SIGRTMIN
    for (int rt = SIGRTMIN; rt <= SIGRTMAX; ++rt) s.push_back(rt);
#endif
    return s;
}

inline void ignore_harmless_signals() {
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGXFSZ, SIG_IGN);
}

// "signal 1 (Hangup)" for the log.
inline std::string signal_text(int sig) {
    const char* what = ::strsignal(sig);
    return "signal " + std::to_string(sig) + " (" + (what ? what : "?") + ")";
}

} // namespace smtpp_examples

#endif // SMTPP_EXAMPLES_SIGNALS_HPP
