"""The sandbox launcher: how one grading child is confined on this machine, in one visible place.

Every limit is named in `SandboxLimits` and comes from the settings. One `Sandbox` is one confined
child, and follows the same steps every time: make its folder (a job folder it sees read-only, a
private temp folder), start the child under the limits, let the parent copy the job in and talk to
it, then kill it and delete the folder in `destroy()`. A bubblewrap sandbox's child is a zygote
that forks a process per job (worker/zygote.py): after a clean job, `recycle()` readies it for the
next one instead. Nothing here raises past its boundary: failures come back as `SandboxFailure`.

Two ways to confine, chosen once by `plan()`:
- bubblewrap (`bwrap`): new user, PID, network (nothing but a dead loopback), IPC, UTS and mount
  namespaces; a read-only view of /usr, the interpreter's prefix, the virtual environment and
  tfexam's `server` package; the job folder read-only at /job; a size-limited tmpfs at /tmp;
  nothing else of the machine (no home folders, no held-out data, no tfexam home); a new session;
  killed with its parent; no capabilities; uid 65534; a seccomp filter (`seccomp.py`). The
  command line has only what the installed bwrap supports (`bubblewrap.py` probes it once), and
  the isolation says what an older one leaves out.
- fallback, when bwrap is missing or the kernel refuses user namespaces: the child drops every
  capability and applies Landlock (read-only system and code, its job folder, a private temp
  folder; TCP denied), the same seccomp filter and a second one of the fallback's own (no socket,
  no System V IPC: `fallback_filter.py`) to itself, under a reaper (`reaper.py`) that kills every
  process it left when the job ends. The machine is then *not* isolated (same PID namespace, same
  uid), and `Isolation.warning` lists what a model can still reach (`fallback_reach`).
Both: rlimits (file size, open files, CPU time, no core dumps, a process count; never RLIMIT_AS,
which breaks TensorFlow) and the memory limit: enforced by the kernel through a cgroup of the
sandbox's own (memory, and pids where had) where this service may have one (`sandbox_cgroup.py`)
and the child is verified to be in it, otherwise by the parent sampling the resident memory of the
whole process tree plus the tmpfs it filled. The sample always gives the peak a result reports.
`TFEXAM_SANDBOX=landlock` forces the fallback (tests use it); `=bwrap` refuses to fall back.
What comes back is bounded too: the reader takes one reply per request (a reply nobody asked for
ends the job), read a chunk at a time against the allowance its request set (`send`), and refuses
a longer one before it is buffered whole; so a job holds at most one reply in the service.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import psutil
from pydantic import BaseModel, ValidationError

from server import host_platform
from server.grading import protocol
from server.grading.confinement import (
    bubblewrap,
    fallback_filter,
    landlock,
    sandbox_cgroup,
    seccomp,
)
from server.grading.confinement.bubblewrap import ETC_FILES, TOP_DIRS, Bubblewrap
from server.grading.confinement.confine import ConfineSpec
from server.grading.confinement.sandbox_cgroup import SandboxCgroup
from server.grading.protocol import ChildFailure, ForkRequest, ModelReport, Predictions, Ready, Recycled

log = logging.getLogger(__name__)

CODE_ROOT = Path(__file__).resolve().parents[3]
REAPER = Path(__file__).resolve().with_name("reaper.py")
REAPER_SECONDS = 5.0  # for the fallback's reaper to kill what the child left, and end
MEMORY_SAMPLE_SECONDS = 0.05
LOG_BYTES_PER_SANDBOX = 256 * 1024
READ_CHUNK = 64 * 1024  # a reply is read this much at a time, each chunk against its allowance


@dataclass(frozen=True)
class SandboxLimits:
    """Every limit a grading child runs under."""

    job_seconds: float = 180.0          # wall time for one job, load to last prediction
    memory_mb: float = 6144.0           # resident memory of the child's tree plus its tmpfs
    file_size_mb: int = 1024            # RLIMIT_FSIZE: the largest file the child may write
    open_files: int = 4096              # RLIMIT_NOFILE
    tmp_mb: int = 1024                  # size of the private tmpfs at /tmp (bwrap path)
    start_seconds: float = 300.0        # to import TensorFlow and say ready
    tasks: int = 1024                   # processes and threads the child may add (a fork bomb)

    @property
    def cpu_seconds(self) -> int:
        """RLIMIT_CPU, a backstop to the wall-time limit: all cores busy for the whole job, plus
        the TensorFlow import."""
        return int(self.job_seconds * max(1, os.cpu_count() or 1) + 300)


class Isolation(BaseModel):
    """How model files are confined here (contract 4: status, health, pages, every Result)."""

    sandboxed: bool
    how: str
    warning: str | None = None
    # How the sandbox's memory is limited: by the kernel (and which cgroup) or sampled, and why;
    # it changes if a sandbox cannot be put in its cgroup (`Sandbox._check_cgroup`).
    memory: str = ""


@dataclass(frozen=True)
class Plan:
    kind: Literal["bwrap", "landlock", "rlimits"]
    isolation: Isolation
    bwrap: Bubblewrap | None = None  # the bwrap probed, and the options it has (bwrap plan only)


@dataclass(frozen=True)
class SandboxFailure:
    """The sandbox, not the model's file, ended the job: which limit, or what broke."""

    kind: Literal["timeout", "memory", "crash", "protocol", "start", "oversized", "stalled"]
    detail: str
    peak_mb: float = 0.0
    limit: bool = False  # True when a limit stopped it (the model's doing, not tfexam's)


