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
    if mode == "landlock":  # the fallback creates no socket at all: its channel is inherited
        assert seen["socket"] == seen["socketpair"] == "EPERM", seen
        assert seen["shm"] == seen["msgget"] == "EPERM", seen
        assert seen["capabilities"] == "none", seen
    else:  # bubblewrap: an IPC namespace of its own (a queue it makes is its own), and the
        # socket's folder is not there
        assert seen["shm"] == "ENOENT" and seen["connect_unix"] == "ENOENT", seen


@pytest.mark.parametrize("mode", MODES)
def test_native_code_reaches_no_socket_ipc_capability_or_lasting_process(
        mode: str, tmp_path: Path) -> None:
    plan = _plan(mode, tmp_path)
    planted = hostile.plant(tmp_path)
    try:
        seen = hostile.attack(plan, tmp_path, planted.targets(FORKS), LIMITS)
        try:
            planted.listener.accept()
            reached = True
        except TimeoutError:
            reached = False
        escaped = hostile.settled_survivors(planted.marker)
        for pid in escaped:
            os.kill(pid, signal.SIGKILL)
        check(mode, seen, reached, escaped)
    finally:
        planted.close()
