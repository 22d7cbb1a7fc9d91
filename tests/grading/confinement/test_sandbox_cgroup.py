"""The sandbox's memory limit is the kernel's where this process may make a memory cgroup: a burst
between two of the parent's samples is stopped all the same, and the result says so. No
TensorFlow: a small program allocates memory inside the real sandbox."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.grading.confinement.sandbox import SandboxFailure, SandboxLimits, new_sandbox
from server.grading.confinement.sandbox_cgroup import PREFIX, SandboxCgroup, remove_leftovers
from tests.grading.confinement.test_sandbox import MODES, _plan

# Fills 600 MB at once, then says ready: only a limit that holds at every moment stops it.
BURST = """
import os, socket
from server.grading import protocol
from server.grading.confinement.confine import ConfineSpec, apply
spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
apply(spec)
block = bytearray(600 * 2**20)
del block
socket.socket(fileno=spec.channel_fd).sendall(
    protocol.encode(protocol.Ready(import_seconds=0.0, versions={}, confinement={})))
"""


def _cgroup_or_skip(name: str, limit_mb: float) -> SandboxCgroup:
    cgroup = SandboxCgroup.create(name, limit_mb)
    if cgroup is None:
        pytest.skip("this process may not make a memory cgroup here (sampling is the limit)")
    return cgroup


def test_a_program_over_the_limit_is_killed_by_the_kernel_and_the_cgroup_says_so() -> None:
    cgroup = _cgroup_or_skip("unit", 64)
    try:
        done = subprocess.run(cgroup.joining(
            [sys.executable, "-c", "block = bytearray(300 * 2**20)"]), check=False)
        assert done.returncode == -9  # SIGKILL from the kernel's OOM killer
        assert cgroup.killed_for_memory()
        assert 60 <= cgroup.peak_mb() <= 70
    finally:
        cgroup.remove()
    assert not cgroup.folders["memory"].exists()


def test_a_program_under_the_limit_is_untouched() -> None:
    cgroup = _cgroup_or_skip("calm", 256)
    try:
        done = subprocess.run(cgroup.joining(
            [sys.executable, "-c", "block = bytearray(50 * 2**20); print(len(block))"]),
            capture_output=True, text=True, check=False)
        assert done.returncode == 0 and done.stdout.strip() == str(50 * 2**20)
        assert not cgroup.killed_for_memory()
    finally:
        cgroup.remove()


@pytest.mark.parametrize("mode", MODES)
def test_a_burst_inside_the_sandbox_is_stopped_by_the_kernel(mode: str, tmp_path: Path) -> None:
    _cgroup_or_skip("probe", 64).remove()
    plan = _plan(mode, tmp_path)
    box = new_sandbox(plan, SandboxLimits(memory_mb=200, start_seconds=60), tmp_path / "boxes",
                      tmp_path / "log", command=[sys.executable, "-c", BURST])
    try:
        assert box.start() is None
        assert box._cgroup is not None
        folder = box._cgroup.folders["memory"]
        reply = box.wait_ready()
        assert isinstance(reply, SandboxFailure), reply
        assert "MB used (stopped by the kernel)" in reply.detail, (
            reply, (tmp_path / "log").read_text()[-2000:])
    finally:
        box.destroy()
    assert not folder.exists()  # the sandbox's cgroup goes with it


def test_cgroups_a_killed_service_left_are_removed_at_the_next_start() -> None:
    """Only a dead owner's cgroups go: a live service's sandbox cgroup is empty for a moment
    before its child joins, and removing it then would leave that sandbox without its limit."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    left = _cgroup_or_skip("left-behind", 64)
    left.remove()
    left = SandboxCgroup.create("left-behind", 64, owner=int(gone.stdout))
    assert left is not None and left.folders["memory"].name.startswith(PREFIX)
    neighbour = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    live = SandboxCgroup.create("just-made", 64, owner=neighbour.pid)
    mine = SandboxCgroup.create("mine", 64)
    assert live is not None and mine is not None
    try:
        remove_leftovers()
        assert not left.folders["memory"].exists()
        assert live.folders["memory"].exists() and mine.folders["memory"].exists()
    finally:
        neighbour.kill()
        neighbour.wait()
        for cgroup in (left, live, mine):
            cgroup.remove()
