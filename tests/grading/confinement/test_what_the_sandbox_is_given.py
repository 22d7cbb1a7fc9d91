"""What the trusted side hands a model: its inputs, never the answers. Proved against children of
the test's own, run in the real sandbox in place of the grading child, that see everything the
trusted side sends and fail the job the moment they are given too much. No TensorFlow.

- A series model gets one window at a time, the next only after the last forecast came back, and
  never a value it is asked to forecast (the child forecasts persistence: tomorrow = today).
- A classification model's job folder holds the model and its inputs, nothing else: no labels.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from server.datasets.base import write_heldout
from server.grading.confinement.sandbox import SandboxLimits, new_sandbox
from server.grading.trusted.scorer import grade
from tests.grading.confinement.test_sandbox import _plan
from tests.grading.trusted.test_scorer import _job, _series_job

# The whole series is known to the test; the child only learns it window by window. It knows what
# the next window must start with, so a window that already holds tomorrow's value gives it away.
WATCHER = """
import json, os, socket, sys
import numpy as np
from server.grading import protocol
from server.grading.confinement.confine import ConfineSpec, apply
spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
apply(spec)
channel = socket.socket(fileno=spec.channel_fd)
series = np.asarray(json.loads(sys.argv[1]), dtype="float32")
split, window = int(sys.argv[2]), int(sys.argv[3])
def say(message):
    channel.sendall(protocol.encode(message))
say(protocol.Ready(import_seconds=0.0, versions={}, confinement={}))
reader = channel.makefile("rb")
asked = 0
for line in reader:
    request = protocol.decode_request(line)
    if request.kind == "load":
        say(protocol.ModelReport(nonce=request.nonce, seconds=0.0, info=protocol.ModelInfo(
            input_shape=[None, window, 1], output_shape=[None, 1], final_activation=None,
            keras="test child")))
        continue
    batch = request.inputs.array()
    target = split + asked  # the step this window must forecast
    problem = None
    if batch.shape[0] != 1:
        problem = f"given {batch.shape[0]} windows at once"
    elif not np.allclose(batch[0, :, 0], series[target - window:target]):
        problem = f"window {asked} is not the {window} values before step {target}"
    if problem:
        say(protocol.ChildFailure(nonce=request.nonce, status="evaluation_error", message=problem))
        continue
    asked += 1
    say(protocol.Predictions(nonce=request.nonce, seq=request.seq, seconds=0.0,
                             outputs=protocol.ArrayPayload.of(batch[:, -1, :])))
"""


@pytest.mark.parametrize("mode", ["bwrap", "landlock"])
def test_series_windows_go_one_at_a_time_and_never_hold_their_answer(mode: str,
                                                                     tmp_path: Path) -> None:
    t = np.arange(160, dtype="float32")
    series = (0.5 + 0.4 * np.sin(t / 7)).astype("float32")
    split, window = 120, 30
    write_heldout(tmp_path / "s.npz", series=series, split_time=np.asarray(split),
                  window=np.asarray(window))
    snapshot = tmp_path / "mymodel.h5"
    snapshot.write_bytes(b"the test's child never opens it")
    plan = _plan(mode, tmp_path)
    limits = SandboxLimits(start_seconds=60, job_seconds=60)
    box = new_sandbox(plan, limits, tmp_path / "boxes", tmp_path / "log", command=[
        sys.executable, "-c", WATCHER, json.dumps(series.tolist()), str(split), str(window)])
    try:
        assert box.start() is None
        assert box.wait_ready().kind == "ready"
        outcome = grade(box, _series_job(snapshot, tmp_path / "s.npz"), limits)
    finally:
        box.destroy()
    assert outcome.status == "graded", outcome.messages
    persistence = float(np.mean(np.abs(series[split:] - series[split - 1:-1])))
    assert outcome.value == pytest.approx(persistence, rel=1e-5)  # every step forecast, in order


# Lists the job folder when asked to load, and refuses if it holds more than the model and the
# inputs, or if the inputs file carries anything but the inputs (the labels travel in the .npz).
LISTER = """
import os, socket
import numpy as np
from server.grading import protocol
from server.grading.confinement.confine import ConfineSpec, apply
spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
apply(spec)
channel = socket.socket(fileno=spec.channel_fd)
def say(message):
    channel.sendall(protocol.encode(message))
say(protocol.Ready(import_seconds=0.0, versions={}, confinement={}))
job = os.environ["TFEXAM_JOB_DIR"]
for line in channel.makefile("rb"):
    request = protocol.decode_request(line)
    if request.kind == "load":
        names = sorted(os.listdir(job))
        if names != sorted([request.model, "inputs.npy"]):
            say(protocol.ChildFailure(nonce=request.nonce, status="load_error",
                                      message=f"the job folder holds {names}"))
            continue
        say(protocol.ModelReport(nonce=request.nonce, seconds=0.0, info=protocol.ModelInfo(
            input_shape=[None, 2], output_shape=[None, 3], final_activation="softmax",
            keras="test child")))
        continue
    x = np.load(os.path.join(job, request.inputs_file), allow_pickle=False)
    scores = np.zeros((len(x), 3), dtype="float32")
    scores[:, 0] = 1.0
    say(protocol.Predictions(nonce=request.nonce, seq=request.seq, seconds=0.0,
                             outputs=protocol.ArrayPayload.of(scores)))
"""


def test_a_classification_job_folder_holds_the_model_and_its_inputs_only(tmp_path: Path) -> None:
    x = np.asarray([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]] * 10, dtype="float32")
    y = np.asarray([0, 1, 2] * 10)
    write_heldout(tmp_path / "c.npz", x=x, y=y, class_names=np.asarray(["a", "b", "c"]))
    snapshot = tmp_path / "mymodel.keras"
    snapshot.write_bytes(b"the test's child never opens it")
    limits = SandboxLimits(start_seconds=60, job_seconds=60)
    box = new_sandbox(_plan("bwrap", tmp_path), limits, tmp_path / "boxes", tmp_path / "log",
                      command=[sys.executable, "-c", LISTER])
    try:
        assert box.start() is None
        assert box.wait_ready().kind == "ready"
        outcome = grade(box, _job(snapshot, tmp_path / "c.npz"), limits)
    finally:
        box.destroy()
    assert outcome.status == "graded", outcome.messages
    assert outcome.value == pytest.approx(1 / 3)  # class "a" for all: a third right
