"""Drop every Linux capability for good (the fallback path, where no user namespace takes them).

A service run as root would otherwise hand its grading child every capability: reading any
process's memory and environment, `mknod`, changing any file's owner. Bubblewrap drops them with
`--cap-drop ALL`; without it the child does the same to itself before it reads a learner's file:
securebits locked so that being uid 0 gives nothing back on `execve`, the bounding set emptied,
the ambient set cleared, and the effective, permitted and inheritable sets zeroed. For an
ordinary user most of this is already so; whatever cannot be changed without a capability is
skipped, and what remains is read back from the kernel and must be empty.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

_PR_CAPBSET_READ, _PR_CAPBSET_DROP = 23, 24
_PR_SET_SECUREBITS = 28
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
# NOROOT, NO_SETUID_FIXUP and NO_CAP_AMBIENT_RAISE, each with its lock; KEEP_CAPS locked off.
_SECUREBITS = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 7)
_CAP_VERSION_3 = 0x20080522


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _last_cap() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return 63


def held() -> dict[str, int]:
    """The capability sets of this process, as the kernel reports them."""
    sets: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            sets[key] = int(value.strip(), 16)
    return sets


def drop_all() -> None:
    """Lose every capability irreversibly. Raises OSError if any set is still not empty."""
    libc = ctypes.CDLL(None, use_errno=True)
    if held().get("CapEff", 0):
        # Needs CAP_SETPCAP, so only a process that has capabilities does it (and must).
        if libc.prctl(_PR_SET_SECUREBITS, _SECUREBITS, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECUREBITS) failed")
        for cap in range(_last_cap() + 1):
            if libc.prctl(_PR_CAPBSET_READ, cap, 0, 0, 0) == 1 and \
                    libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap}) failed")
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = _Header(_CAP_VERSION_3, 0)
    data = (_Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    left = {key: value for key, value in held().items() if key != "CapBnd" and value}
    if left:
        raise OSError(f"capabilities still held after dropping them: {left}")
