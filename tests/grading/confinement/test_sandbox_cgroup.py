"""The sandbox's memory limit is the kernel's where this process may make a memory cgroup: a burst
between two of the parent's samples is stopped all the same, and the result says so. No
TensorFlow: a small program allocates memory inside the real sandbox."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.grading.confinement.sandbox import SandboxFailure, SandboxLimits, new_sandbox
from server.grading.confinement.sandbox_cgroup import (
    PREFIX,
    SERVICE_LEAF,
    Placement,
    SandboxCgroup,
    remove_leftovers,
)
from tests.grading.confinement.test_sandbox import MODES, _plan

ROOT = Path(__file__).resolve().parents[3]

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
def test_a_burst_inside_the_sandbox_is_stopped_by_the_kernel(
        mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _cgroup_or_skip("probe", 64).remove()
    plan = _plan(mode, tmp_path, monkeypatch)
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


def test_an_exited_process_does_not_count_as_outside_its_cgroup() -> None:
    """The kernel's OOM kill leaves a zombie until its parent reaps it, and cgroup v1 shows an
    exited process in the root: that is not a sandbox that escaped its cgroup."""
    cgroup = _cgroup_or_skip("zombie", 256)
    parent = subprocess.Popen(cgroup.joining([sys.executable, "-c", (
        "import os, time\n"
        "child = os.fork()\n"
        "if child == 0: os._exit(0)\n"
        "print(child, flush=True); time.sleep(60)")]), stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        zombie = int(parent.stdout.readline())
        deadline = time.monotonic() + 30
        while Path(f"/proc/{zombie}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert cgroup.verify([parent.pid, zombie]) is None
        assert cgroup.memory_verified
        assert cgroup.verify([zombie]) == "no process of the sandbox was left to check"
    finally:
        parent.kill()
        parent.wait()
        cgroup.remove()


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


# Holds 400 MB for a while before it says ready: sampling stops it, if sampling is on.
HOG = """
import os, socket, time
from server.grading import protocol
from server.grading.confinement.confine import ConfineSpec, apply
spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
apply(spec)
block = bytearray(400 * 2**20)
time.sleep(20)
socket.socket(fileno=spec.channel_fd).sendall(
    protocol.encode(protocol.Ready(import_seconds=0.0, versions={}, confinement={})))
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_child_that_never_joined_its_cgroup_is_still_sampled_and_health_says_so(
        mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The join fails (here: it never happens): the kernel holds no limit, so sampling must stay
    on, and the isolation report (what /api/health shows) says the memory is sampled and why."""
    _cgroup_or_skip("probe", 64).remove()
    plan = _plan(mode, tmp_path, monkeypatch)
    assert plan.isolation.memory.startswith("limited by the kernel"), plan.isolation
    monkeypatch.setattr(SandboxCgroup, "joining", lambda self, argv: argv)
    box = new_sandbox(plan, SandboxLimits(memory_mb=200, start_seconds=60), tmp_path / "boxes",
                      tmp_path / "log", command=[sys.executable, "-c", HOG])
    try:
        assert box.start() is None and box._cgroup is not None
        reply = box.wait_ready()
        assert isinstance(reply, SandboxFailure) and "MB used while starting" in reply.detail, (
            reply, (tmp_path / "log").read_text()[-2000:])
    finally:
        box.destroy()
    assert plan.isolation.memory.startswith(
        "watched by tfexam (sampled): a sandbox could not be put in its cgroup"), plan.isolation


def test_only_tfexams_own_dead_cgroups_are_removed(tmp_path: Path) -> None:
    """A cgroup with tfexam's name but made by another user is not tfexam's (a second service of
    another user's, or anyone's): kept even when the pid in its name is dead."""
    probe = _cgroup_or_skip("probe", 64)
    probe.remove()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(gone.stdout)
    parent = probe.folders["memory"].parent
    foreign = parent / f"{PREFIX}{dead}-of-another-user"
    leaf = parent / f"{SERVICE_LEAF}{dead}"
    foreign.mkdir()
    leaf.mkdir()
    try:
        os.chown(foreign, 65534, 65534)
        if foreign.stat().st_uid != 65534:
            pytest.skip("this cgroup file system keeps no owner")
        remove_leftovers()
        assert foreign.exists()          # not tfexam's: another user's
        assert not leaf.exists()         # a dead service's leaf: tfexam's, and dead
    finally:
        for folder in (foreign, leaf):
            with contextlib.suppress(OSError):
                folder.rmdir()


# The v2 logic against the kernel's own cgroup2 hierarchy. This machine's memory controller may
# be held by cgroup v1 (then it cannot be had in v2 at the same time): another domain controller
# that v2 has stands in for it, since the rule at stake (no controller for the children of a
# cgroup that holds a process: EBUSY) is the same for every domain controller.

SERVICE = """
import json, os, sys
from pathlib import Path
from server.grading.confinement import sandbox_cgroup
sys.stdin.readline()  # moved into its cgroup by the test meanwhile
own = Path(sys.argv[1])
result = sandbox_cgroup.delegate_v2(own, (sys.argv[2],))
if result is not None:  # a second start of the same service: from its leaf, the same cgroup
    here = sandbox_cgroup._mounts()["v2"] / sandbox_cgroup.cgroup_paths()["v2"].lstrip("/")
    again = sandbox_cgroup.delegate_v2(here, (sys.argv[2],))
    assert again == result, (again, result)
print(json.dumps({"result": str(result), "cgroup": sandbox_cgroup.cgroup_paths()["v2"],
                  "subtree": (own / "cgroup.subtree_control").read_text().split(),
                  "pid": os.getpid()}), flush=True)
sys.stdin.readline()
"""


def _service_in(own: Path, controller: str) -> subprocess.Popen[str]:
    service = subprocess.Popen([sys.executable, "-c", SERVICE, str(own), controller],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    (own / "cgroup.procs").write_text(str(service.pid))
    return service


def _delegated(service: subprocess.Popen[str]) -> dict:
    assert service.stdin is not None and service.stdout is not None
    service.stdin.write("go\n")
    service.stdin.flush()
    return json.loads(service.stdout.readline())


def test_the_kernel_refuses_controllers_below_a_cgroup_holding_a_process(cgroup2) -> None:
    """The premise, on this kernel: why the service must move itself into a leaf first."""
    root, own, controller = cgroup2
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        (own / "cgroup.procs").write_text(str(sleeper.pid))
        with pytest.raises(OSError) as refused:
            (own / "cgroup.subtree_control").write_text(f"+{controller}")
        assert refused.value.errno == errno.EBUSY
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_service_moves_itself_into_a_leaf_so_its_cgroup_can_delegate(cgroup2) -> None:
    root, own, controller = cgroup2
    service = _service_in(own, controller)
    try:
        seen = _delegated(service)
        assert seen["result"] == str(own)
        assert seen["cgroup"] == f"/{own.relative_to(root)}/{SERVICE_LEAF}{seen['pid']}"
        assert controller in seen["subtree"]
    finally:
        service.kill()
        service.wait()


def test_a_shared_cgroup_is_left_as_it_was_and_gives_no_subtree(cgroup2) -> None:
    """Another process in the service's cgroup (a shell's session scope): the kernel refuses
    whatever the service does; it goes back where it was, and sampling is the limit."""
    root, own, controller = cgroup2
    neighbour = subprocess.Popen(["sleep", "60"])
    (own / "cgroup.procs").write_text(str(neighbour.pid))
    service = _service_in(own, controller)
    try:
        seen = _delegated(service)
        assert seen["result"] == "None"
        assert seen["cgroup"] == f"/{own.relative_to(root)}"
        assert controller not in seen["subtree"]
        assert not list(own.glob(f"{SERVICE_LEAF}*"))
    finally:
        for process in (service, neighbour):
            process.kill()
            process.wait()


def test_membership_is_read_from_the_kernel_and_the_cgroup_kills_all(cgroup2) -> None:
    """A sandbox cgroup in a real cgroup2 subtree: a child started through `joining` is found in
    it by /proc/<pid>/cgroup, one started without is not, and cgroup.kill ends them all."""
    root, own, controller = cgroup2
    where = Placement("v2", own, None, root)
    cgroup = SandboxCgroup(where, f"{PREFIX}{os.getpid()}-joined", 64 * 2**20, 16)
    (own / cgroup.name).mkdir()
    cgroup.folders["memory"] = own / cgroup.name
    joined = subprocess.Popen(cgroup.joining(["sleep", "60"]))
    outside = subprocess.Popen(["sleep", "60"])
    try:
        deadline = time.monotonic() + 10
        while cgroup.verify([joined.pid]) is not None and time.monotonic() < deadline:
            time.sleep(0.05)  # the shell joins, then execs
        assert cgroup.verify([joined.pid]) is None and cgroup.memory_verified
        wrong = SandboxCgroup(where, cgroup.name, 0, 0, dict(cgroup.folders)).verify(
            [joined.pid, outside.pid])
        assert wrong is not None and f"process {outside.pid} is in" in wrong
        cgroup.kill_all()
        assert joined.wait(timeout=10) == -signal.SIGKILL
    finally:
        for process in (joined, outside):
            process.kill()
            process.wait()
        cgroup.remove()
    assert not (own / cgroup.name).exists()


def test_a_systemd_scope_is_found_by_its_name_and_nothing_else(cgroup2) -> None:
    """Where systemd makes the cgroup, the launcher knows only the scope's name: the child's
    /proc/<pid>/cgroup must end in it (a cgroup under the real hierarchy named as systemd would)."""
    root, own, controller = cgroup2
    where = Placement("systemd", v2_root=root, systemd=["systemd-run"])
    cgroup = SandboxCgroup(where, f"{PREFIX}{os.getpid()}-scoped", 64 * 2**20, 16)
    argv = cgroup.joining(["sleep", "60"])
    assert argv[:4] == ["systemd-run", "--scope", "--quiet", "--collect"]
    assert f"--unit={cgroup.name}" in argv and "MemoryMax=67108864" in argv
    assert "TasksMax=16" in argv and argv[-3:] == ["--", "sleep", "60"]
    scope = own / f"{cgroup.name}.scope"
    scope.mkdir()
    inside, outside = subprocess.Popen(["sleep", "60"]), subprocess.Popen(["sleep", "60"])
    try:
        wrong = SandboxCgroup(where, cgroup.name, 0, 0).verify([outside.pid])
        assert wrong is not None and wrong.startswith("systemd did not start it in the scope")
        (scope / "cgroup.procs").write_text(str(inside.pid))
        assert cgroup.verify([inside.pid]) is None
        assert cgroup.folders["memory"] == scope
    finally:
        for process in (inside, outside):
            process.kill()
            process.wait()
