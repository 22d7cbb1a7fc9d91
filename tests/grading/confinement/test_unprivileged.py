"""The sandbox as learners run it: as an ordinary user, through unprivileged user namespaces.

The test (root, as CI runs) creates a user and runs the real launcher and scorer as that user on
real model files. What the user must read is readable as on a learner's machine: the interpreter
here lives under /root (mode 0700), so the user's process gets a private mount namespace in which
/root is an empty tmpfs holding only the interpreter's folder, bound read-only; nothing on the
machine itself is changed (no chmod of /root, no copy of the interpreter). Everything the job
writes is in a scratch folder the user owns.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from server.datasets.base import write_heldout
from server.grading.confinement.sandbox import CODE_ROOT
from server.grading.confinement.sandbox_cgroup import SERVICE_LEAF
from tests.grading.confinement.test_sandbox_cgroup import SERVICE
from tests.support import attacks, models

pytestmark = pytest.mark.slow

USER = "tfexam-learner"

SCRIPT = """
import json, os, sys
from pathlib import Path
from server.grading.trusted.local import LocalGrader
from server.grading.trusted.scorer import GradingJob
scratch = Path(sys.argv[1])
grader = LocalGrader(scratch / "grader", mode="bwrap")
def job(path):
    return GradingJob(path, "savedmodel" if path.is_dir() else "h5", "regression", [1], [1], None,
                      "mse", {"kind": "bands", "higher_is_better": False,
                              "thresholds": [10, 1, 0.1, 0.01, 0.001]}, scratch / "line.npz")
honest = grader.grade(job(scratch / "line.h5"))
attack = grader.grade(GradingJob(scratch / "writer", "savedmodel", "classification", [2], [3],
                                 "softmax", "accuracy", {"kind": "bands", "higher_is_better": True,
                                 "thresholds": [0.2, 0.4, 0.6, 0.8, 0.9]}, scratch / "blobs.npz"))
counting = grader.grade(GradingJob(scratch / "counter", "savedmodel", "classification", [2], [3],
                                   "softmax", "accuracy", {"kind": "bands", "higher_is_better": True,
                                   "thresholds": [0.2, 0.4, 0.6, 0.8, 0.9]}, scratch / "ordered.npz"))
grader.close()
print(json.dumps({"uid": os.getuid(), "isolation": grader.plan.isolation.model_dump(),
                  "honest": honest.model_dump(mode="json"), "attack": attack.model_dump(mode="json"),
                  "counting": counting.model_dump(mode="json")}))
"""


HOSTILE = """
import json, os, sys
from pathlib import Path
from server.grading.confinement import sandbox
from tests.grading.confinement import hostile
from tests.grading.confinement.test_hostile_native_code import FORKS, LIMITS
scratch = Path(sys.argv[1])
out = {"uid": os.getuid()}
for mode in ("bwrap", "landlock"):
    folder = scratch / mode
    folder.mkdir()
    plan = sandbox.plan(folder, mode)
    planted = hostile.plant(folder)
    try:
        seen, reached, escaped = hostile.attack_planted(plan, folder, planted, FORKS, LIMITS)
    finally:
        planted.close()
    out[mode] = {"seen": seen, "reached": reached, "escaped": escaped,
                 "memory": plan.isolation.memory, "warning": plan.isolation.warning}