Reply = Ready | Recycled | ModelReport | Predictions | ChildFailure
# A job past its time limit whose processes used less CPU than this share of the time (one core)
# did not run slowly: it hardly ran (stopped, starved, stuck). That is tfexam's failure, or the
# machine's, never the model's: retried in a new sandbox, never a verdict (issue 17).
STALL_CPU_SHARE = 0.05
STOPPED_STATES = frozenset({psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP})
RECYCLE_SECONDS = 10.0  # for a zygote to clean up after a job: longer means it is not reused


def _read_only_roots() -> list[str]:
    """What the child must read: the interpreter's prefix, the virtual environment, tfexam's
    `server` package (and nothing else of the repository or the user's files)."""
    roots = []
    for path in (sys.base_prefix, sys.prefix, str(CODE_ROOT / "server")):
        real = os.path.realpath(path)
        for candidate in {path, real}:
            if not candidate.startswith("/usr/") and candidate not in roots:
                roots.append(candidate)
    return roots


def _probe_bwrap(scratch: Path) -> Bubblewrap | str:
    """The bwrap that can build the sandbox here; otherwise why not, in the kernel's words (and,
    where AppArmor is what refuses, the fix)."""
    found = bubblewrap.probe()
    if isinstance(found, str):
        return found
    job = scratch / "probe"
    job.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            found.argv(job, SandboxLimits().tmp_mb * 2**20, _read_only_roots(), None,
                       [sys.executable, "-c", "pass"]),
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as error:
        return f"bwrap could not be run ({error})"
    finally:
        shutil.rmtree(job, ignore_errors=True)
    if done.returncode != 0:
        why = f"bwrap could not create the sandbox ({done.stderr.strip()[:200] or done.returncode})"
        advice = bubblewrap.userns_restriction_advice(found.path)
        return f"{why}: {advice}" if advice else why
    return found


def _bwrap_of_this_machine() -> Bubblewrap:
    """For a bwrap plan made without its probe: the bwrap on PATH, or an OSError to say why not."""
    found = bubblewrap.probe()
    if isinstance(found, str):
        raise OSError(found)
    return found


