"""Dangerous system calls made for real, through ctypes' `syscall()`, from inside a sandboxed
child (or outside it, to see what the kernel itself answers). Each is given arguments the kernel
would refuse or that do no harm if it ran (an invalid flag, a bad pointer, a descriptor of -1), so
that only the seccomp filter can answer with its own errno: EPERM, or ENOSYS for clone3 and for
calls above the filter's table. Numbers are x86_64's, written here and not taken from the filter
(which would test it against itself); `CALLS` is source text, because the sandbox sees tfexam's
`server` package and nothing of `tests`."""

from __future__ import annotations

CALLS = r'''
import ctypes, errno, os
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

def _call(nr, *args):
    values = [ctypes.c_ulong(a & (2**64 - 1)) if isinstance(a, int) else a for a in args]
    ctypes.set_errno(0)
    result = _libc.syscall(ctypes.c_long(nr), *values)
    if result >= 0:
        return "ok"
    code = ctypes.get_errno()
    return errno.errorcode.get(code, str(code))

def native_calls():
    buf = ctypes.create_string_buffer(4096)
    page = ctypes.create_string_buffer(3 * 4096)
    pages = (ctypes.c_void_p * 1)((ctypes.addressof(page) + 4095) & ~4095)
    status = (ctypes.c_int * 1)(0)
    null = os.open("/dev/null", os.O_RDONLY)
    CLONE_NEWUSER, CLONE_THREAD, AF_INET, SOCK_STREAM = 0x10000000, 0x00010000, 2, 1
    return {
        # Refused since issue 22 (item 4): today's kernel lets each of them through.
        "modify_ldt": _call(154, 0, buf, 64),                      # read the LDT: ok
        "move_pages": _call(279, 0, 1, pages, None, status, 0),    # where a page is: ok
        "ioctl_TIOCSTI": _call(16, null, 0x5412, buf),             # ENOTTY on /dev/null
        "ioctl_TIOCSTI_high_bits": _call(16, null, (1 << 32) | 0x5412, buf),
        "ioctl_TIOCLINUX": _call(16, null, 0x541C, buf),
        "setxattrat_above_table": _call(463, -1, buf, 0, 0, 0, 0), # Linux 6.13: EINVAL
        # Refused before too.
        "ptrace": _call(101, 0xFFFF, 0, 0, 0),
        "process_vm_readv": _call(310, 0, None, 0, None, 0, 0),
        "mount": _call(165, None, None, None, 0, None),
        "umount2": _call(166, b"/nonexistent-tfexam", 0),
        "pivot_root": _call(155, None, None),
        "unshare_user": _call(272, CLONE_NEWUSER),
        "setns": _call(308, -1, 0),
        "clone_user": _call(56, CLONE_NEWUSER | CLONE_THREAD, 0, 0, 0, 0),
        "clone3": _call(435, None, 0),
        "keyctl": _call(250, 0xFFFF, 0, 0, 0, 0),
        "add_key": _call(248, None, None, None, 0, 0),
        "request_key": _call(249, None, None, None, 0),
        "bpf": _call(321, 0xFFFF, None, 0),
        "perf_event_open": _call(298, None, 0, -1, -1, 0),
        "userfaultfd": _call(323, 0xFFFFFFFF),
        "init_module": _call(175, None, 0, None),
        "finit_module": _call(313, -1, None, 0),
        "delete_module": _call(176, None, 0),
        "kexec_load": _call(246, 0, 0, None, 0xFFFFFFFF),
        "open_by_handle_at": _call(304, -1, None, 0),
        "name_to_handle_at": _call(303, -1, None, None, None, 0),
        "iopl": _call(172, 4),
        "ioperm": _call(173, 0x10000, 1, 1),
        "acct": _call(163, 1),
        "quotactl": _call(179, 0, None, 0, None),
        "swapon": _call(167, None, 0),
        "reboot": _call(169, 0, 0, 0, None),                      # bad magic: EINVAL
        "io_uring_setup": _call(425, 0, None),
        "socket_inet": _call(41, AF_INET, SOCK_STREAM, 0),
        # Ordinary calls still reach the kernel.
        "ioctl_FIONBIO": _call(16, null, 0x5421, ctypes.byref(ctypes.c_int(0))),
        "getpid": _call(39),
    }
'''

# What the filter answers for each, where it answers (the rest must reach the kernel: "ok").
# `socket_inet` may meet a stricter filter first in the fallback (one that refuses every socket),
# so `as_filter_answers` holds it only to a refusal.
REFUSED_SINCE_ISSUE_22 = ("modify_ldt", "move_pages", "ioctl_TIOCSTI", "ioctl_TIOCSTI_high_bits",
                          "ioctl_TIOCLINUX", "setxattrat_above_table")
FILTER_ANSWERS = {
    **{name: "EPERM" for name in (
        "modify_ldt", "move_pages", "ioctl_TIOCSTI", "ioctl_TIOCSTI_high_bits", "ioctl_TIOCLINUX",
        "ptrace", "process_vm_readv", "mount", "umount2", "pivot_root", "unshare_user", "setns",
        "clone_user", "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
        "userfaultfd", "init_module", "finit_module", "delete_module", "kexec_load",
        "open_by_handle_at", "name_to_handle_at", "iopl", "ioperm", "acct", "quotactl",
        "swapon", "reboot", "io_uring_setup")},
    "setxattrat_above_table": "ENOSYS", "clone3": "ENOSYS", "socket_inet": "EAFNOSUPPORT",
    "ioctl_FIONBIO": "ok", "getpid": "ok",
}


def as_filter_answers(seen: dict) -> dict:
    """`seen` with a refused `socket_inet` written as FILTER_ANSWERS has it, for comparing."""
    if seen.get("socket_inet") not in (None, "ok"):
        return {**seen, "socket_inet": FILTER_ANSWERS["socket_inet"]}
    return seen
