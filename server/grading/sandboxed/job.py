"""The one job a sandboxed child serves: load the model once, then predict what it is asked.

Every way a learner's file can fail ends as a `ChildFailure` with a sentence, never as an exception
that reaches the channel. The first request fixes the nonce; a request with any other nonce ends
the child (the parent then reports the job as failed), so one child can never answer two jobs.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from server.grading import protocol
from server.grading.protocol import ChildFailure, LoadRequest, ModelReport, Predictions, PredictRequest
from server.grading.sandboxed.loading import LoadedModel, ModelLoadError, ModelRefused, load


def _first_line(error: BaseException) -> str:
    """The line that says what went wrong; TensorFlow's graph errors put it last."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].startswith("Graph execution error") and len(lines) > 1:
        return lines[-1][:300]
    return lines[0][:300]


class Job:
    def __init__(self, job_dir: Path) -> None:
        self.job_dir = job_dir
        self.nonce: str | None = None
        self.model: LoadedModel | None = None

    def _inside(self, name: str) -> Path:
        path = (self.job_dir / name).resolve()
        if path.parent != self.job_dir.resolve():
            raise ModelLoadError(f"{name} is not in the job folder")
        return path

    def handle(self, line: bytes) -> ModelReport | Predictions | ChildFailure | None:
        try:
            request = protocol.decode_request(line)
        except ValueError:
            return None
        if self.nonce is None:
            self.nonce = request.nonce
        elif request.nonce != self.nonce:
            return None
        if isinstance(request, LoadRequest):
            return self._load(request)
        return self._predict(request)

    def _load(self, request: LoadRequest) -> ModelReport | ChildFailure:
        started = time.perf_counter()
        if self.model is not None:
            return ChildFailure(nonce=request.nonce, status="load_error",
                                message="The grader asked to load a second model in one job.")
        try:
            self.model = load(self._inside(request.model), request.format, request.limits)
        except ModelRefused as why:
            return ChildFailure(nonce=request.nonce, status="refused", message=str(why)[:2000])
        except ModelLoadError as why:
            return ChildFailure(nonce=request.nonce, status="load_error", message=str(why)[:2000])
        except Exception as error:  # a loader failing in a way nobody foresaw is still a sentence
            return ChildFailure(nonce=request.nonce, status="load_error", message=(
                f"{request.model} could not be loaded ({type(error).__name__}: "
                f"{_first_line(error)}). Save it again with model.save(...) and submit.")[:2000])
        return ModelReport(nonce=request.nonce, info=self.model.info,
                           seconds=round(time.perf_counter() - started, 4))

    def _predict(self, request: PredictRequest) -> Predictions | ChildFailure:
        started = time.perf_counter()
        if self.model is None:
            return ChildFailure(nonce=request.nonce, status="evaluation_error",
                                message="The grader asked for predictions before loading a model.")
        try:
            if request.inputs_file is not None:
                x = np.load(self._inside(request.inputs_file), allow_pickle=False)
            elif request.inputs is not None:
                x = request.inputs.array()
            else:
                raise ValueError("no inputs")
            outputs = np.asarray(self.model.predict(x))
            if outputs.dtype not in (np.float32, np.float64):
                outputs = outputs.astype("float32")
        except Exception as error:  # a model that breaks at predict time is the learner's to fix
            return ChildFailure(nonce=request.nonce, status="evaluation_error", message=(
                f"The model failed while predicting on the held-out data ({type(error).__name__}: "
                f"{_first_line(error)}). Check that it runs on inputs shaped as the question says, "
                "then submit again.")[:2000])
        return Predictions(nonce=request.nonce, seq=request.seq,
                           outputs=protocol.ArrayPayload.of(outputs),
                           seconds=round(time.perf_counter() - started, 4))
