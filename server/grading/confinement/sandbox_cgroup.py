"""The sandbox's cgroup: the kernel's memory limit and process count, where this service may have them.

Sampling resident memory from outside (`Sandbox.receive`) misses what a model allocates and uses
between two samples; a cgroup's limit does not. So each sandbox gets a cgroup of its own, with the
job's memory limit (swap included where the kernel counts it) and a process count (`pids.max`),
and the sandbox's first process joins it before it execs bubblewrap or the reaper: everything the
model starts, and what it writes to its tmpfs, is charged there. When the kernel kills the child
for memory, the cgroup says so, and the result says how much was used against the limit.

Where the cgroups come from is decided once, at start (`prepare`), in this order:
- cgroup v2, a subtree of the service's own: its cgroup's children get the memory (and pids)
  controller. The kernel refuses that (EBUSY) for a cgroup that holds a process, and the service's
  own cgroup holds the service; so the service first moves itself into a leaf of its own
  (`tfexam-service-<pid>`), which leaves its cgroup empty where the service was alone in it (a
  systemd unit, a container, `systemd-run --scope`). Where others share it, the move is undone.
- cgroup v2 through systemd: a transient scope per sandbox (`systemd-run --scope`, `--user` for an
  ordinary user), where systemd manages the cgroups and the service's own may not be delegated.
- cgroup v1: children of the service's memory and pids cgroups, where it may write them (root).
- none: the supervisor's sampling is the memory limit, RLIMIT_NPROC the process count.

A cgroup only counts once the kernel says the child is in it: after the start the launcher reads
`/proc/<pid>/cgroup` of every process of the sandbox (`verify`), and until that holds, or if it
never does, sampling stays on and the health report says why (`Placement.failure`).
Leftovers of a killed service are removed only when they are tfexam's (its name, its owner's uid)
and their owner is dead (the pid in the name), never a live neighbour's just-made cgroup.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

PREFIX = "tfexam-sandbox-"
SERVICE_LEAF = "tfexam-service-"
OURS = re.compile(rf"^(?:{PREFIX}|{SERVICE_LEAF})(\d+)(?:-.+?)?(?:\.scope)?$")
CONTROLLERS = ("memory", "pids")  # the first is required; the second is had where it can be
EXTRA_TASKS = 8  # the launcher's own processes in the cgroup (the join, bwrap or the reaper)

Kind = Literal["v2", "systemd", "v1", "none"]


def _mounts() -> dict[str, Path]:
    """Where each hierarchy is mounted: "v2", and "memory" / "pids" for cgroup v1."""
    found: dict[str, Path] = {}
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            before, _, after = line.partition(" - ")
            fields, extra = before.split(), after.split()
            if len(fields) < 5 or len(extra) < 3:
                continue
            if extra[0] == "cgroup2":
                found.setdefault("v2", Path(fields[4]))
            elif extra[0] == "cgroup":
                for controller in ("memory", "pids"):
                    if controller in extra[2].split(","):
                        found.setdefault(controller, Path(fields[4]))
    return found


def cgroup_paths(pid: int | str = "self") -> dict[str, str]:
    """A process's cgroup path per hierarchy ("v2", "memory", "pids"), from /proc/<pid>/cgroup."""
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/cgroup") as cgroups:
        for line in cgroups:
            number, controllers, path = line.rstrip("\n").split(":", 2)
            if number == "0" and controllers == "":
                paths["v2"] = path
            for controller in ("memory", "pids"):
                if controller in controllers.split(","):
                    paths[controller] = path
    return paths


def _words(path: Path) -> set[str]:
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


def delegate_v2(own: Path, controllers: tuple[str, ...] = CONTROLLERS) -> Path | None:
    """Make `own` (this process's v2 cgroup) hand `controllers` to its children, moving this process
    into a leaf of its own first if the kernel refuses while it holds us. Returns `own` when its
    children get at least the first controller, None otherwise (everything left as it was).
    Called again (a second `prepare`), it finds this process in its leaf already: the leaf's
    parent is the delegated cgroup."""
    if own.name == f"{SERVICE_LEAF}{os.getpid()}":
        own = own.parent
    available = [name for name in controllers if name in _words(own / "cgroup.controllers")]
    if controllers[0] not in available or not os.access(own, os.W_OK):
        return None
    if _enable(own, available) is None:
        return own
    leaf = own / f"{SERVICE_LEAF}{os.getpid()}"
    try:
        leaf.mkdir(exist_ok=True)
        (leaf / "cgroup.procs").write_text(str(os.getpid()))
    except OSError as error:
        log.info("tfexam could not move itself into %s (%s)", leaf, error)
        with contextlib.suppress(OSError):
            leaf.rmdir()
        return None
    refused = _enable(own, available)
    if refused is None:
        return own
    log.info("the memory controller cannot be handed to %s's children (%s): other processes "
             "share that cgroup", own, refused)
    with contextlib.suppress(OSError):
        (own / "cgroup.procs").write_text(str(os.getpid()))  # back where it was
        leaf.rmdir()
    return None