print(json.dumps(out))
"""


def _unreadable_ancestors(path: Path, uid: int) -> list[Path]:
    """Folders on the way to `path` that the user cannot enter (e.g. /root, mode 0700)."""
    blocked = []
    for folder in [*reversed(Path(path).parents), Path(path)]:
        info = folder.stat()
        if info.st_uid != uid and not info.st_mode & 0o001:
            blocked.append(folder)
    return blocked


@pytest.fixture(scope="module")
def learner():
    if os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("unshare") is None:
        pytest.skip("creating a user and a mount namespace needs root (CI runs as root)")
    created = False
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                       check=True)
        created = True
    yield pwd.getpwnam(USER)
    if created:
        subprocess.run(["userdel", USER], check=False)


def _wrapper(user: pwd.struct_passwd, stage: Path, needed: list[Path]) -> str:
    """Shell run as root in a new mount namespace: hide each folder the user cannot enter behind
    a tmpfs that holds only the needed paths inside it (bound read-only), then drop to the user."""
    hidden: dict[Path, list[Path]] = {}
    for path in needed:
        blocked = _unreadable_ancestors(path, user.pw_uid)
        if blocked:
            hidden.setdefault(blocked[0], []).append(path)
    lines = ["set -e"]
    for index, (blocked, paths) in enumerate(hidden.items()):
        keeps = [stage / f"keep{index}-{n}" for n in range(len(paths))]
        for keep, path in zip(keeps, paths, strict=True):
            lines += [f"mkdir -p {keep}", f"mount --bind {path} {keep}"]
        lines.append(f"mount -t tmpfs -o mode=755 tmpfs {blocked}")
        for keep, path in zip(keeps, paths, strict=True):
            lines += [f"mkdir -p {path}", f"mount --bind -o ro {keep} {path}"]
    return "\n".join(lines)


def test_grading_as_an_unprivileged_user(learner: pwd.struct_passwd) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="tfexam-learner-", dir="/tmp"))
    stage = Path(tempfile.mkdtemp(prefix="tfexam-stage-", dir="/tmp"))
    try:
        xs = np.asarray([[10.0], [-4.0], [7.5]], dtype="float32")
        write_heldout(scratch / "line.npz", x=xs, y=2 * xs - 1)
        write_heldout(scratch / "blobs.npz", x=np.eye(3, 2, dtype="float32"), y=np.arange(3))
        models.save(models.line_model(), scratch / "line.h5")
        # Held out in label order, as photo folders are read: a model that counts its calls
        # must still score at chance when the job runs as an ordinary user (issue 22, item 7).
        write_heldout(scratch / "ordered.npz", x=np.zeros((300, 2), "float32"),
                      y=np.repeat(np.arange(3), 100))
        attacks.counter(scratch / "counter", total=300)
        home_of_user = scratch / "home"
        home_of_user.mkdir()
        attacks.writer([str(home_of_user / "planted.txt"), str(scratch / "planted.txt")],
                       scratch / "writer")
        subprocess.run(["chown", "-R", f"{learner.pw_uid}:{learner.pw_gid}", str(scratch)],
                       check=True)
        # The interpreter, the virtual environment and tfexam's code, wherever they live.
        needed = sorted({Path(os.path.realpath(p)) for p in (sys.base_prefix, sys.prefix,
                                                              CODE_ROOT)})
        needed = [p for p in needed if not any(q in p.parents for q in needed)]
        script = (_wrapper(learner, stage, needed) + "\n" +
                  f"exec setpriv --reuid={learner.pw_uid} --regid={learner.pw_gid} --clear-groups "
                  f"env -i PATH=/usr/bin:/bin HOME={home_of_user} PYTHONPATH={CODE_ROOT} "
                  f"TF_CPP_MIN_LOG_LEVEL=2 {sys.executable} -c '{SCRIPT}' {scratch}")
        done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                              capture_output=True, text=True, timeout=600, cwd=scratch)
        assert done.returncode == 0, done.stderr[-3000:]
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        assert seen["uid"] == learner.pw_uid != 0
        assert seen["isolation"]["sandboxed"] is True, seen["isolation"]
        assert seen["honest"]["status"] == "graded" and seen["honest"]["score"] == 5, seen["honest"]
        assert seen["attack"]["status"] == "evaluation_error", seen["attack"]
        assert seen["counting"]["status"] == "graded", seen["counting"]
        assert seen["counting"]["value"] < 0.5, seen["counting"]  # 1.0 in label order
        assert not (home_of_user / "planted.txt").exists()
        assert not (scratch / "planted.txt").exists()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)


def _as_learner(user: pwd.struct_passwd, script: str, scratch: Path, stage: Path,
                *args: str, before: str = "", stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run `script` (python source) as the user, with what it must read made readable; `before`
    is shell run as root first, in the process that then becomes the user's."""
    needed = sorted({Path(os.path.realpath(p)) for p in (sys.base_prefix, sys.prefix, CODE_ROOT)})
    needed = [p for p in needed if not any(q in p.parents for q in needed)]
    wrapper = (_wrapper(user, stage, needed) + "\n" + before + "\n" +
               f"exec setpriv --reuid={user.pw_uid} --regid={user.pw_gid} --clear-groups "
               f"env -i PATH=/usr/bin:/bin HOME={scratch} PYTHONPATH={CODE_ROOT} "
               f"TF_CPP_MIN_LOG_LEVEL=2 {sys.executable} -c '{script}' {' '.join(args or [str(scratch)])}")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", wrapper],
                          capture_output=True, text=True, timeout=600, cwd=scratch, input=stdin)


