#!/usr/bin/env python3
"""uring-server where io_uring is forbidden, as in a container whose seccomp profile refuses
io_uring_setup (Docker's default since 2023): it must say so and exit with status 3, and the
tests that would run against it must be skipped (77), not fail. The same seccomp filter is
installed here, in the process that starts the server or the test (filters are inherited)."""
import ctypes
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # the modules below leave no __pycache__ in the source tree
import server_lib
from server_lib import UNAVAILABLE, ok, run, skip

IO_URING_SETUP = 425  # the same number on every Linux architecture
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, EPERM = 0x7FFF0000, 0x00050000, 1
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def forbid_io_uring():
    """In the child before exec: io_uring_setup fails with EPERM, everything else is allowed."""
    program = (SockFilter * 4)(
        SockFilter(BPF_LD_W_ABS, 0, 0, 0),  # the system call number
        SockFilter(BPF_JEQ_K, 0, 1, IO_URING_SETUP),
        SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM),
        SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    fprog = SockFprog(len(program), program)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        os._exit(99)  # the test reports it


def forbidden(cmd, env=None):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       preexec_fn=forbid_io_uring, env=env, timeout=120)
    if p.returncode == 99:
        skip("cannot install a seccomp filter here")
    return p.returncode, p.stdout.decode("utf-8", "replace")


def main():
    if not server_lib.built("uring"):
        skip("uring-server is not built")
    uring = server_lib.binary("uring")
    rc, out = forbidden([uring, "--listen", "127.0.0.1:0"])
    assert rc == UNAVAILABLE, "exit status %d: %s" % (rc, out)
    assert "uring-server: io_uring is not available here (io_uring_queue_init: Operation not permitted)" in out, out
    ok("io_uring forbidden: uring-server says so and exits with status %d" % UNAVAILABLE)

    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, SMTPP_SERVERS="uring")
    for test in (["bash", os.path.join(here, "..", "interop", "test_curl.sh")],
                 [sys.executable, os.path.join(here, "test_server_deadlines.py")]):
        rc, out = forbidden(test, env)
        assert rc == 77 and "SKIP: uring-server: io_uring is not available here" in out, \
            "%s: exit status %d: %s" % (test[1], rc, out)
    ok("io_uring forbidden: the interop and hardening tests against uring-server are skipped")


run(main)
