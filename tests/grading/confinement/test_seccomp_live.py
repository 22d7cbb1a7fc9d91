"""The seccomp filter met from inside a real sandboxed child: real native calls (ctypes'
`syscall()`), in every way this machine confines (bubblewrap as installed, Debian 11's bubblewrap
0.4.1, and the fallback), as the service's user (root in CI); test_unprivileged.py makes the same
calls as an ordinary user. The same calls made outside any sandbox show what the kernel itself
answers, so each refusal is the filter's own. No TensorFlow: fast."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from server.grading.confinement import landlock, sandbox
from server.grading.confinement.sandbox import Plan, SandboxLimits, new_sandbox
from server.grading.protocol import Ready
from tests.support.native_calls import (
    CALLS,
    FILTER_ANSWERS,
    REFUSED_SINCE_ISSUE_22,
    as_filter_answers,
)
from tests.support.old_bubblewrap import old_bwrap_dir

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64",
                                reason="the calls are written with x86_64's numbers")

PROBE = CALLS + """
import socket
from server.grading import protocol
from server.grading.confinement.confine import ConfineSpec, apply
spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
applied = apply(spec)
out = {"seccomp": applied["seccomp"], "uid": os.getuid(), **native_calls()}
socket.socket(fileno=spec.channel_fd).sendall(
    protocol.encode(protocol.Ready(import_seconds=0.0, versions={}, confinement=out)))
"""

MODES = ["bwrap", "bwrap-0.4.1", "landlock"]


def plan_for(mode: str, scratch: Path, monkeypatch: pytest.MonkeyPatch) -> Plan:
    """The plan of `mode`; bubblewrap modes must be had (no skip: a fallback would hide them)."""
    if mode == "landlock" and landlock.abi_version() < 1:
        pytest.skip("no Landlock in this kernel")
    if mode == "bwrap-0.4.1":
        monkeypatch.setenv("PATH", f"{old_bwrap_dir()}{os.pathsep}{os.environ['PATH']}")
    plan = sandbox.plan(scratch, mode.split("-")[0])
    assert plan.kind == mode.split("-")[0], plan
    if mode == "bwrap-0.4.1":
        assert plan.bwrap is not None and plan.bwrap.version == "bubblewrap 0.4.1", plan
    return plan


def calls_inside(plan: Plan, scratch: Path) -> dict:
    box = new_sandbox(plan, SandboxLimits(start_seconds=60), scratch / "boxes", scratch / "log",
                      command=[sys.executable, "-c", PROBE])
    try:
        assert box.start() is None
        ready = box.wait_ready()
        assert isinstance(ready, Ready), (ready, (scratch / "log").read_text()[-2000:])
        return dict(ready.confinement)
    finally:
        box.destroy()


def calls_outside() -> dict:
    done = subprocess.run([sys.executable, "-c", CALLS + "\nimport json\n"
                           "print(json.dumps(native_calls()))"],
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("mode", MODES)
def test_dangerous_calls_are_refused_by_the_filter(mode: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    seen = calls_inside(plan_for(mode, tmp_path, monkeypatch), tmp_path)
    assert seen.pop("seccomp") == "filter active"
    seen.pop("uid")
    assert as_filter_answers(seen) == FILTER_ANSWERS
    # The kernel itself would have let the newly refused ones through, or answered otherwise.
    kernel = calls_outside()
    assert kernel["modify_ldt"] == kernel["move_pages"] == "ok", kernel
    assert kernel["ioctl_TIOCSTI"] == kernel["ioctl_TIOCLINUX"] == "ENOTTY", kernel
    if kernel["setxattrat_above_table"] != "ENOSYS":  # Linux 6.13 or later has it
        assert seen["setxattrat_above_table"] == "ENOSYS"
    for name in REFUSED_SINCE_ISSUE_22:
        assert seen[name] != kernel[name] or name == "setxattrat_above_table", name