def _enable(folder: Path, controllers: list[str]) -> OSError | None:
    """Enable `controllers` in `folder`'s subtree_control: None once the first is on."""
    enabled = _words(folder / "cgroup.subtree_control")
    for name in controllers:
        if name in enabled:
            continue
        try:
            (folder / "cgroup.subtree_control").write_text(f"+{name}")
        except OSError as error:
            if name == controllers[0]:
                return error
    return None


def _systemd_run() -> list[str] | None:
    """The `systemd-run` command that makes a transient scope for this user, where systemd manages
    the cgroups and answers (probed once); None elsewhere."""
    if shutil.which("systemd-run") is None:
        return None
    if os.geteuid() == 0:
        command = ["systemd-run"] if Path("/run/systemd/system").is_dir() else None
    else:
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
        command = ["systemd-run", "--user"] if runtime and (
            Path(runtime) / "systemd" / "private").exists() else None
    if command is None:
        return None
    try:
        done = subprocess.run([*command, "--scope", "--quiet", "--collect", "-p",
                               "MemoryMax=64M", "--", "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return command if done.returncode == 0 else None


@dataclass
class Placement:
    """Where this service makes its sandboxes' cgroups (decided once, by `prepare`)."""

    kind: Kind
    memory_parent: Path | None = None   # the folder sandbox cgroups are made in (v2, v1 memory)
    pids_parent: Path | None = None     # v1's pids hierarchy, or the same v2 folder
    v2_root: Path | None = None         # the cgroup2 mount (where a systemd scope's folder is)
    systemd: list[str] | None = None
    failure: str | None = None          # the last time a sandbox could not be put in its cgroup

    def describe(self) -> str:
        """How the sandbox's memory is limited here, for the isolation report and /api/health."""
        how = {"v2": "cgroup v2, a subtree delegated to tfexam",
               "systemd": "cgroup v2, a transient systemd scope per sandbox", "v1": "cgroup v1"}
        if self.kind == "none":
            return "watched by tfexam (sampled; this service may make no memory cgroup here)"
        if self.failure:
            return (f"watched by tfexam (sampled): a sandbox could not be put in its cgroup "
                    f"({how[self.kind]}): {self.failure}")
        return f"limited by the kernel ({how[self.kind]})"


_placement: Placement | None = None


def prepare() -> Placement:
    """Decide once where sandbox cgroups are made, and remove dead services' leftovers there."""
    global _placement
    mounts, own = _mounts(), cgroup_paths()
    placement = Placement("none")
    if "v2" in mounts and "v2" in own:
        parent = delegate_v2(mounts["v2"] / own["v2"].lstrip("/"))
        if parent is not None:
            pids = parent if "pids" in _words(parent / "cgroup.subtree_control") else None
            placement = Placement("v2", parent, pids, mounts["v2"])
        elif "memory" in _words(mounts["v2"] / "cgroup.controllers"):
            systemd = _systemd_run()
            if systemd is not None:
                placement = Placement("systemd", v2_root=mounts["v2"], systemd=systemd)
    if placement.kind == "none" and "memory" in mounts and "memory" in own:
        folder = mounts["memory"] / own["memory"].lstrip("/")
        if (folder / "memory.limit_in_bytes").exists() and os.access(folder, os.W_OK):
            pids = None
            if "pids" in mounts and "pids" in own:
                candidate = mounts["pids"] / own["pids"].lstrip("/")
                if (candidate / "cgroup.procs").exists() and os.access(candidate, os.W_OK):
                    pids = candidate
            placement = Placement("v1", folder, pids)
    _placement = placement
    remove_leftovers(placement)
    return placement


def placement() -> Placement:
    return _placement if _placement is not None else prepare()


def _is_ours(folder: Path) -> int | None:
    """The owner's pid when `folder` is a tfexam cgroup made by this user, else None."""
    match = OURS.match(folder.name)
    if match is None:
        return None
    try:
        if folder.stat().st_uid != os.geteuid():
            return None
    except OSError:
        return None
    return int(match.group(1))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


PF_EXITING = 0x4  # the kernel's flag of a task in do_exit (/proc/<pid>/stat, field 9)
SETTLE_SECONDS = 0.5  # how long a process seen outside its cgroup may take to finish exiting


def _running(pid: int) -> bool:
    """Whether `pid` is a process that is not exiting. cgroup v1 moves a task to the hierarchy's
    root while it exits (before it is even a zombie), so an exiting process's cgroup says nothing
    of where its live neighbours are: one the kernel just killed for memory looks like one that
    escaped. A zombie (state Z, or X while reaped) or a task flagged PF_EXITING is not running."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        state, flags = fields[0], int(fields[6])
    except (OSError, IndexError, ValueError):
        return False
    return state not in ("Z", "X", "x") and not flags & PF_EXITING


def _stays_outside(pid: int, key: str, expected: str) -> bool:
    """Whether `pid`, seen outside its cgroup, is still there and running once SETTLE_SECONDS
    have passed: an escaped process stays where it is; an exiting one that had not yet set its
    flag when first read is gone or flagged by then."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.02)
        seen = cgroup_paths(pid)
        if not _running(pid) or seen.get(key) == expected:
            return False
    return True


def remove_leftovers(where: Placement | None = None) -> None:
    """Sandbox cgroups (and service leaves) that a killed service left behind: only tfexam's, and
    only those whose owner is gone. Another service beside this one makes its sandbox's cgroup
    empty and its child joins a moment later: removing every empty one would take that limit
    away."""
    where = where or placement()
    for parent in {where.memory_parent, where.pids_parent} - {None}:
        assert parent is not None
        for folder in [*parent.glob(f"{PREFIX}*"), *parent.glob(f"{SERVICE_LEAF}*")]:
            owner = _is_ours(folder)
            if owner is not None and owner != os.getpid() and not _alive(owner):
                with contextlib.suppress(OSError):  # one still in use is refused by the kernel
                    folder.rmdir()


@dataclass
class SandboxCgroup:
    """One sandbox's cgroup(s): memory and, where had, pids (one folder in v2, two in v1)."""

    where: Placement
    name: str
    limit_bytes: int
    tasks: int
    folders: dict[str, Path] = field(default_factory=dict)  # controller -> folder
    memory_verified: bool = False

    @classmethod
    def create(cls, name: str, limit_mb: float, tasks: int = 1024, owner: int | None = None,
               where: Placement | None = None) -> SandboxCgroup | None:
        """A fresh cgroup holding `limit_mb` and `tasks`, or None where the kernel does not let us
        make one (the caller then relies on sampling). Its name carries the pid of the process
        that owns it (this one unless said), so another service's start can tell it from a
        leftover."""
        where = where or placement()
        if where.kind == "none":
            return None
        cgroup = cls(where, f"{PREFIX}{owner or os.getpid()}-{name}", int(limit_mb * 2**20),
                     tasks + EXTRA_TASKS)
        if where.kind == "systemd":
            return cgroup  # systemd makes it as the child starts; `verify` finds where
        try:
            cgroup._make()
        except OSError as error:
            log.info("no cgroup for the sandbox (%s): its memory is sampled instead", error)
            cgroup.remove(wait=False)
            return None
        return cgroup

    def _make(self) -> None:
        assert self.where.memory_parent is not None
        memory = self.where.memory_parent / self.name
        memory.mkdir()
        self.folders["memory"] = memory
        if self.where.kind == "v2":
            (memory / "memory.max").write_text(str(self.limit_bytes))
            with contextlib.suppress(OSError):  # no swap accounting: nothing to close
                (memory / "memory.swap.max").write_text("0")
            if self.where.pids_parent is not None:
                (memory / "pids.max").write_text(str(self.tasks))
                self.folders["pids"] = memory
            return
        (memory / "memory.limit_in_bytes").write_text(str(self.limit_bytes))
        with contextlib.suppress(OSError):  # memsw needs swap accounting in the kernel
            (memory / "memory.memsw.limit_in_bytes").write_text(str(self.limit_bytes))
        if self.where.pids_parent is not None:
            with contextlib.suppress(OSError):  # the process count is had where it can be
                pids = self.where.pids_parent / self.name
                pids.mkdir()
                self.folders["pids"] = pids
                (pids / "pids.max").write_text(str(self.tasks))

    def joining(self, argv: list[str]) -> list[str]:
        """`argv` started so that its first process joins this cgroup before it execs, and so
        does all it starts. Should joining fail, the program runs all the same: `verify` finds
        out, and sampling stays the limit."""
        if self.where.kind == "systemd":
            assert self.where.systemd is not None
            return [*self.where.systemd, "--scope", "--quiet", "--collect", f"--unit={self.name}",
                    "-p", f"MemoryMax={self.limit_bytes}", "-p", "MemorySwapMax=0",
                    "-p", f"TasksMax={self.tasks}", "--", *argv]
        procs = sorted({str(folder / "cgroup.procs") for folder in self.folders.values()})
        joins = "".join(f'echo $$ > "${n + 1}"; ' for n in range(len(procs)))
        return ["/bin/sh", "-c", f'{{ {joins}}} 2>/dev/null; shift {len(procs)}; exec "$@"',
                "sh", *procs, *argv]

    def verify(self, pids: Iterable[int]) -> str | None:
        """None when every one of `pids` is in this cgroup's memory cgroup (and the process count
        where had), by the kernel's own account; otherwise what is wrong, in a few words."""
        pids = list(pids)
        if not pids:
            return "the sandbox had no process to check"
        if self.killed_for_memory():  # the kernel's own word that it holds this limit
            self.memory_verified = True
            return None
        if self.where.kind == "systemd" and "memory" not in self.folders:
            path = cgroup_paths(pids[0]).get("v2", "")
            if not path.endswith(f"/{self.name}.scope") or self.where.v2_root is None:
                return f"systemd did not start it in the scope {self.name} (it is in {path!r})"
            folder = self.where.v2_root / path.lstrip("/")
            self.folders = {"memory": folder, "pids": folder}
        for controller, folder in list(self.folders.items()):
            wrong = self._outside(controller, folder, pids)
            if wrong is not None and controller == "memory":
                return wrong
            if wrong is not None:  # the process count is RLIMIT_NPROC's alone then
                log.info("the sandbox's process count is not the cgroup's: %s", wrong)
                del self.folders[controller]
        self.memory_verified = True
        return None

    def _outside(self, controller: str, folder: Path, pids: list[int]) -> str | None:
        """The first of `pids` that is not in `folder` (a cgroup of `controller`), said."""
        key = "v2" if self.where.kind in ("v2", "systemd") else controller
        root = self.where.v2_root if key == "v2" else _mounts().get(controller)
        expected = "/" + str(folder.relative_to(root)) if root else "?"
        checked = 0
        for pid in pids:
            seen = cgroup_paths(pid)
            if not _running(pid):
                continue  # gone or exiting: cgroup v1 shows an exiting process in the root
            if seen.get(key) != expected and _stays_outside(pid, key, expected):
                return f"process {pid} is in {seen.get(key)!r}, not in {expected!r}"
            checked += 1
        return None if checked else "no process of the sandbox was left to check"

    def peak_mb(self) -> float:
        """The most memory the cgroup held (0 where the kernel does not keep it)."""
        name = "memory.max_usage_in_bytes" if self.where.kind == "v1" else "memory.peak"
        try:
            return int((self.folders["memory"] / name).read_text()) / 2**20
        except (KeyError, OSError, ValueError):
            return 0.0

    def killed_for_memory(self) -> bool:
        """Whether the kernel killed a process of this cgroup for going over the limit."""
        name = "memory.oom_control" if self.where.kind == "v1" else "memory.events"
        try:
            for line in (self.folders["memory"] / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (KeyError, OSError, ValueError):
            return False
        return False

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup, wherever in the tree it went (cgroup.kill in v2)."""
        for folder in self.folders.values():
            with contextlib.suppress(OSError):
                if (folder / "cgroup.kill").exists():
                    (folder / "cgroup.kill").write_text("1")
                    continue
                for _ in range(20):
                    pids = [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
                    if not pids:
                        break
                    for pid in pids:
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.kill(pid, signal.SIGKILL)
                    time.sleep(0.01)

    def remove(self, wait: bool = True) -> None:
        """Delete the cgroup once its processes are gone: the kernel refuses while any is still
        exiting, so this waits a little for the last of them (systemd removes its own scopes)."""
        if self.where.kind == "systemd":
            return
        for folder in set(self.folders.values()):
            for _ in range(20 if wait else 1):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as error:
                    if error.errno != errno.EBUSY or not wait:
                        break
                    time.sleep(0.05)
            else:
                log.info("the cgroup %s is still busy; it is removed at the next start", folder)
