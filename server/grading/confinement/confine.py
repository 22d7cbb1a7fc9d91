"""What the sandboxed child does to itself first, before it imports TensorFlow or reads anything a
learner made: close every inherited descriptor but its channel, set its rlimits (a process count
among them), ask to die with its parent, and (on the fallback path, where bubblewrap could not run)
drop every capability and apply Landlock, seccomp and the fallback's own filter (no sockets, no
System V IPC) itself. The launcher decides all of it (`sandbox.ConfineSpec`); this module only
carries it out and reports what took effect, so the isolation status is what really happened in
the child.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

from pydantic import BaseModel, ConfigDict

PR_SET_PDEATHSIG = 1


class ConfineSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel_fd: int
    file_size_bytes: int
    open_files: int
    cpu_seconds: int
    die_with_parent: bool = True
    landlock_read: list[str] | None = None   # fallback path only
    landlock_write: list[str] | None = None
    seccomp_self: bool = False                # fallback path only (bwrap loads it otherwise)
    fallback_filter: bool = False             # fallback path only: no sockets, no SysV IPC
    drop_capabilities: bool = False           # fallback path only (bwrap drops them itself)
    tasks: int | None = None                  # processes and threads it may start (RLIMIT_NPROC)
    fork_jobs: bool = False                   # bwrap path only: a zygote forks a child per job


def _close_inherited(keep: int) -> None:
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        names = [str(n) for n in range(3, 1024)]
    for name in names:
        fd = int(name)
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def apply(spec: ConfineSpec) -> dict[str, str | int | bool | None]:
    """Apply the spec to this process; returns what took effect. Raises OSError if a requested
    restriction could not be applied (the child must then not take a job). `resource` is
    imported here, in the child: Windows has no such module, and the service must import there."""
    import resource

    _close_inherited(spec.channel_fd)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (spec.file_size_bytes, spec.file_size_bytes))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = min(spec.open_files, hard) if hard != resource.RLIM_INFINITY else spec.open_files
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (spec.cpu_seconds, spec.cpu_seconds + 5))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, it does not kill
    tasks = ""
    if spec.tasks is not None:
        nproc = _tasks_of_my_user() + spec.tasks
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        tasks = f", {spec.tasks} more processes and threads"
    report: dict[str, str | int | bool | None] = {
        "rlimits": f"file size {spec.file_size_bytes // 2**20} MB, {limit} open files, "
                   f"CPU {spec.cpu_seconds} s, no core dumps{tasks}",
        "landlock_abi": None, "seccomp": None, "capabilities": None}
    if spec.die_with_parent and sys.platform.startswith("linux"):  # prctl is Linux's
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the parent died before the request took effect
            os._exit(1)
    if spec.drop_capabilities:
        from server.grading.confinement import capabilities

        capabilities.drop_all()
        report["capabilities"] = "none"
    if spec.landlock_read is not None:
        from server.grading.confinement import landlock

        report["landlock_abi"] = landlock.restrict(spec.landlock_read, spec.landlock_write or [])
    if spec.seccomp_self:
        from server.grading.confinement import seccomp

        seccomp.install()
    if spec.fallback_filter:
        from server.grading.confinement import fallback_filter

        fallback_filter.install()
    report["seccomp"] = _seccomp_state()
    return report


def _tasks_of_my_user() -> int:
    """Processes and threads of this process's real user that it can see: RLIMIT_NPROC counts
    them all (in a user namespace, those of the namespace: the sandbox's own), so the limit is
    what already runs plus what the sandbox may add."""
    uid, count = os.getuid(), 0
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError), open(f"/proc/{name}/status") as status:
                for line in status:
                    if line.startswith("Uid:") and int(line.split()[1]) != uid:
                        break
                    if line.startswith("Threads:"):
                        count += int(line.split()[1])
                        break
    return count


def _seccomp_state() -> str | None:
    """What the kernel says about this process (a filter loaded by bwrap shows here too)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Seccomp:"):
                    return {"0": None, "1": "strict", "2": "filter active"}.get(line.split()[1])
    except OSError:
        return None
    return None