def plan(scratch: Path, mode: str | None = None) -> Plan:
    """Decide once how children are confined here, and describe it for the learner."""
    mode = (mode or os.environ.get("TFEXAM_SANDBOX") or "auto").lower()
    elsewhere = host_platform.unsupported_system_warning()  # macOS, Windows: nothing to confine
    if elsewhere is not None:
        if mode == "bwrap":
            raise RuntimeError(f"TFEXAM_SANDBOX=bwrap, but {elsewhere}")
        return Plan("rlimits", Isolation(sandboxed=False, how=host_platform.unconfined_how(),
                                         warning=elsewhere))
    cgroups = sandbox_cgroup.prepare()
    seccomp_ok = seccomp.supported()
    filter_text = "a seccomp filter" if seccomp_ok else "no seccomp filter (unknown architecture)"
    why_not = "the fallback was forced (TFEXAM_SANDBOX=landlock)" if mode == "landlock" else None
    if why_not is None:
        found = _probe_bwrap(scratch)
        if isinstance(found, Bubblewrap):
            held_back, warning = found.describe(seccomp_ok)
            return Plan("bwrap", Isolation(sandboxed=True, how=(
                f"{found.version}: own user, PID, network and mount namespaces (no network), "
                f"read-only system and code, the model and its inputs read-only, {held_back}, "
                f"{filter_text}, rlimits; memory {cgroups.describe()}{host_platform.memory_note()}"),
                warning=warning, memory=cgroups.describe() + host_platform.memory_note()),
                bwrap=found)
        why_not = found
        if mode == "bwrap":
            raise RuntimeError(f"TFEXAM_SANDBOX=bwrap, but {why_not}")
    abi = landlock.abi_version()
    if abi >= 1:
        network = "TCP denied by Landlock, " if abi >= 4 else ""
        sockets = ("no socket and no System V IPC (a second seccomp filter), "
                   if fallback_filter.supported() else "")
        how = (f"Landlock ABI {abi} file rules (read-only system and code, the job folder, a "
               f"private temp folder), {network}{filter_text}, {sockets}no capabilities, rlimits "
               f"and a process count, every process it starts killed when the job ends")
        user = "root without capabilities" if os.geteuid() == 0 else "your user"
        in_container = host_platform.container_warning(why_not, how)
        return Plan("landlock", Isolation(sandboxed=False, how=how, warning=in_container or (
            f"model files are not isolated on this machine: {why_not}. They run as {user} "
            f"with {how}; a hostile model can still {'; '.join(fallback_reach(abi, cgroups))}. "
            "Install bubblewrap and allow unprivileged user namespaces for full isolation."),
            memory=cgroups.describe()))
    network = ("" if fallback_filter.supported() else " and reach the network")
    how = f"rlimits and {filter_text} only"
    in_container = host_platform.container_warning(why_not, how)
    return Plan("rlimits", Isolation(sandboxed=False, how=how, warning=in_container or (
        f"model files are not isolated on this machine: {why_not}, and this kernel has no "
        f"Landlock, so a model's graph can read and write your files{network}. "
        "Grade only models you trust, or install bubblewrap and allow unprivileged user "
        "namespaces."), memory=cgroups.describe()))


def fallback_reach(abi: int, cgroups: sandbox_cgroup.Placement) -> list[str]:
    """What a hostile model can still reach in the fallback on this machine, each said plainly:
    the warning lists exactly these (the README's isolation section explains each)."""
    reach = [
        "read the system's programs, libraries and the few files of /etc they need, the "
        "interpreter, the virtual environment and tfexam's code, CPU and cgroup information",
        "see this machine's processes with their command lines and status in /proc (not their "
        "memory, environment or files)",
        "use every system call the filters allow against this machine's kernel",
    ]
    if abi < 6:
        reach.append(f"send signals to any process of your user (Landlock ABI {abi} scopes none; "
                     "ABI 6 does), so it can also stop the reaper and leave a process running "
                     "after the job")
    if os.geteuid() == 0 and cgroups.pids_parent is None and cgroups.kind != "systemd":
        reach.append("start any number of processes (RLIMIT_NPROC does not bind root, and no "
                     "pids cgroup is had here)")
    elif cgroups.pids_parent is None and cgroups.kind != "systemd":
        reach.append("start more processes than its count as other processes of your user "
                     "end (RLIMIT_NPROC counts all of your user's processes, not the sandbox's)")
    if not fallback_filter.supported():
        reach.append("connect to any Unix socket with a path and use System V IPC (no filter "
                     "for this architecture)")
    return reach


