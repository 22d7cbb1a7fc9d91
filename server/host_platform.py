"""What kind of host the service runs on, and what to tell the learner where model files cannot be
isolated there.

bubblewrap, Landlock and seccomp exist on Linux only. On macOS and Windows the service still
starts and grades, but nothing confines a model's graph: the one way to isolate it there is the
container (`docker/`), so the sentence names its command. Inside that container bubblewrap works
only when the runtime leaves /proc unmasked: the kernel refuses a sandbox's own /proc while parts
of the container's are hidden ("Can't mount proc"). podman's option for it is
`--security-opt unmask=/proc/*` (checked in CI); docker's is `systempaths=unconfined`, whose
default seccomp profile may also refuse the namespaces (untested here, said so in docker/README.md).
The container's own memory limit is stated too, since tfexam cannot make a cgroup of its own
there and the container's limit is then the only one the kernel enforces.

Standard library only, no Linux-only module: this is imported on every host.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

PODMAN_OPTION = "--security-opt unmask=/proc/*"
DOCKER_OPTION = "--security-opt systempaths=unconfined --security-opt seccomp=unconfined"
# The command a macOS or Windows learner runs, from the repository's folder (docker/README.md).
CONTAINER_COMMAND = "docker compose -f docker/compose.yaml up --build"


def system() -> str:
    """'Linux', 'Darwin' or 'Windows' (platform.system's own names)."""
    return platform.system()


def container_engine(root: Path = Path("/")) -> str | None:
    """'podman' or 'docker' when this process runs in tfexam's image in their container ('a
    container' for another runtime), else None. The image says so (TFEXAM_IN_CONTAINER): a
    machine that is itself a container (a CI runner, a cloud shell) running tfexam natively is
    not told about run options it cannot use. Each engine leaves a file of its own inside."""
    if not os.environ.get("TFEXAM_IN_CONTAINER"):
        return None
    if (root / "run" / ".containerenv").exists():
        return "podman"
    if (root / ".dockerenv").exists():
        return "docker"
    return "a container"


def missing_option(engine: str) -> str:
    """The run option that lets bubblewrap build its sandbox in this engine's container."""
    if engine == "docker":
        return DOCKER_OPTION
    if engine == "podman":
        return PODMAN_OPTION
    return f"{PODMAN_OPTION} (podman) or {DOCKER_OPTION} (docker)"


def unsupported_system_warning() -> str | None:
    """The isolation warning of a host with no confinement at all (macOS, Windows), else None."""
    name = system()
    if name in ("Linux", ""):
        return None
    shown = {"Darwin": "macOS"}.get(name, name)
    return (f"not isolated on this system ({shown}): a model's graph can read and write your "
            f"files and reach the network. To isolate it, use the container: {CONTAINER_COMMAND} "
            "(README, 'On Windows or macOS').")


def unconfined_how() -> str:
    """What confines a model on a host without bubblewrap, Landlock and seccomp."""
    if system() == "Windows":
        return "nothing (Windows has no bubblewrap, Landlock, seccomp or rlimits)"
    return "rlimits only (macOS has no bubblewrap, Landlock or seccomp)"


def container_warning(why_not: str, how: str) -> str | None:
    """In a container where bubblewrap could not build its sandbox: which option is missing.
    None outside a container (the caller's own sentence then applies)."""
    engine = container_engine()
    if engine is None:
        return None
    if "not installed" in why_not:
        return (f"not isolated: this image has no bubblewrap ({why_not}); rebuild it from "
                f"docker/Containerfile and run the container with {missing_option(engine)}. "
                f"Until then model files run with {how}.")
    return (f"not isolated: run the container with {missing_option(engine)} ({why_not}). "
            f"Until then model files run with {how}, sharing the container's processes and "
            "network.")


def container_memory_limit_mb(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The memory limit of the cgroup this process is in, as the container sees it (cgroup v2
    `memory.max`, or v1 `memory.limit_in_bytes`); None when there is none."""
    for name in ("memory.max", "memory/memory.limit_in_bytes"):
        try:
            raw = (root / name).read_text().strip()
        except OSError:
            continue
        if raw == "max" or not raw.isdigit() or int(raw) >= 2**62:
            return None
        return int(raw) / 2**20
    return None


def memory_note() -> str:
    """In a container, the memory limit the kernel enforces there, for the isolation sentence."""
    if container_engine() is None:
        return ""
    limit = container_memory_limit_mb()
    if limit is None:
        return ("; the container itself has no memory limit (run it with --memory to give it "
                "one)")
    return (f"; the container's own memory limit is {limit:.0f} MB for tfexam and its "
            "sandboxes together")


def describe() -> dict[str, str | None]:
    """The host as /api/health reports it: its system, the container engine if any, and whether
    something reaps the processes killed sandboxes leave (an init in a container)."""
    engine = container_engine()
    reaper = None
    if engine is not None:
        reaper = ("none: tfexam is the container's PID 1, so each killed sandbox stays a zombie; "
                  "run the container with --init or keep the image's tini entry point"
                  if os.getpid() == 1 else f"PID 1 of the container (process {os.getppid()} "
                  "or above) reaps them")
    return {"system": system(), "container": engine, "init": reaper}
