"""A forking sandbox's first process: TensorFlow imported once, then one forked child per job.

Importing TensorFlow costs seconds of CPU (many times more on a machine busy training), and a
sandbox used for one job pays it for every save. Here the sandbox's first process (the zygote)
imports it once and never loads a model; each job gets a child forked from it, so every job
starts from the same clean, just-imported state, in the same bubblewrap sandbox. What one job's
model could leave for the next is removed before the next fork, or the sandbox is not used again:

- processes: when the job's child has ended, every other process in the sandbox's own PID
  namespace is killed (`kill(-1)`), and the zygote waits until none is left;
- files: the private /tmp (also HOME and KERAS_HOME) and /dev/shm are emptied; the job folder is
  the parent's to empty (it is read-only in here);
- the zygote itself: it is not dumpable, so no child can open its memory through /proc (ptrace
  and process_vm_* are refused by seccomp anyway), and it reads nothing a job could write: only
  the control socket, which each child closes before it reads its job;
- the channel: each job talks on a socket of its own that the parent passes in with the fork
  request, so no child can read another job's requests or answer for it.

Forking is only done while the zygote has one thread: a fork copies only the calling thread, and
a lock held by another thread would stay locked in the child for ever. TensorFlow's import starts
no thread of its own; OpenBLAS (numpy's, scipy's) does, unless OPENBLAS_NUM_THREADS=1, which the
launcher sets. The count is checked before every fork: with more than one thread the zygote says so
and ends, and the parent starts a sandbox of the one-job kind instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable

from server.grading import protocol
from server.grading.protocol import Recycled

PR_SET_DUMPABLE = 4
EMPTIED = ("/tmp", "/dev/shm")
SETTLE_SECONDS = 2.0


def single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _set_dumpable(value: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, value, 0, 0, 0)


def _read_request(control: socket.socket) -> tuple[bytes, list[int]]:
    """One newline-ended fork request and the descriptor passed with it."""
    data, fds = b"", []
    while not data.endswith(b"\n") and len(data) <= 4096:
        chunk, more_fds, _, _ = socket.recv_fds(control, 4096, 1)
        fds += more_fds
        if not chunk:
            break
        data += chunk
    return data, fds


def _how_it_ended(status: int) -> tuple[bool, str]:
    if os.WIFSIGNALED(status):
        return False, f"was killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    code = os.WEXITSTATUS(status)
    return code == 0, f"exited with code {code}"


def others() -> list[int]:
    """Processes of this PID namespace other than its init (bwrap) and this one."""
    me = os.getpid()
    return [int(name) for name in os.listdir("/proc") if name.isdigit() and int(name) not in (1, me)]


def _remove_strays() -> str:
    """Kill every process a job left behind; '' once none is left."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)  # all but init and this process
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        left = others()
        if not left:
            return ""
        if time.monotonic() > deadline:
            return f"{len(left)} processes a job left would not end"
        time.sleep(0.01)


def _mount_points() -> set[str]:
    """Where bubblewrap mounted something: read-only binds may sit inside /tmp (a checkout or a
    virtual environment under /tmp is bound at its own path), and are never a job's to change."""
    points = set()
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            fields = line.split()
            if len(fields) > 4:
                points.add(fields[4].replace("\\040", " "))
    return points


def _remove(path: str) -> None:
    """Remove a file or a tree (a folder a job made unreadable is made readable first)."""
    def unlock(_function: Callable[..., object], failed: str, _error: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(failed), 0o700)
            os.chmod(failed, 0o700)
        with contextlib.suppress(OSError):
            (shutil.rmtree if os.path.isdir(failed) and not os.path.islink(failed)
             else os.unlink)(failed)

    with contextlib.suppress(FileNotFoundError):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, onerror=unlock)
        else:
            os.unlink(path)


def _leftovers(folder: str, mounts: set[str]) -> list[str]:
    """What a job could have written below `folder`: everything but the mount points and the
    folders that lead to them (whose other contents are a job's too)."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.path in mounts:
                continue
            if entry.is_dir(follow_symlinks=False) and any(
                    m.startswith(entry.path + "/") for m in mounts):
                found += _leftovers(entry.path, mounts)
            else:
                found.append(entry.path)
    return found


def _empty(folder: str) -> str:
    """Empty `folder` of all a job could have written; '' once nothing is left."""
    if not os.path.isdir(folder):
        return ""
    mounts = _mount_points()
    for path in _leftovers(folder, mounts):
        _remove(path)
    left = _leftovers(folder, mounts)
    return f"{folder} kept {len(left)} entries" if left else ""


def _clean() -> str:
    return "; ".join(why for why in (_remove_strays(), *map(_empty, EMPTIED)) if why)


def serve(control: socket.socket, run_job: Callable[[socket.socket], None]) -> None:
    """Fork a child per request until the parent closes the control channel (or something is off:
    then this process ends, and the parent sees a sandbox that is gone)."""
    _set_dumpable(0)
    while True:
        line, fds = _read_request(control)
        if not line or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            return
        try:
            request = protocol.decode_fork(line)
        except ValueError:
            os.close(fds[0])
            return
        if not single_threaded():
            os.close(fds[0])
            control.sendall(protocol.encode(Recycled(
                job=request.job, clean=False, detail="the zygote has more than one thread")))
            return
        pid = os.fork()
        if pid == 0:  # the job's child: its own socket, never the control channel
            code = 1
            try:
                control.close()
                _set_dumpable(1)  # its own /proc stays readable to the parent's memory sampling
                run_job(socket.socket(fileno=fds[0]))
                code = 0
            finally:
                os._exit(code)
        os.close(fds[0])
        _, status = os.waitpid(pid, 0)
        exited_cleanly, ended = _how_it_ended(status)
        detail = _clean()
        control.sendall(protocol.encode(Recycled(
            job=request.job, clean=exited_cleanly and not detail, ended=ended, detail=detail)))
