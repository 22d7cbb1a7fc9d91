"""A seccomp filter for the grading sandbox, written as a classic BPF program by hand.

Why by hand, not libseccomp (python3-seccomp, or pyseccomp through ctypes): the program is about a
hundred instructions whose every rule is read here; the same bytes serve both paths (bubblewrap
loads them with `--seccomp FD` before it starts the child, the fallback installs them in the child
itself through `prctl`); and the service needs no native binding that a learner's interpreter (a
pyenv, a venv) may not reach: Debian's python3-seccomp serves Debian's own Python only, and
pyseccomp's last release is from 2021. What libseccomp does better, its per-architecture syscall
tables, is used where it is installed: a test checks every number below against
`scmp_sys_resolver`.

It fails closed for what it does not know:
- a syscall numbered above `REVIEWED_UP_TO` (the last one whose purpose was reviewed for this
  filter) gets ENOSYS, as a kernel without it would answer, so libc falls back to an older call
  where it has one, and a syscall added to future kernels is refused until reviewed here;
- on x86_64 the x32 numbers (bit 30) and any other architecture than the one the table is for
  (e.g. i386 through int 0x80) are refused, the latter by killing the process.
What it denies outright (EPERM) is what a model never needs and an escape would, the set Docker's
and systemd's default profiles refuse: debugging other processes (ptrace, process_vm_*, kcmp,
pidfd_getfd, process_madvise), mounting and namespaces (mount and the new mount API, unshare,
setns, `clone` with any namespace flag, and `clone3`, whose flags live in memory a filter cannot
read: it gets ENOSYS so libc uses clone), kernel keyrings, eBPF, perf, userfaultfd, io_uring (which
bypasses seccomp), kernel modules, kexec, swap, reboot, clocks, accounting, quotas, file handles
(open_by_handle_at reads any file of the file system), I/O ports, the LDT (modify_ldt), NUMA
placement (move_pages, migrate_pages, mbind, set_mempolicy), obsolete calls (uselib, ustat, sysfs,
_sysctl, nfsservctl, ...); two ioctls: TIOCSTI (typing into a terminal) and TIOCLINUX, compared on
the low 32 bits the kernel reads; `socket` for any family but AF_UNIX (no network from the C++
file systems either). Everything else is allowed, so TensorFlow runs unchanged (an allow-list of
what TensorFlow, its libraries and every future glibc may call would break a learner's model where
no test here looks). An unknown architecture gets no filter, and the launcher says so.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct
import sys

# struct seccomp_data: nr (u32) at 0, arch (u32) at 4, instruction pointer at 8, args[i] at 16+8i
# (the low 32 bits of an argument first: both tables are for little-endian machines).
_NR, _ARCH, _ARG0, _ARG1 = 0, 4, 16, 24

_LD_W_ABS = 0x20      # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15         # BPF_JMP | BPF_JEQ | BPF_K
_JGT_K = 0x25         # BPF_JMP | BPF_JGT | BPF_K
_JGE_K = 0x35         # BPF_JMP | BPF_JGE | BPF_K
_JSET_K = 0x45        # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06         # BPF_RET | BPF_K

RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000

AF_UNIX = 1
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 \
    | 0x40000000
TIOCSTI = 0x5412      # push a byte into a terminal's input, as if typed
TIOCLINUX = 0x541C    # the Linux console's own requests (selection paste among them)
DENIED_IOCTLS = (TIOCSTI, TIOCLINUX)

# The highest syscall number reviewed for this filter: mseal (Linux 6.10), the same number on both
# architectures (numbers from 403 up are shared by every architecture). Above it: ENOSYS.
REVIEWED_UP_TO = 462

DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
    "move_mount", "open_tree", "mount_setattr", "unshare", "setns",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "init_module", "finit_module", "delete_module", "create_module", "query_module",
    "get_kernel_syms", "kexec_load", "kexec_file_load",
    "open_by_handle_at", "name_to_handle_at", "swapon", "swapoff", "reboot", "sethostname",
    "setdomainname", "syslog", "acct", "quotactl", "quotactl_fd", "personality", "lookup_dcookie",
    "vhangup", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm",
    "modify_ldt", "move_pages", "migrate_pages", "mbind", "set_mempolicy", "fanotify_init",
    "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl",
)

# (audit arch, syscall numbers); from the kernel's unistd tables, checked against libseccomp's
# by tests/grading/confinement/test_seccomp.py. An architecture without a call leaves it out.
_TABLES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
        "pidfd_getfd": 438, "process_madvise": 440, "mount": 165, "umount2": 166,
        "pivot_root": 155, "chroot": 161,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429,
        "open_tree": 428, "mount_setattr": 442, "unshare": 272, "setns": 308, "keyctl": 250,
        "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298,
        "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "init_module": 175, "finit_module": 313, "delete_module": 176,
        "create_module": 174, "query_module": 178, "get_kernel_syms": 177,
        "kexec_load": 246, "kexec_file_load": 320, "open_by_handle_at": 304,
        "name_to_handle_at": 303, "swapon": 167, "swapoff": 168, "reboot": 169,
        "sethostname": 170, "setdomainname": 171, "syslog": 103, "acct": 163, "quotactl": 179,
        "quotactl_fd": 443, "personality": 135, "lookup_dcookie": 212, "vhangup": 153,
        "settimeofday": 164, "clock_settime": 227, "clock_adjtime": 305, "adjtimex": 159,
        "iopl": 172, "ioperm": 173, "modify_ldt": 154, "move_pages": 279, "migrate_pages": 256,
        "mbind": 237, "set_mempolicy": 238, "fanotify_init": 300, "uselib": 134, "ustat": 136,
        "sysfs": 139, "_sysctl": 156, "nfsservctl": 180,
        "socket": 41, "clone": 56, "clone3": 435, "ioctl": 16,
    }),
    "aarch64": (0xC00000B7, {
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
        "pidfd_getfd": 438, "process_madvise": 440, "mount": 40, "umount2": 39,
        "pivot_root": 41, "chroot": 51,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429,
        "open_tree": 428, "mount_setattr": 442, "unshare": 97, "setns": 268, "keyctl": 219,
        "add_key": 217, "request_key": 218, "bpf": 280, "perf_event_open": 241,
        "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "init_module": 105, "finit_module": 273, "delete_module": 106,
        "kexec_load": 104, "kexec_file_load": 294, "open_by_handle_at": 265,
        "name_to_handle_at": 264, "swapon": 224, "swapoff": 225, "reboot": 142,
        "sethostname": 161, "setdomainname": 162, "syslog": 116, "acct": 89, "quotactl": 60,
        "quotactl_fd": 443, "personality": 92, "lookup_dcookie": 18, "vhangup": 58,
        "settimeofday": 170, "clock_settime": 112, "clock_adjtime": 266, "adjtimex": 171,
        "move_pages": 239, "migrate_pages": 238, "mbind": 235, "set_mempolicy": 237,
        "fanotify_init": 262, "nfsservctl": 42,
        "socket": 198, "clone": 220, "clone3": 435, "ioctl": 29,
    }),
}


def supported() -> bool:
    """Whether a filter can be loaded here: Linux (seccomp is Linux's) on a known architecture."""
    return sys.platform.startswith("linux") and platform.machine() in _TABLES


def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    """One BPF instruction (`struct sock_filter`)."""
    return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)


