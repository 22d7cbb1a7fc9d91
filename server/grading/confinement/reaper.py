"""The fallback sandbox's first process: it starts the grading child and, when the job ends, kills
every process the child left, wherever it went.

Without a PID namespace, a model's native code can `setsid()` and fork twice: the grandchild
leaves the child's process group and session, is re-parented away from the sandbox, and the
launcher's `killpg` misses it. This process makes itself a child subreaper
(PR_SET_CHILD_SUBREAPER), so every orphan below it is re-parented to it, not to init; when the
child exits, or the launcher sends SIGTERM, or the service dies (PR_SET_PDEATHSIG), it kills its
descendants until none is left, then ends as the child ended (same code, or same signal), so the
launcher reads the child's fate from its exit status as before.

It runs unconfined (it reads nothing a learner made and loads no library of theirs) and imports
only the standard library: `python -I -S reaper.py PARENT_PID -- ARGV…`. Where Landlock scopes
signals (ABI 6), the confined child cannot signal it; below that, a model can kill it first.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from pathlib import Path

_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36


class _Stop(Exception):
    """SIGTERM: the launcher (or the service's death) ends the job."""


def _stop(signum: int, frame: object) -> None:
    raise _Stop


def _children() -> list[int]:
    """This process's children right now, orphans re-parented to it included."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path("/proc/self/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(pid) for pid in (task / "children").read_text().split()]
    return found


def _descendants(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(OSError):
                    todo += [int(child) for child in (task / "children").read_text().split()]
    return tree


def kill_all() -> None:
    """SIGKILL every descendant, reap them, and repeat until none is left (a killed process's
    children come to this one, as orphans do)."""
    while True:
        for child in _children():
            for pid in _descendants(child):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)  # one of those just killed; then look again
        except ChildProcessError:
            return


def main(argv: list[str]) -> None:
    parent, _, command = int(argv[0]), argv[1], argv[2:]
    import resource  # Unix's: imported where it runs, so every module imports on any system

    libc = ctypes.CDLL(None, use_errno=True)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGTERM, _stop)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the service died before the request took effect
        sys.exit(1)
    status = 0
    try:
        child = os.fork()
        if child == 0:  # the child leads a session of its own, as bubblewrap's does
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.setsid()
            try:
                os.execv(command[0], command)
            finally:
                os._exit(127)
        while True:
            pid, status = os.waitpid(-1, 0)
            if pid == child:
                break
    except _Stop:
        status = signal.SIGKILL  # as a wait status: killed by SIGKILL
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        kill_all()
    if os.WIFSIGNALED(status):
        ending = os.WTERMSIG(status)
        signal.signal(ending, signal.SIG_DFL)
        os.kill(os.getpid(), ending)
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
