"""The sandbox's memory limit, enforced by the kernel where this process may make a memory cgroup.

Sampling resident memory from outside (see `Sandbox.receive`) misses what a model allocates and
uses between two samples; a cgroup limit does not. So each sandbox gets a child cgroup of this
process's own memory cgroup, with the job's limit (swap included where the kernel counts it), and
the sandbox's first process joins it before it execs bubblewrap: everything the model starts, and
what it writes to its tmpfs, is charged there. When the kernel kills the child for memory, the
cgroup says so, and the result says how much was used against the limit.

Both cgroup versions are handled: v2 (`memory.max`, `memory.events`) when this process's cgroup
already hands the memory controller to its children, and v1 (`memory.limit_in_bytes`,
`memory.oom_control`). Where neither can be written (no delegation to an unprivileged user, a
read-only /sys), `create` returns None and the supervisor's sampling is the limit, as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "tfexam-sandbox-"


def _mounts() -> dict[str, Path]:
    """Where the memory controller is mounted: {"v2": …} and/or {"v1": …}."""
    found: dict[str, Path] = {}
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            before, _, after = line.partition(" - ")
            fields, extra = before.split(), after.split()
            if len(fields) < 5 or len(extra) < 3:
                continue
            if extra[0] == "cgroup2":
                found.setdefault("v2", Path(fields[4]))
            elif extra[0] == "cgroup" and "memory" in extra[2].split(","):
                found.setdefault("v1", Path(fields[4]))
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per version, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as cgroups:
        for line in cgroups:
            number, controllers, path = line.rstrip("\n").split(":", 2)
            if number == "0" and controllers == "":
                paths["v2"] = path
            elif "memory" in controllers.split(","):
                paths["v1"] = path
    return paths


def _parent() -> tuple[str, Path] | None:
    """A memory cgroup this process may make children in, and its version."""
    mounts, own = _mounts(), _own_paths()
    if "v2" in mounts and "v2" in own:
        folder = mounts["v2"] / own["v2"].lstrip("/")
        with contextlib.suppress(OSError):
            controllers = (folder / "cgroup.subtree_control").read_text().split()
            if "memory" in controllers and os.access(folder, os.W_OK):
                return "v2", folder
    if "v1" in mounts and "v1" in own:
        folder = mounts["v1"] / own["v1"].lstrip("/")
        if (folder / "memory.limit_in_bytes").exists() and os.access(folder, os.W_OK):
            return "v1", folder
    return None


@dataclass
class MemoryCgroup:
    version: str
    folder: Path
    limit_bytes: int

    @property
    def procs(self) -> Path:
        """Writing a pid here moves that process (and all it starts from then on) in."""
        return self.folder / "cgroup.procs"

    @classmethod
    def create(cls, name: str, limit_mb: float, owner: int | None = None) -> MemoryCgroup | None:
        """A fresh cgroup holding `limit_mb`, or None where the kernel does not let us make one
        (the caller then relies on sampling). Its name carries the pid of the process that owns
        it (this one unless said), so another service's start can tell it from a leftover."""
        parent = _parent()
        if parent is None:
            return None
        version, base = parent
        folder = base / f"{PREFIX}{owner or os.getpid()}-{name}"
        limit = int(limit_mb * 2**20)
        try:
            folder.mkdir()
            if version == "v2":
                (folder / "memory.max").write_text(str(limit))
                with contextlib.suppress(OSError):  # no swap accounting: nothing to close
                    (folder / "memory.swap.max").write_text("0")
            else:
                (folder / "memory.limit_in_bytes").write_text(str(limit))
                with contextlib.suppress(OSError):  # memsw needs swap accounting in the kernel
                    (folder / "memory.memsw.limit_in_bytes").write_text(str(limit))
        except OSError as error:
            log.info("no memory cgroup for the sandbox (%s): its memory is sampled instead",
                     error)
            with contextlib.suppress(OSError):
                folder.rmdir()
            return None
        return cls(version, folder, limit)

    def joining(self, argv: list[str]) -> list[str]:
        """`argv` started so that its first process joins this cgroup before it execs, and so
        does all it starts. Should joining fail, the program runs all the same (sampling still
        limits it) rather than leave the question ungraded."""
        return ["/bin/sh", "-c", '{ echo $$ > "$1"; } 2>/dev/null; shift; exec "$@"', "sh",
                str(self.procs), *argv]

    def peak_mb(self) -> float:
        """The most memory the cgroup held (0 where the kernel does not keep it)."""
        name = "memory.peak" if self.version == "v2" else "memory.max_usage_in_bytes"
        try:
            return int((self.folder / name).read_text()) / 2**20
        except (OSError, ValueError):
            return 0.0

    def killed_for_memory(self) -> bool:
        """Whether the kernel killed a process of this cgroup for going over the limit."""
        name = "memory.events" if self.version == "v2" else "memory.oom_control"
        try:
            for line in (self.folder / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            return False
        return False

    def remove(self) -> None:
        """Delete the cgroup once its processes are gone: the kernel refuses while any is still
        exiting, so this waits a little for the last of them."""
        for _ in range(20):
            try:
                self.folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)
        log.info("the memory cgroup %s is still busy; it is removed at the next start",
                 self.folder)


def describe() -> str:
    """How the sandbox's memory is limited here, for the isolation sentence."""
    parent = _parent()
    if parent is None:
        return "memory watched by tfexam"
    return f"memory limited by the kernel (cgroup {parent[0]})"


def _owner_alive(folder: Path) -> bool:
    owner, _, _ = folder.name.removeprefix(PREFIX).partition("-")
    if not owner.isdigit():
        return False  # not named by this version: nobody alive claims it
    try:
        os.kill(int(owner), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers() -> None:
    """Sandbox cgroups that a killed service left behind: only those whose owner is gone. Another
    service running beside this one (a second home, a test) makes its sandbox's cgroup empty and
    its child joins a moment later: removing every empty one would take that limit away."""
    parent = _parent()
    if parent is not None:
        for folder in parent[1].glob(f"{PREFIX}*"):
            if not _owner_alive(folder):
                with contextlib.suppress(OSError):  # one still in use is refused by the kernel
                    folder.rmdir()
