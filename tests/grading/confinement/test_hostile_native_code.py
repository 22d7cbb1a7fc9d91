"""What a model's native code can still do from inside the sandbox (issue 22, item 3), tried for
real in both modes: no socket of its own and no Unix socket with a path reached, no System V IPC,
no capability, a process count that stops a fork loop, and no process left once the job ends (a
setsid + double fork included). As the user running the tests (root on CI); the same attacks run
as an ordinary user in test_unprivileged.py."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from server.grading.confinement.sandbox import SandboxLimits
from tests.grading.confinement import hostile
from tests.grading.confinement.test_sandbox import MODES, _plan

FORKS = 200
LIMITS = SandboxLimits(start_seconds=60, tasks=20)


def check(mode: str, seen: dict, planted_socket_reached: bool, escaped: list[int]) -> None:
    """The assertions, shared with the unprivileged run."""
    assert not planted_socket_reached, seen
    assert seen["connect_unix"] != "allowed", seen
    assert not str(seen["shm"]).startswith("read"), seen
    assert seen["cap_eff"] == 0 and seen["mknod"] != "allowed", seen
    assert seen["fork_refused"] == "EAGAIN" and seen["forked"] < FORKS, seen
    assert not escaped, f"processes left after the job: {escaped}"
    assert seen["service_environ"] != "allowed", seen
    if mode == "landlock":  # the fallback creates no socket at all: its channel is inherited
        assert seen["socket"] == seen["socketpair"] == "EPERM", seen
        assert seen["shm"] == seen["msgget"] == "EPERM", seen
        assert seen["capabilities"] == "none", seen
        assert seen["service_cmdline"] == "allowed"  # as the warning says: /proc shows it
    else:  # bubblewrap: an IPC namespace of its own (a queue it makes is its own), and the
        # socket's folder is not there
        assert seen["shm"] == "ENOENT" and seen["connect_unix"] == "ENOENT", seen


@pytest.mark.parametrize("mode", MODES)
def test_native_code_reaches_no_socket_ipc_capability_or_lasting_process(
        mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan(mode, tmp_path, monkeypatch)
    planted = hostile.plant(tmp_path)
    try:
        seen, reached, escaped = hostile.attack_planted(plan, tmp_path, planted, FORKS, LIMITS)
        for pid in escaped:
            os.kill(pid, signal.SIGKILL)
        check(mode, seen, reached, escaped)
    finally:
        planted.close()


def test_the_fallback_warning_says_what_landlock_below_abi_6_and_root_leave_open() -> None:
    """What the warning lists depends on this machine: below ABI 6 signals (and so the reaper)
    are reachable; as root with no pids cgroup there is no process count; with a cgroup there is."""
    from server.grading.confinement.sandbox import fallback_reach
    from server.grading.confinement.sandbox_cgroup import Placement

    none, v1 = Placement("none"), Placement("v1", Path("/m"), Path("/p"))
    assert any("send signals to any process of your user (Landlock ABI 5" in item
               for item in fallback_reach(5, v1))
    assert not any("signals" in item for item in fallback_reach(6, v1))
    count = [item for item in fallback_reach(7, none) if "processes" in item and "start" in item]
    if os.geteuid() == 0:
        assert count == ["start any number of processes (RLIMIT_NPROC does not bind root, and no "
                         "pids cgroup is had here)"]
    else:
        assert len(count) == 1 and "RLIMIT_NPROC counts all of your user's processes" in count[0]
    assert not any("start" in item for item in fallback_reach(7, v1))
