#!/usr/bin/python3
"""Run a command under a seccomp allow list, like systemd's SystemCallFilter= does for a unit.

    seccomp-exec.py ALLOWED_SYSCALLS_FILE COMMAND [ARG...]

ALLOWED_SYSCALLS_FILE holds syscall names separated by white space (the unit's filter, expanded by the test
with `systemd-analyze syscall-filter`). Any other system call fails with EPERM, as with the unit's
SystemCallErrorNumber=EPERM. Names this architecture does not have are skipped, as systemd does.
Uses libseccomp's Python binding (Debian: python3-seccomp).
"""
import errno
import os
import sys

import seccomp

allowed = open(sys.argv[1], encoding="ascii").read().split()
syscall_filter = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
for name in allowed:
    try:
        syscall_filter.add_rule(seccomp.ALLOW, name)
    except (RuntimeError, ValueError):
        pass  # not a system call on this architecture
syscall_filter.load()
os.execv(sys.argv[2], sys.argv[2:])
