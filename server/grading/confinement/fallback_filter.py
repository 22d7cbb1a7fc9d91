"""A second seccomp filter, for the fallback path only: no socket and no System V IPC at all.

Why a second filter and not more rules in `seccomp.py`: that filter is shared with bubblewrap,
where a zygote receives each job's socket and the child's own namespaces already make local
sockets and IPC harmless. In the fallback the child shares the machine's abstract socket
namespace, every Unix socket with a path it can reach (session D-Bus, docker.sock, ssh-agent,
X11) and the machine's System V IPC, and it needs none of them: its one channel to the service is
inherited, already connected. The kernel runs every filter a process has loaded and keeps the
strictest answer, so this one stacks on top of the shared one and only ever denies more.

Denied with EPERM: creating, naming, connecting or accepting any socket (`socket`, `socketpair`,
`bind`, `listen`, `connect`, `accept`, `accept4`), and every System V shared memory, message
queue and semaphore call. Sending and receiving on the inherited channel still work.
"""

from __future__ import annotations

import errno
import platform
import sys

from server.grading.confinement import seccomp
from server.grading.confinement.seccomp import (
    _ARCH,
    _JEQ_K,
    _JGE_K,
    _LD_W_ABS,
    _NR,
    _RET_ERRNO,
    _RET_K,
    RET_ALLOW,
    RET_KILL_PROCESS,
    op,
)

DENIED = (
    "socket", "socketpair", "bind", "listen", "connect", "accept", "accept4",
    "shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl",
    "semget", "semop", "semtimedop", "semctl",
)

# (audit arch, syscall numbers); from the kernel's unistd tables (x86_64 has no ipc() multiplexer,
# and the filter refuses any other architecture's calls, i386's included).
_TABLES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {
        "socket": 41, "socketpair": 53, "bind": 49, "listen": 50, "connect": 42, "accept": 43,
        "accept4": 288, "shmget": 29, "shmat": 30, "shmctl": 31, "msgget": 68, "msgsnd": 69,
        "msgrcv": 70, "msgctl": 71, "semget": 64, "semop": 65, "semtimedop": 220, "semctl": 66,
    }),
    "aarch64": (0xC00000B7, {
        "socket": 198, "socketpair": 199, "bind": 200, "listen": 201, "connect": 203,
        "accept": 202, "accept4": 242, "shmget": 194, "shmat": 196, "shmctl": 195,
        "msgget": 186, "msgsnd": 189, "msgrcv": 188, "msgctl": 187, "semget": 190, "semop": 193,
        "semtimedop": 192, "semctl": 191,
    }),
}


def supported() -> bool:
    return sys.platform.startswith("linux") and platform.machine() in _TABLES


def program() -> bytes:
    """The filter as `struct sock_filter[]` bytes."""
    machine = platform.machine()
    if machine not in _TABLES:
        raise OSError(f"no syscall table for {machine}")
    arch, numbers = _TABLES[machine]
    eperm = _RET_ERRNO | errno.EPERM
    code = [op(_LD_W_ABS, _ARCH), op(_JEQ_K, arch, 1, 0), op(_RET_K, RET_KILL_PROCESS),
            op(_LD_W_ABS, _NR)]
    if machine == "x86_64":  # x32 numbers (bit 30 set) reach the same calls under other numbers
        code += [op(_JGE_K, 0x40000000, 0, 1), op(_RET_K, eperm)]
    for name in DENIED:
        code += [op(_JEQ_K, numbers[name], 0, 1), op(_RET_K, eperm)]
    code.append(op(_RET_K, RET_ALLOW))
    return b"".join(code)


def install() -> None:
    """Load the filter on the calling process and all it starts, on top of the shared one.
    Irreversible."""
    seccomp.load(program())
