"""The launcher's confinement, probed from inside by a small program run exactly as the grading
child is (same launcher, same limits, same seccomp and Landlock), in both ways this machine allows:
bubblewrap, and the forced fallback (TFEXAM_SANDBOX=landlock). No TensorFlow: fast."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from server.grading.confinement import bubblewrap, landlock, sandbox
from server.grading.confinement.sandbox import Plan, SandboxLimits, new_sandbox
from server.grading.protocol import Ready

PROBE = """
import json, os, socket, sys
from server.grading import protocol
from server.grading.confinement.confine import ConfineSpec, apply
spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
applied = apply(spec)
channel = socket.socket(fileno=spec.channel_fd)
targets = json.loads(sys.argv[1])
out = {"uid": os.getuid(), "fds": ",".join(sorted(os.listdir("/proc/self/fd"), key=int)),
       "channel": spec.channel_fd, "landlock": applied["landlock_abi"],
       "seccomp": applied["seccomp"], "pid": os.getpid(), "sid": os.getsid(0)}
def attempt(name, action):
    try:
        action()
        out[name] = "allowed"
    except OSError as error:
        out[name] = type(error).__name__
attempt("connect_host", lambda: socket.create_connection(("127.0.0.1", targets["port"]), 2))
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
attempt("list_home", lambda: os.listdir(targets["home"]))
if "user_file" in targets:
    attempt("read_user_file", lambda: open(targets["user_file"]).read())
attempt("read_secret", lambda: open(targets["secret"]).read())
attempt("write_venv", lambda: open(targets["venv_file"], "w"))
attempt("write_code", lambda: open(targets["code_file"], "w"))
attempt("signal_service", lambda: os.kill(targets["service_pid"], 0))
attempt("read_job", lambda: open(os.path.join(os.environ["TFEXAM_JOB_DIR"], "inputs.npy")).read())
attempt("write_job", lambda: open(os.path.join(os.environ["TFEXAM_JOB_DIR"], "x"), "w"))
attempt("write_tmp", lambda: open(os.path.join(os.environ["TMPDIR"], "scratch"), "w"))
import resource
for name in ("FSIZE", "NOFILE", "CORE", "CPU"):
    out["rlimit_" + name] = "%d %d" % resource.getrlimit(getattr(resource, "RLIMIT_" + name))
def write_past_the_file_size_limit():
    with open(os.path.join(os.environ["TMPDIR"], "big"), "wb") as big:
        big.write(b"x" * (resource.getrlimit(resource.RLIMIT_FSIZE)[0] + 1))
if targets.get("write_big"):  # only under a small limit: this writes the limit's size
    attempt("write_big", write_past_the_file_size_limit)
