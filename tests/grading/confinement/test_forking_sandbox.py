"""A bubblewrap sandbox imports TensorFlow once and forks a child per job (worker/zygote.py): job
after job is graded without a new import, and nothing one job's model leaves behind (files in its
temporary folders, processes) reaches the next job. Real sandboxes, real SavedModels whose graphs
write files with TensorFlow's own C++ ops."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from server.datasets.base import write_heldout
from server.grading.confinement import sandbox
from server.grading.trusted.local import LocalGrader
from tests.grading.trusted.test_scorer import _job, line_job
from tests.support import attacks
from tests.support.live_server import ROOT

pytestmark = pytest.mark.slow

PLANTED = ["/tmp/planted", "/dev/shm/planted"]  # the job's HOME, TMPDIR and KERAS_HOME are /tmp


@pytest.fixture
def forking(tmp_path: Path, keras_home) -> LocalGrader:
    scratch = tmp_path / "grader"
    if sandbox.plan(scratch).kind != "bwrap":
        pytest.skip("bubblewrap cannot run here: sandboxes serve one job each")
    grader = LocalGrader(scratch, warm=1)
    yield grader
    grader.close()


def _planter(dest: Path) -> Path:
    """Writes files where the next job would look, then answers honestly (so it is graded and its
    sandbox is used again)."""
    import tensorflow as tf

    def serve(x):
        for target in PLANTED:
            tf.io.write_file(target, "left by an earlier job\n")
        return attacks._answer(x, 0.0)

    return attacks._save(serve, dest)


def _blobs(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    write_heldout(tmp_path / "b.npz", x=rng.normal(size=(30, 2)).astype("float32"),
                  y=rng.integers(0, 3, 30))
    return tmp_path / "b.npz"


def test_job_after_job_is_graded_without_importing_tensorflow_again(forking: LocalGrader,
                                                                    tmp_path: Path) -> None:
    job = line_job(tmp_path)
    outcomes = [forking.grade(job) for _ in range(4)]
    assert [o.score for o in outcomes] == [5] * 4
    assert forking.pool.starts == 1  # one TensorFlow import for four jobs
    assert all(o.timings["sandbox_wait"] < 1.0 for o in outcomes[1:])


def test_nothing_a_job_leaves_reaches_the_next_job(forking: LocalGrader, tmp_path: Path) -> None:
    heldout = _blobs(tmp_path)
    planter = _job(_planter(tmp_path / "planter"), heldout)
    for target in PLANTED:
        sandbox_pid = _ready_pid(forking)
        planted = forking.grade(planter)
        assert planted.status == "graded", planted  # its writes went through, in its own /tmp
        assert _ready_pid(forking) == sandbox_pid  # and its sandbox takes the next job
        looked = forking.grade(_job(attacks.reader(target, tmp_path / "reader"), heldout))
        # Found, the file's size would poison the answer (NaN); gone, the read fails.
        assert looked.status == "evaluation_error", (target, looked)
        assert "NotFoundError" in looked.messages[0], (target, looked.messages)


def _ready_pid(grader: LocalGrader) -> int:
    deadline = time.monotonic() + 120
    while grader.pool.warm_pid is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert grader.pool.warm_pid is not None
    return grader.pool.warm_pid


INIT = """
import os, subprocess, sys
child = subprocess.Popen([sys.argv[1], "-c", *sys.argv[2:]])
while True:
    pid, status = os.wait()
    if pid == child.pid:
        sys.exit(os.waitstatus_to_exitcode(status))
"""
STRAYS = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from server.grading.sandboxed import zygote
if os.fork() == 0:          # a process a job left behind, in a session of its own
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)
    os._exit(0)
time.sleep(0.3)
print(len(zygote.others()), zygote._remove_strays() or "clean", len(zygote.others()))
"""


def test_the_zygote_kills_what_a_job_left_running(tmp_path: Path) -> None:
    """A double-forked, setsid process survives its job's child; the zygote's sweep ends it."""
    if shutil.which("unshare") is None:
        pytest.skip("util-linux's unshare is not installed")
    wrapper = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc"]
    ran = subprocess.run([*wrapper, sys.executable, "-c", "import os; print(os.getpid())"],
                         capture_output=True, text=True)
    if ran.returncode != 0:
        pytest.skip(f"no PID namespace here: {ran.stderr.strip()}")
    # A zygote is never its namespace's init: bubblewrap is, and reaps whatever ends. Here a
    # small init does the same, and the script runs as its child.
    done = subprocess.run([*wrapper, sys.executable, "-c", INIT, sys.executable, STRAYS, str(ROOT)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    before, verdict, after = done.stdout.split()
    assert int(before) >= 1 and verdict == "clean" and after == "0", done.stdout
