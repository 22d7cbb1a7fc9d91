"""Issue 22, item 6: nothing a model returns grows the service's memory beyond what its question
can need. A reply is held to its request's allowance (a series window's: one value per step) and
refused while it is read, before it is buffered whole; a reply nobody asked for ends the job.

Measured on this process, where the trusted scorer runs (the sandbox is a child): its resident
memory is sampled while a job is graded. Before the bound, the UpSampling1D model of the issue,
built of Keras layers only, grew the service by 885 MB in 12 windows."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from server.datasets.base import write_heldout
from server.grading import protocol
from server.grading.confinement.sandbox import READ_CHUNK, SandboxLimits, new_sandbox
from server.grading.trusted.local import LocalGrader
from server.grading.trusted.scorer import grade
from tests.grading.confinement.test_sandbox import _plan
from tests.grading.trusted.test_scorer import _job, _series_job
from tests.support import models

MB = 2**20


class PeakGrowth:
    """The largest growth of this process's resident memory while the block runs."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss - self.base)

    def __enter__(self) -> PeakGrowth:
        self.base = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _series(tmp_path: Path) -> Path:
    t = np.arange(400, dtype="float32")
    write_heldout(tmp_path / "s.npz", series=(0.5 + 0.4 * np.sin(t / 10)).astype("float32"),
                  split_time=np.asarray(300), window=np.asarray(30))
    return tmp_path / "s.npz"


@pytest.mark.slow
def test_an_upsampling_model_is_stopped_at_its_first_window(grader: LocalGrader,
                                                            tmp_path: Path) -> None:
    import keras

    inflating = keras.Sequential([keras.Input((None, 1)), keras.layers.UpSampling1D(20_000)])
    path = models.save(inflating, tmp_path / "mymodel.keras")  # 600,000 values per window
    with PeakGrowth() as growth:
        outcome = grader.grade(_series_job(path, _series(tmp_path)))
    assert outcome.status == "evaluation_error", outcome.messages
    assert outcome.messages[0].startswith(
        "The model gave more than 30 values for one window of 30 steps"), outcome.messages
    assert "UpSampling1D" in outcome.messages[0]
    assert growth.peak < 40 * MB, growth.peak / MB  # 100 windows of it: about 700 MB before


# A child of the test's own in the real sandbox (no TensorFlow): it claims the question's shapes,
# then answers its first prediction request with one line of 60 MB (under the old 64 MiB cap per
# line), or, with "flood", sends replies nobody asked for as soon as it is ready.
LIAR = """
import os, socket, sys
from server.grading import protocol
from server.grading.confinement.confine import ConfineSpec, apply
spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
apply(spec)
channel = socket.socket(fileno=spec.channel_fd)
channel.sendall(protocol.encode(protocol.Ready(import_seconds=0.0, versions={}, confinement={})))
unasked = b'{"kind": "predictions", "nonce": "x", "seq": 0, "seconds": 0.0}' + b" " * 2**20
if sys.argv[1] == "flood":
    for _ in range(200):
        channel.sendall(unasked + b"\\n")
shapes = {"series": ([None, 30, 1], [None, 1], None), "classification": ([None, 2], [None, 3],
                                                                         "softmax")}[sys.argv[2]]
for line in channel.makefile("rb"):
    request = protocol.decode_request(line)
    if request.kind == "load":
        channel.sendall(protocol.encode(protocol.ModelReport(
            nonce=request.nonce, seconds=0.0, info=protocol.ModelInfo(
                input_shape=shapes[0], output_shape=shapes[1], final_activation=shapes[2],
                keras="test child"))))
        continue
    channel.sendall(b'{"kind": "predictions", "data": "' + b"A" * (60 * 2**20) + b'"}\\n')
"""


@pytest.mark.parametrize(("behaviour", "task", "mode"), [
    ("huge", "series", "bwrap"), ("huge", "classification", "bwrap"), ("flood", "series", "bwrap"),
    ("huge", "series", "landlock")])
def test_a_reply_is_refused_while_it_is_read(behaviour: str, task: str, mode: str,
                                             tmp_path: Path) -> None:
    snapshot = tmp_path / "mymodel.h5"
    snapshot.write_bytes(b"the test's child never opens it")
    if task == "series":
        job = _series_job(snapshot, _series(tmp_path))
        allowed, sentence = 30, "The model gave more than 30 values for one window of 30 steps"
    else:
        write_heldout(tmp_path / "c.npz", x=np.ones((50, 2), "float32"), y=np.zeros(50, "int64"))
        job = _job(snapshot, tmp_path / "c.npz")
        allowed, sentence = 150, ("The model gave more than 150 values for 50 held-out inputs; "
                                  "this question needs 3 per input, shaped (None, 3)")
    limits = SandboxLimits(start_seconds=60, job_seconds=60)
    box = new_sandbox(_plan(mode, tmp_path), limits, tmp_path / "boxes", tmp_path / "log",
                      command=[sys.executable, "-c", LIAR, behaviour, task])
    try:
        assert box.start() is None
        assert box.wait_ready().kind == "ready"
        if behaviour == "flood":
            time.sleep(1.0)  # its replies arrive before the grader asks anything
        with PeakGrowth() as growth:
            outcome = grade(box, job, limits)
    finally:
        box.destroy()
    if behaviour == "huge":
        assert outcome.status == "evaluation_error", outcome.messages
        assert outcome.messages[0].startswith(sentence), outcome.messages
    else:
        assert outcome.status == "crash" and "a reply nobody asked for" in outcome.messages[0]
    budget = protocol.READY_BYTES + protocol.MODEL_REPORT_BYTES + protocol.predictions_bytes(allowed)
    assert box.reply_bytes <= budget + READ_CHUNK, box.reply_bytes
    assert growth.peak < 20 * MB, growth.peak / MB