def program() -> bytes:
    """The filter as `struct sock_filter[]` bytes (what `bwrap --seccomp` reads)."""
    machine = platform.machine()
    if machine not in _TABLES:
        raise OSError(f"no seccomp table for {machine}")
    arch, numbers = _TABLES[machine]
    eperm = _RET_ERRNO | errno.EPERM
    enosys = _RET_ERRNO | errno.ENOSYS
    code = [op(_LD_W_ABS, _ARCH), op(_JEQ_K, arch, 1, 0), op(_RET_K, RET_KILL_PROCESS),
            op(_LD_W_ABS, _NR)]
    if machine == "x86_64":  # the x32 ABI (numbers with bit 30 set) would dodge every rule
        code += [op(_JGE_K, 0x40000000, 0, 1), op(_RET_K, eperm)]
    # Unreviewed, so unknown: what a kernel without the call would answer.
    code += [op(_JGT_K, REVIEWED_UP_TO, 0, 1), op(_RET_K, enosys)]
    for name in DENIED:
        if name in numbers:
            code += [op(_JEQ_K, numbers[name], 0, 1), op(_RET_K, eperm)]
    # clone3 passes its flags in memory the filter cannot read: ENOSYS makes libc use clone.
    code += [op(_JEQ_K, numbers["clone3"], 0, 1), op(_RET_K, enosys)]
    # Each block below ends in a return, so the next one still finds the number loaded.
    code += [
        op(_JEQ_K, numbers["socket"], 0, 4),
        op(_LD_W_ABS, _ARG0),
        op(_JEQ_K, AF_UNIX, 0, 1),
        op(_RET_K, RET_ALLOW),
        op(_RET_K, _RET_ERRNO | errno.EAFNOSUPPORT),
    ]
    # ioctl's request is an unsigned int: the kernel reads the low 32 bits, and so does this.
    code += [op(_JEQ_K, numbers["ioctl"], 0, len(DENIED_IOCTLS) + 3), op(_LD_W_ABS, _ARG1)]
    for index, request in enumerate(DENIED_IOCTLS):
        code.append(op(_JEQ_K, request, len(DENIED_IOCTLS) - index, 0))
    code += [op(_RET_K, RET_ALLOW), op(_RET_K, eperm)]
    code += [
        op(_JEQ_K, numbers["clone"], 0, 3),
        op(_LD_W_ABS, _ARG0),
        op(_JSET_K, CLONE_NAMESPACES, 0, 1),
        op(_RET_K, eperm),
        op(_RET_K, RET_ALLOW),
    ]
    return b"".join(code)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


def install() -> None:
    """Install the filter on the calling process (and everything it starts). Irreversible."""
    load(program())


def load(code: bytes) -> None:
    """Load a filter program on the calling process; the kernel stacks it on any loaded before
    and keeps the strictest answer (the fallback's second filter relies on that)."""
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