@dataclass
class _Allowance:
    """What a child may still send on one channel: one reply per request, each at most `limit`
    bytes (set by the request before it leaves). The reader holds every line to it and refuses
    anything else before it is buffered, so a job holds at most one reply, of at most what its
    question can need, in the service."""

    asked: int = 0
    answered: int = 0
    limit: int = protocol.READY_BYTES


@dataclass
class Sandbox:
    """One child process, for one job."""

    plan: Plan
    limits: SandboxLimits
    folder: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    ready: Ready | None = None
    started_at: float = 0.0
    peak_mb: float = 0.0
    command: list[str] | None = None  # the program to confine: the grading child by default
    jobs: int = 0  # jobs begun in this sandbox (a forking one serves several)
    _channel: socket.socket | None = None
    _job_channel: socket.socket | None = None  # a forking sandbox's current job's own socket
    _zygote: psutil.Process | None = None
    _cgroup: SandboxCgroup | None = None
    _cgroup_checked: bool = False
    _tree_cache: list[psutil.Process] = field(default_factory=list)
    _tree_at: float = 0.0
    _control: queue.Queue[Reply | SandboxFailure | None] = field(default_factory=queue.Queue)
    _replies: queue.Queue[Reply | SandboxFailure | None] = field(default_factory=queue.Queue)
    # What the child may send on each channel (`_Allowance`): on the control channel "ready" and,
    # for a forking sandbox, one "recycled" per job; on a job's channel one reply per request.
    _control_allowance: _Allowance = field(default_factory=lambda: _Allowance(asked=1))
    _job_allowance: _Allowance | None = None
    reply_bytes: int = 0  # read from the child in all, for the record and the tests
    # (monotonic time, CPU seconds of the tree) when the current job's first request left
    _job_began: tuple[float, float] | None = None

    @property
    def job_dir(self) -> Path:
        """Where the parent places the job's files; read-only inside the sandbox."""
        return self.folder / "job"

    @property
    def inside_job_dir(self) -> str:
        return "/job" if self.plan.kind == "bwrap" else str(self.job_dir)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def forks(self) -> bool:
        """Whether this sandbox forks a child per job from a zygote (and may serve another job)."""
        return self.ready is not None and self.ready.forks

    # start ---------------------------------------------------------------------------------------
    def start(self) -> SandboxFailure | None:
        """Start the child (it then imports TensorFlow); None when it is on its way."""
        try:
            self.job_dir.mkdir(parents=True)
            tmp = self.folder / "tmp"
            tmp.mkdir()
            if self.plan.kind == "bwrap":
                os.chmod(self.folder, 0o755)
                os.chmod(self.job_dir, 0o755)  # uid 65534 inside must read what the parent places
            parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            self._channel = parent
            spec = ConfineSpec(
                channel_fd=child.fileno(), file_size_bytes=self.limits.file_size_mb * 2**20,
                open_files=self.limits.open_files, cpu_seconds=self.limits.cpu_seconds,
                die_with_parent=self.plan.kind != "bwrap",
                landlock_read=self._landlock_read() if self.plan.kind == "landlock" else None,
                landlock_write=[str(tmp), "/dev/null"] if self.plan.kind == "landlock" else None,
                seccomp_self=self.plan.kind != "bwrap" and seccomp.supported(),
                fallback_filter=self.plan.kind != "bwrap" and fallback_filter.supported(),
                drop_capabilities=self.plan.kind != "bwrap", tasks=self.limits.tasks,
                fork_jobs=self.plan.kind == "bwrap" and self.command is None)
            command = self.command or [sys.executable, "-m", "server.grading.sandboxed"]
            if self.plan.kind != "bwrap":  # no PID namespace: a reaper kills what the child left
                command = [sys.executable, "-I", "-S", str(REAPER), str(os.getpid()), "--", *command]
            env = {
                "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                "PYTHONPATH": str(CODE_ROOT), "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONUNBUFFERED": "1", "PYTHONNOUSERSITE": "1",
                "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "-1",
                # OpenBLAS' own threads would make the zygote unsafe to fork (zygote.py); the
                # grader's numpy work is tiny, and TensorFlow does not use OpenBLAS.
                "OPENBLAS_NUM_THREADS": "1",
                "TFEXAM_JOB_DIR": self.inside_job_dir, "TFEXAM_CONFINE": spec.model_dump_json(),
            }
            inner_tmp = "/tmp" if self.plan.kind == "bwrap" else str(tmp)
            env |= {"HOME": inner_tmp, "TMPDIR": inner_tmp, "KERAS_HOME": f"{inner_tmp}/keras"}
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            seccomp_read = None
            pass_fds = [child.fileno()]
            if self.plan.kind == "bwrap":
                if seccomp.supported():
                    seccomp_read, seccomp_write = os.pipe()
                    os.write(seccomp_write, seccomp.program())
                    os.close(seccomp_write)
                    pass_fds.append(seccomp_read)
                bwrap = self.plan.bwrap or _bwrap_of_this_machine()
                argv = bwrap.argv(self.job_dir, self.limits.tmp_mb * 2**20, _read_only_roots(),
                                  seccomp_read, command)
            else:
                argv = command
            self._cgroup = SandboxCgroup.create(self.folder.name, self.limits.memory_mb,
                                                self.limits.tasks)
            if self._cgroup is not None:
                argv = self._cgroup.joining(argv)
            try:
                self.process = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, env=env, cwd=str(tmp), pass_fds=pass_fds,
                    start_new_session=True)
            finally:
                child.close()
                if seccomp_read is not None:
                    os.close(seccomp_read)
            self.started_at = time.monotonic()
            threading.Thread(target=self._read, args=(parent, self._control,
                                                      self._control_allowance),
                             name="sandbox-reader", daemon=True).start()
            self._replies = self._control
            threading.Thread(target=self._drain_log, name="sandbox-log", daemon=True).start()
            return None
        except OSError as error:
            self.destroy()
            return SandboxFailure("start", f"the sandbox could not be started ({error})")

    def _check_cgroup(self) -> bool:
        """Whether the kernel holds this sandbox's memory limit: every process of it is in its
        cgroup (checked once, when it says ready or first goes over the limit). If not, sampling
        stays the memory limit, and the isolation report says why."""
        if self._cgroup is None or self.process is None:
            return False
        if not self._cgroup_checked:
            self._cgroup_checked = True
            pids = [self.process.pid]
            with contextlib.suppress(psutil.Error):
                pids += [child.pid for child in psutil.Process(self.process.pid).children(True)]
            wrong = self._cgroup.verify(pids)
            if wrong is not None:
                log.warning("the sandbox is not in its cgroup (%s): its memory is sampled", wrong)
                where = sandbox_cgroup.placement()
                where.failure = wrong
                self.plan.isolation.memory = where.describe()
        return self._cgroup.memory_verified

    def _landlock_read(self) -> list[str]:
        paths = ["/usr", *TOP_DIRS, *ETC_FILES, "/proc", "/dev/urandom", "/dev/random",
                 "/sys/devices/system/cpu", "/sys/fs/cgroup", *_read_only_roots(), str(self.job_dir)]
        return [p for p in paths if os.path.exists(p)]

    def wait_ready(self) -> Ready | SandboxFailure:
        reply = self.receive(time.monotonic() + self.limits.start_seconds, "starting")
        if isinstance(reply, Ready):
            self.ready = reply
            self._check_cgroup()
            if reply.forks:
                self._zygote = self._find_zygote()
            return reply
        if isinstance(reply, SandboxFailure):
            return SandboxFailure("start", f"the sandbox did not start: {reply.detail}", reply.peak_mb)
        return SandboxFailure("start", "the sandbox sent something else than 'ready'")

    # talking -------------------------------------------------------------------------------------
    def send(self, message: BaseModel, reply_limit: int = protocol.MAX_LINE_BYTES
             ) -> SandboxFailure | None:
        """Send a request of the current job (a forking sandbox forks the job's child first). Its
        one reply may be at most `reply_limit` bytes long (set before the request leaves, so no
        reply can be judged by an earlier request's allowance)."""
        assert self._channel is not None
        try:
            if self._job_began is None:
                self._job_began = (time.monotonic(), self.cpu_seconds())
            if self.forks and self._job_channel is None:
                self._fork_job()
            allowance = (self._job_allowance if self._job_channel is not None
                         and self._job_allowance is not None else self._control_allowance)
            allowance.limit = min(reply_limit, protocol.MAX_LINE_BYTES)
            allowance.asked += 1
            (self._job_channel or self._channel).sendall(protocol.encode(message))
        except OSError as error:
            return SandboxFailure("crash", f"the grading process was gone ({error})", self.peak_mb)
        return None

    def _fork_job(self) -> None:
        """Ask the zygote for a child of this job's own, talking on a new socket: the job's
        replies come on it alone, never on the control channel."""
        assert self._channel is not None
        self.jobs += 1
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self._channel, [protocol.encode(ForkRequest(job=self.jobs))],
                            [child.fileno()])
        except OSError:
            parent.close()
            raise
        finally:
            child.close()
        self._job_channel = parent
        self._replies = queue.Queue()
        self._tree_cache = []
        self._control_allowance.asked += 1  # the zygote's "recycled" at the end of this job
        self._control_allowance.limit = protocol.READY_BYTES
        self._job_allowance = _Allowance()
        threading.Thread(target=self._read, args=(parent, self._replies, self._job_allowance),
                         name="sandbox-job-reader", daemon=True).start()

    def recycle(self) -> bool:
        """End the current job of a forking sandbox and make it ready for the next: True once the
        zygote says the job's child is gone, nothing it left remains, and it has one thread. The
        job folder is emptied here (the parent places each job's files). False means: destroy."""
        if not self.forks or not self.alive:
            return False
        if self._job_channel is not None:
            _hang_up(self._job_channel)  # the child reads the end of its requests and exits
            self._job_channel = None
            reply = self._control_reply(time.monotonic() + RECYCLE_SECONDS)
            if not (isinstance(reply, Recycled) and reply.job == self.jobs and reply.clean):
                log.info("a forking sandbox is not used again: %s", reply)
                return False
        self._replies = self._control
        self.peak_mb = 0.0
        self._job_began = None
        try:
            for entry in self.job_dir.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        except OSError:
            return False
        return True

    def _control_reply(self, deadline: float) -> Reply | SandboxFailure | None:
        try:
            return self._control.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def _find_zygote(self) -> psutil.Process | None:
        """The zygote: the one Python process in the sandbox's tree when it says ready."""
        assert self.process is not None
        with contextlib.suppress(psutil.Error):
            for process in psutil.Process(self.process.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if "python" in process.name().lower() or process.exe() == sys.executable:
                        return process
        return None

    def receive(self, deadline: float, doing: str = "grading") -> Reply | SandboxFailure:
        """The next reply, or the limit that stopped the child meanwhile (which is then killed)."""
        watched = None
        while True:
            try:
                reply = self._replies.get(timeout=MEMORY_SAMPLE_SECONDS)
            except queue.Empty:
                if watched is None and self.process is not None:
                    with contextlib.suppress(psutil.Error):
                        watched = psutil.Process(self.process.pid)
                used = self._memory_mb(watched)
                self.peak_mb = max(self.peak_mb, used)
                # Where the kernel holds the limit (a cgroup the child is verified to be in), it
                # alone enforces it: at every moment, and counting only what the child itself
                # holds. Sampling enforces it everywhere else, and until then.
                if used > self.limits.memory_mb and not self._check_cgroup():
                    self.kill()
                    return SandboxFailure("memory", f"{used:.0f} MB used while {doing}", used,
                                          limit=True)
                if time.monotonic() > deadline:
                    stalled = self.stall()
                    self.kill()
                    if stalled is not None:
                        return SandboxFailure("stalled", stalled, self.peak_mb)
                    return SandboxFailure("timeout", f"{self.limits.job_seconds:g} s",
                                          self.peak_mb, limit=True)
                continue
            return self._ended() if reply is None else reply

    def _processes(self) -> list[psutil.Process]:
        """The sandbox's whole process tree, read afresh (not the memory sampler's cache)."""
        if self.process is None:
            return []
        try:
            top = psutil.Process(self.process.pid)
            return [top, *top.children(recursive=True)]
        except psutil.Error:
            return []

    def cpu_seconds(self) -> float:
        """User and system CPU time of every live process in the sandbox (/proc/<pid>/stat)."""
        total = 0.0
        for process in self._processes():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def stall(self) -> str | None:
        """Why a job that ran out of time did not run (stopped, or next to no CPU used since its
        first request), or None when it used the CPU a slow model uses."""
        stopped = []
        for process in self._processes():
            with contextlib.suppress(psutil.Error):
                if process.status() in STOPPED_STATES:
                    stopped.append(process.pid)
        if self._job_began is None:
            return None
        began, cpu_then = self._job_began
        elapsed = max(0.0, time.monotonic() - began)
        used = max(0.0, self.cpu_seconds() - cpu_then)
        if stopped:
            return (f"the grading process was stopped (process {stopped[0]}, a SIGSTOP?) and "
                    f"used {used:.1f} s of CPU in {elapsed:.0f} s")
        if used < STALL_CPU_SHARE * elapsed:
            return (f"the grading process hardly ran: {used:.1f} s of CPU in {elapsed:.0f} s "
                    "(a stalled process or a machine too busy)")
        return None

    def _tree(self, watched: psutil.Process) -> list[psutil.Process]:
        """The child's process tree; listing children scans /proc, so it is refreshed once a
        second, not at every sample (TensorFlow starts no processes of its own)."""
        now = time.monotonic()
        if not self._tree_cache or now - self._tree_at > 1.0:
            try:
                self._tree_cache = [watched, *watched.children(recursive=True)]
            except psutil.Error:
                self._tree_cache = [watched]
            self._tree_at = now
        return self._tree_cache

    def _memory_mb(self, watched: psutil.Process | None) -> float:
        if watched is None:
            return 0.0
        total = 0
        tree = self._tree(watched)
        for process in tree:
            if self._zygote is not None and process.pid == self._zygote.pid and len(tree) > 3:
                continue  # the job's child holds all the zygote's pages it uses: count them once
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        if self.plan.kind == "bwrap" and len(tree) > 1:
            total += _sandbox_tmpfs_bytes(tree[-1].pid)
        return total / 2**20

    def _ended(self) -> SandboxFailure:
        """Why the child ended mid-job: a limit (the kernel's memory limit, the CPU limit) or a
        crash. A forking sandbox's zygote says how the job's child ended; otherwise the child's
        own exit status says it. Either way the sandbox is not used again."""
        how = None
        if self._job_channel is not None:
            _hang_up(self._job_channel)
            self._job_channel = None
            reply = self._control_reply(time.monotonic() + 5)
            if isinstance(reply, Recycled) and reply.job == self.jobs:
                how = reply.ended or "ended"
            self.kill()
        if how is None:
            code = None
            if self.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = self.process.wait(timeout=5)
            how = (f"was killed by signal {signal.Signals(-code).name}"
                   if code is not None and code < 0 else f"exited with code {code}")
        if self._cgroup is not None and self._cgroup.killed_for_memory():
            used = max(self.peak_mb, self._cgroup.peak_mb())
            return SandboxFailure("memory", f"{used:.0f} MB used (stopped by the kernel)", used,
                                  limit=True)
        if how == f"was killed by signal {signal.SIGXCPU.name}":
            return SandboxFailure("timeout", f"CPU time limit ({self.limits.cpu_seconds} s)",
                                  self.peak_mb, limit=True)
        return SandboxFailure("crash", f"the grading process {how}", self.peak_mb)

    def _read_line(self, reader: BinaryIO, allowance: _Allowance) -> bytes | SandboxFailure | None:
        """The next reply line, read a chunk at a time against the allowance of the request it
        answers; None at the end of the stream."""
        parts: list[bytes] = []
        size = 0
        while True:
            chunk = reader.readline(READ_CHUNK)
            if not chunk:
                return None
            if not parts and allowance.answered >= allowance.asked:
                return SandboxFailure("protocol", "a reply nobody asked for", self.peak_mb)
            parts.append(chunk)
            size += len(chunk)
            self.reply_bytes += len(chunk)
            if size > allowance.limit:
                return SandboxFailure("oversized", f"a reply longer than the {allowance.limit} "
                                      "bytes its question can need", self.peak_mb, limit=True)
            if chunk.endswith(b"\n"):
                allowance.answered += 1
                return b"".join(parts)

    def _read(self, channel: socket.socket, replies: queue.Queue[Reply | SandboxFailure | None],
              allowance: _Allowance) -> None:
        reader = channel.makefile("rb")
        try:
            while True:
                line = self._read_line(reader, allowance)
                if line is None:
                    break
                if isinstance(line, SandboxFailure):
                    replies.put(line)
                    break
                try:
                    replies.put(protocol.decode_reply(line))
                except (ValidationError, ValueError) as error:
                    replies.put(SandboxFailure(
                        "protocol", f"a reply that is not the grader's ({str(error)[:120]})",
                        self.peak_mb))
                    break
        except (OSError, ValueError):
            pass
        finally:
            reader.close()  # the socket's descriptor is released only when its file is closed too
        replies.put(None)

    def _drain_log(self) -> None:
        """The child's stdout and stderr go to the log, at most LOG_BYTES_PER_SANDBOX of them."""
        assert self.process is not None and self.process.stdout is not None
        source = self.process.stdout.fileno()
        written = 0
        with open(self.log_path, "ab") as log_file, contextlib.suppress(OSError):
            for chunk in iter(lambda: os.read(source, 65536), b""):
                if written < LOG_BYTES_PER_SANDBOX:
                    log_file.write(chunk[:LOG_BYTES_PER_SANDBOX - written])
                    log_file.flush()
                    written += len(chunk)
        self.process.stdout.close()

    # clean-up ------------------------------------------------------------------------------------
    def kill(self) -> None:
        if self._cgroup is not None:  # every process in it, wherever in the tree it went
            self._cgroup.kill_all()
        if self.plan.kind != "bwrap" and self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # the reaper kills all, then ends
                self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=REAPER_SECONDS)
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)

    def destroy(self) -> None:
        """Kill the child and delete its folder; safe to call twice and from `finally`."""
        self.kill()
        for channel in (self._job_channel, self._channel):
            if channel is not None:
                _hang_up(channel)
        if self._cgroup is not None:
            self._cgroup.remove()
        shutil.rmtree(self.folder, ignore_errors=True)


def _hang_up(channel: socket.socket) -> None:
    """Close a channel for both sides at once: its reader thread holds the descriptor open through
    a file object, so a plain close would not tell the other end."""
    with contextlib.suppress(OSError):
        channel.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        channel.close()


def new_sandbox(plan_: Plan, limits: SandboxLimits, root: Path, log_path: Path,
                command: list[str] | None = None) -> Sandbox:
    folder = root / f"sb-{secrets.token_hex(6)}"
    return Sandbox(plan_, limits, folder, log_path, command=command)


def new_nonce() -> str:
    return secrets.token_hex(16)


def _sandbox_tmpfs_bytes(pid: int) -> int:
    """What a sandboxed process wrote to its own /tmp (a tmpfs, so memory). While bubblewrap is
    still setting up, the process's /tmp is the host's, whose used space (the whole disk's) must
    not be taken for the sandbox's memory."""
    tmp = f"/proc/{pid}/root/tmp"
    try:
        device = os.stat(tmp).st_dev
        if device in {os.stat("/").st_dev, os.stat("/tmp").st_dev}:
            return 0
        stat = os.statvfs(tmp)
    except OSError:
        return 0
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize
