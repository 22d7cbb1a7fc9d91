"""Issue 22, items 2 and 4 as an ordinary user (learners run tfexam so): the seccomp filter's
refusals from inside real sandboxes (bubblewrap as installed, Debian 11's bubblewrap 0.4.1, the
fallback), a real model graded under bubblewrap 0.4.1, and Ubuntu's AppArmor restriction of user
namespaces detected and explained. Run as in test_unprivileged.py: a user the test creates, in a
private mount namespace where only the interpreter, the code and the older bwrap are visible of
/root; nothing on the machine itself is changed."""

from __future__ import annotations

import json
import os
import platform
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from server.datasets.base import write_heldout
from server.grading.confinement.sandbox import CODE_ROOT
from tests.grading.confinement.test_unprivileged import _wrapper, learner  # noqa: F401
from tests.support import models
from tests.support.native_calls import FILTER_ANSWERS, as_filter_answers
from tests.support.old_bubblewrap import old_bwrap_dir

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    platform.machine() != "x86_64", reason="the calls are written with x86_64's numbers")]

CALLS_AND_GRADE = """
import json, os, sys
from pathlib import Path
from server.grading.trusted.local import LocalGrader
from server.grading.trusted.scorer import GradingJob
from tests.grading.confinement.test_seccomp_live import calls_inside
from server.grading.confinement import sandbox
scratch, old = Path(sys.argv[1]), sys.argv[2]
plain_path = os.environ["PATH"]
seen = {}
for mode, path in (("bwrap", plain_path), ("bwrap-0.4.1", old + ":" + plain_path),
                   ("landlock", plain_path)):
    os.environ["PATH"] = path
    plan = sandbox.plan(scratch / mode, mode.split("-")[0])
    seen[mode] = {"kind": plan.kind, "version": plan.bwrap.version if plan.bwrap else None,
                  "calls": calls_inside(plan, scratch / mode)}
os.environ["PATH"] = old + ":" + plain_path
grader = LocalGrader(scratch / "grader", mode="bwrap")
honest = grader.grade(GradingJob(scratch / "line.h5", "h5", "regression", [1], [1], None, "mse",
                                 {"kind": "bands", "higher_is_better": False,
                                  "thresholds": [10, 1, 0.1, 0.01, 0.001]}, scratch / "line.npz"))
grader.close()
print(json.dumps({"uid": os.getuid(), "seen": seen, "isolation": grader.plan.isolation.model_dump(),
                  "honest": honest.model_dump(mode="json")}))
"""

# A kernel that refuses this user any new user namespace, as Ubuntu's AppArmor restriction does
# to bubblewrap: a user namespace of the user's own whose limit of nested ones is 0 (the uid stays
# the user's); the restriction's setting is read from a fake /proc tree.
REFUSED_USERNS = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
uid, gid = os.getuid(), os.getgid()
if libc.unshare(0x10000000) != 0:
    raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER)")
for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                   ("gid_map", f"{gid} {gid} 1")):
    with open(f"/proc/self/{name}", "w") as file:
        file.write(text)
with open("/proc/sys/user/max_user_namespaces", "w") as file:
    file.write("0")
os.execv(sys.executable, [sys.executable, "-c", sys.argv[1], *sys.argv[2:]])
"""
PLANS_UNDER_APPARMOR = """
import json, sys
from pathlib import Path
from server.grading.confinement import bubblewrap, sandbox
scratch = Path(sys.argv[1])
setting = scratch / "proc/sys/kernel/apparmor_restrict_unprivileged_userns"
setting.parent.mkdir(parents=True)
bubblewrap.PROC = scratch / "proc"
plans = {}
for value in ("1", "0"):
    setting.write_text(value + "\\n")
    plan = sandbox.plan(scratch / value)
    plans[value] = {"kind": plan.kind, **plan.isolation.model_dump()}