channel.sendall(protocol.encode(protocol.Ready(import_seconds=0.0, versions={}, confinement=out)))
"""

MODES = ["bwrap", "bwrap-0.4.1", "landlock"]  # bwrap-0.4.1: Debian 11's, without --disable-userns


def _plan(mode: str, scratch: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> Plan:
    if mode == "landlock" and landlock.abi_version() < 1:
        pytest.skip("no Landlock in this kernel")
    if mode == "bwrap-0.4.1":  # it must be had: a fallback would hide what an older bwrap does
        from tests.grading.confinement.test_seccomp_live import plan_for

        assert monkeypatch is not None
        return plan_for(mode, scratch, monkeypatch)
    try:
        return sandbox.plan(scratch, mode)
    except RuntimeError as why:
        pytest.skip(str(why))


@pytest.fixture
def listener():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.3)
        yield server


@pytest.fixture
def user_file():
    """A file in the real home folder, outside /tmp (which bubblewrap's tmpfs hides anyway)."""
    path = Path.home() / f".tfexam-probe-{os.getpid()}"
    path.write_text("the learner's own file")
    yield path
    path.unlink(missing_ok=True)


def probe(plan: Plan, scratch: Path, targets: dict,
          limits: SandboxLimits = SandboxLimits(start_seconds=60)) -> dict:
    box = new_sandbox(plan, limits, scratch / "boxes", scratch / "log",
                      command=[sys.executable, "-c", PROBE, json.dumps(targets)])
    try:
        assert box.start() is None
        (box.job_dir / "inputs.npy").write_text("inputs")
        ready = box.wait_ready()
        assert isinstance(ready, Ready), (ready, (scratch / "log").read_text()[-2000:])
        return dict(ready.confinement)
    finally:
        box.destroy()
        assert not box.folder.exists()  # cleaned up whatever happened


def _targets(tmp_path: Path, port: int) -> dict:
    home = tmp_path / "tfexam-home"
    (home / "sessions").mkdir(parents=True)
    secret = home / "heldout.npz"
    secret.write_text("labels")
    return {"port": port, "home": str(home), "secret": str(secret),
            "venv_file": str(Path(sys.prefix) / "tfexam-planted.pth"),
            "code_file": str(sandbox.CODE_ROOT / "server" / "planted.py"),
            "service_pid": os.getpid()}


@pytest.mark.parametrize("mode", MODES)
def test_the_child_sees_only_its_job(mode: str, tmp_path: Path, listener: socket.socket,
                                     user_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan(mode, tmp_path, monkeypatch)
    targets = {**_targets(tmp_path, listener.getsockname()[1]), "user_file": str(user_file)}
    seen = probe(plan, tmp_path, targets)
    with pytest.raises(TimeoutError):
        listener.accept()  # no connection reached the machine's loopback
    assert seen["connect_host"] != "allowed" and seen["dns"] != "allowed"
    for name in ("list_home", "read_user_file", "read_secret", "write_venv", "write_code",
                 "write_job"):
        assert seen[name] != "allowed", (name, seen)
    # A session of its own, led inside the sandbox (so no controlling terminal of the service's):
    # bubblewrap's own first process leads it; the fallback's child leads its own.
    assert (0 < seen["sid"] <= seen["pid"] if mode.startswith("bwrap")
            else seen["sid"] == seen["pid"])
    assert seen["read_job"] == "allowed" and seen["write_tmp"] == "allowed"
    assert seen["seccomp"] == "filter active"  # loaded by bwrap, or by the child itself
    assert not Path(targets["venv_file"]).exists() and not Path(targets["code_file"]).exists()
    others = set(seen["fds"].split(",")) - {"0", "1", "2", str(seen["channel"])}
    assert len(others) <= 1, seen["fds"]  # nothing inherited: only the one listdir itself opened
    if mode.startswith("bwrap"):
        assert plan.isolation.sandboxed and plan.isolation.warning is None
        assert seen["uid"] == bubblewrap.SANDBOX_UID
        assert seen["signal_service"] == "ProcessLookupError"  # its own PID namespace
        assert seen["list_home"] == seen["read_user_file"] == "FileNotFoundError"  # not there
    else:
        assert not plan.isolation.sandboxed
        assert plan.isolation.warning.startswith("model files are not isolated on this machine: ")
        assert seen["landlock"] and seen["list_home"] == seen["read_user_file"] == (
            "PermissionError")
        if seen["landlock"] >= 6:
            assert seen["signal_service"] == "PermissionError"


@pytest.mark.parametrize("mode", MODES)
def test_the_child_runs_under_its_rlimits(mode: str, tmp_path: Path, listener: socket.socket,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """File size, open files, no core dumps and CPU time, read from inside the confined child.
    The limits are chosen unlike any default of this machine, so only the launcher could set
    them; a write past the file size limit fails instead of filling the disk."""
    limits = SandboxLimits(start_seconds=60, file_size_mb=3, open_files=333, job_seconds=7.0)
    targets = _targets(tmp_path, listener.getsockname()[1]) | {"write_big": True}
    seen = probe(_plan(mode, tmp_path, monkeypatch), tmp_path, targets, limits)
    size = limits.file_size_mb * 2**20
    rlimits = {key: value for key, value in seen.items() if key.startswith("rlimit_")}
    assert rlimits == {"rlimit_FSIZE": f"{size} {size}", "rlimit_NOFILE": "333 333",
                       "rlimit_CORE": "0 0",
                       "rlimit_CPU": f"{limits.cpu_seconds} {limits.cpu_seconds + 5}"}
    assert seen["write_big"] == "OSError"  # EFBIG; SIGXFSZ is ignored, so it does not kill


def test_a_sandbox_dies_with_its_parent(tmp_path: Path) -> None:
    """The service killed: its sandboxes go too (bwrap --die-with-parent, PR_SET_PDEATHSIG)."""
    import subprocess

    code = f"""
import sys, time
from pathlib import Path
from server.grading.confinement import sandbox
plan = sandbox.plan(Path({str(tmp_path)!r}), {os.environ.get('TFEXAM_SANDBOX') or 'auto'!r})
box = sandbox.new_sandbox(plan, sandbox.SandboxLimits(), Path({str(tmp_path)!r}) / "b",
                          Path({str(tmp_path)!r}) / "log", command=[sys.executable, "-c",
                          "import time; time.sleep(600)"])
box.start()
print(box.pid, flush=True)
time.sleep(600)
"""
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              cwd=sandbox.CODE_ROOT)
    child_pid = int(parent.stdout.readline())
    import psutil

    time.sleep(1.0)  # let bwrap start the program inside
    tree = [psutil.Process(child_pid), *psutil.Process(child_pid).children(recursive=True)]
    assert len(tree) >= 2 or sandbox.plan(tmp_path).kind != "bwrap"
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(p.is_running() and p.status() != "zombie"
                                              for p in tree):
        time.sleep(0.1)
    alive = [(p.pid, p.status()) for p in tree if p.is_running() and p.status() != "zombie"]
    assert not alive, alive


def test_without_bubblewrap_the_fallback_says_so(tmp_path: Path, monkeypatch) -> None:
    """A machine without bwrap (or whose kernel refuses user namespaces) falls back loudly."""
    if landlock.abi_version() < 1:
        pytest.skip("no Landlock in this kernel")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # bwrap is not found, as on a machine without it
    monkeypatch.delenv("TFEXAM_SANDBOX", raising=False)
    plan = sandbox.plan(tmp_path)
    assert plan.kind == "landlock" and not plan.isolation.sandboxed
    assert plan.isolation.warning.startswith(
        "model files are not isolated on this machine: bubblewrap (bwrap) is not installed")
    with pytest.raises(RuntimeError, match="TFEXAM_SANDBOX=bwrap"):
        sandbox.plan(tmp_path, "bwrap")


def test_the_hosts_tmp_is_not_taken_for_a_sandboxs_memory() -> None:
    """Seen under load: a sample taken while bubblewrap was still setting up read the host's /tmp
    (the whole disk's used space, 34 GB) as the sandbox's tmpfs and refused the sandbox."""
    assert sandbox._sandbox_tmpfs_bytes(os.getpid()) == 0