def test_native_code_attacks_as_an_unprivileged_user(learner: pwd.struct_passwd) -> None:
    """The attacks of test_hostile_native_code, with the service run by an ordinary user: in
    bubblewrap (RLIMIT_NPROC counts the sandbox's user namespace) and in the fallback (no
    cgroup for this user here: RLIMIT_NPROC over the user's processes, the reaper for what a
    setsid + double fork left)."""
    from tests.grading.confinement.test_hostile_native_code import check

    scratch = Path(tempfile.mkdtemp(prefix="tfexam-learner-", dir="/tmp"))
    stage = Path(tempfile.mkdtemp(prefix="tfexam-stage-", dir="/tmp"))
    try:
        subprocess.run(["chown", "-R", f"{learner.pw_uid}:{learner.pw_gid}", str(scratch)],
                       check=True)
        done = _as_learner(learner, HOSTILE, scratch, stage)
        assert done.returncode == 0, done.stderr[-3000:]
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        assert seen["uid"] == learner.pw_uid != 0
        for mode in ("bwrap", "landlock"):
            for pid in seen[mode]["escaped"]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            check(mode, seen[mode]["seen"], seen[mode]["reached"], seen[mode]["escaped"])
        warning = seen["landlock"]["warning"]
        assert "RLIMIT_NPROC counts all of your user's processes, not the sandbox's" in warning, warning
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)


def test_a_delegated_cgroup2_subtree_as_an_unprivileged_user(learner: pwd.struct_passwd,
                                                             cgroup2) -> None:
    """A cgroup delegated to the user as systemd delegates one (the folder and its cgroup.procs,
    subtree_control and threads files are the user's), with the user's service in it: the
    service, as that user, moves itself into a leaf and hands the controller to its cgroup's
    children, on this kernel's real cgroup2 hierarchy."""
    root, own, controller = cgroup2
    for path in (own, own / "cgroup.procs", own / "cgroup.subtree_control",
                 own / "cgroup.threads"):
        os.chown(path, learner.pw_uid, learner.pw_gid)
    scratch = Path(tempfile.mkdtemp(prefix="tfexam-learner-", dir="/tmp"))
    stage = Path(tempfile.mkdtemp(prefix="tfexam-stage-", dir="/tmp"))
    try:
        done = _as_learner(learner, SERVICE, scratch, stage, str(own), controller,
                           before=f"echo $$ > {own}/cgroup.procs", stdin="go\ngo\n")
        assert done.returncode == 0, done.stderr[-3000:]
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        assert seen["result"] == str(own), seen
        assert seen["cgroup"] == f"/{own.relative_to(root)}/{SERVICE_LEAF}{seen['pid']}"
        assert controller in seen["subtree"]
        leaf = own / f"{SERVICE_LEAF}{seen['pid']}"
        assert leaf.stat().st_uid == learner.pw_uid  # made by the user: tfexam's own, for later
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)