print(json.dumps(plans))
"""


def _run_as(user: pwd.struct_passwd, scratch: Path, needed: list[Path], code: str,
            *args: str) -> dict:
    stage = Path(tempfile.mkdtemp(prefix="tfexam-stage-", dir="/tmp"))
    try:
        needed = sorted({Path(os.path.realpath(p)) for p in needed})
        needed = [p for p in needed if not any(q in p.parents for q in needed)]
        quoted = " ".join(f"'{arg}'" for arg in args)
        script = (_wrapper(user, stage, needed) + "\n" +
                  f"exec setpriv --reuid={user.pw_uid} --regid={user.pw_gid} --clear-groups "
                  f"env -i PATH=/usr/bin:/bin HOME={scratch} PYTHONPATH={CODE_ROOT} "
                  f"TF_CPP_MIN_LOG_LEVEL=2 {sys.executable} -c '{code}' {quoted}")
        done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               script], capture_output=True, text=True, timeout=600, cwd=scratch)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@pytest.fixture
def scratch(learner: pwd.struct_passwd):  # noqa: F811
    folder = Path(tempfile.mkdtemp(prefix="tfexam-learner-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _code_paths() -> list[Path]:
    return [Path(sys.base_prefix), Path(sys.prefix), CODE_ROOT]


def test_filter_and_older_bubblewrap_as_an_ordinary_user(learner: pwd.struct_passwd,  # noqa: F811
                                                         scratch: Path) -> None:
    old = old_bwrap_dir()
    xs = np.asarray([[10.0], [-4.0], [7.5]], dtype="float32")
    write_heldout(scratch / "line.npz", x=xs, y=2 * xs - 1)
    models.save(models.line_model(), scratch / "line.h5")
    subprocess.run(["chown", "-R", f"{learner.pw_uid}:{learner.pw_gid}", str(scratch)], check=True)
    out = _run_as(learner, scratch, [*_code_paths(), old], CALLS_AND_GRADE, str(scratch), str(old))
    assert out["uid"] == learner.pw_uid != 0
    for mode, seen in out["seen"].items():
        assert seen["kind"] == mode.split("-")[0], (mode, seen)
        calls = seen["calls"]
        assert calls.pop("seccomp") == "filter active" and calls.pop("uid") != 0, mode
        assert as_filter_answers(calls) == FILTER_ANSWERS, mode
    assert out["seen"]["bwrap-0.4.1"]["version"] == "bubblewrap 0.4.1"
    isolation = out["isolation"]
    assert isolation["sandboxed"] and isolation["how"].startswith("bubblewrap 0.4.1: "), isolation
    assert "refused by the seccomp filter: bubblewrap 0.4.1 has no --disable-userns" in (
        isolation["how"])
    assert out["honest"]["status"] == "graded" and out["honest"]["score"] == 5, out["honest"]


def test_apparmors_userns_restriction_is_explained(learner: pwd.struct_passwd,  # noqa: F811
                                                   scratch: Path) -> None:
    subprocess.run(["chown", "-R", f"{learner.pw_uid}:{learner.pw_gid}", str(scratch)], check=True)
    plans = _run_as(learner, scratch, _code_paths(), REFUSED_USERNS, PLANS_UNDER_APPARMOR,
                    str(scratch))
    restricted, open_ = plans["1"], plans["0"]
    assert restricted["kind"] == open_["kind"] == "landlock"  # bwrap was refused by the kernel
    assert not restricted["sandboxed"]
    warning = restricted["warning"]
    assert "kernel.apparmor_restrict_unprivileged_userns = 1" in warning, warning
    assert "profile bwrap /usr/bin/bwrap flags=(unconfined) { userns, }" in warning, warning
    assert "sudo apparmor_parser -r /etc/apparmor.d/bwrap" in warning, warning
    assert "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in warning, warning
    assert "AppArmor" not in open_["warning"], open_["warning"]  # read from the setting, not assumed
