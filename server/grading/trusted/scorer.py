"""The trusted scorer: one job, from a snapshot and a warm sandbox to an `Outcome`.

It runs in the service, where the model's code never runs, and holds what the sandbox must not
see: the labels, the values that follow each series window, the metric and the bands. Steps: copy
the snapshot (and the inputs, for questions that have them) into the sandbox's read-only job
folder; ask the child to load the model; check the contract on what it reports; ask for
predictions (a series one window at a time, each only after the previous forecast came back);
check the predictions' own shape; compute the metric and the score. Every reply is checked against
the job's nonce and the request it answers; anything else ends the job as a failure of that job.

Held-out inputs reach the child in an order drawn per job (`secret_order`) and the predictions are
put back here, so an answer that depends on the order of calls scores at chance. Every reply is
held to what its request can need (`protocol.predictions_bytes`): the held-out count times the
question's output size, or for a series one value per step of a window. The sandbox's reader
refuses a longer reply before buffering it and takes one reply per request, so a job holds at most
one reply at a time in the service: for Fashion-MNIST (10,000 inputs x 10 classes) about 1 MB on
the wire and a few times that once decoded; for a series window a few hundred bytes.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from server.grading.confinement.pool import SandboxPool
from server.grading.confinement.sandbox import Sandbox, SandboxFailure, SandboxLimits, new_nonce
from server.grading.protocol import (
    MODEL_REPORT_BYTES,
    ArrayPayload,
    ChildFailure,
    ConfigLimits,
    LoadRequest,
    ModelInfo,
    ModelReport,
    Predictions,
    PredictRequest,
    predictions_bytes,
)
from server.grading.trusted import contract, evaluation, heldout, secret_order, series_forms
from server.grading.trusted.evaluation import EvaluationError
from server.grading.trusted.margin import borderline
from server.grading.trusted.result import Outcome
from server.grading.trusted.scoring import band_thresholds, no_model_warning, score, strict_cap
from server.store.records import QuestionRecord, SubmissionRecord
from server.vocabulary import ResultStatus

INPUTS_NAME = "inputs.npy"


@dataclass(frozen=True)
class GradingJob:
    """What the trusted side needs to grade one submission."""

    snapshot: Path
    format: str
    task: str
    input_shape: list[int | None]
    output_shape: list[int | None]
    final_activation: str | None
    metric: str
    scoring: dict[str, Any]
    heldout_path: Path

    @classmethod
    def of(cls, sub: SubmissionRecord, question: QuestionRecord) -> GradingJob:
        variant = question.variant
        return cls(Path(sub.snapshot_path), sub.format, variant["task"],
                   list(variant["input_shape"]), list(variant["output_shape"]),
                   variant.get("final_activation"), variant["metric"], dict(variant["scoring"]),
                   Path(question.heldout_path))


class _Stopped(Exception):
    """The sandbox ended the job (a limit, a crash, a reply out of turn)."""

    def __init__(self, failure: SandboxFailure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


def _place(source: Path, folder: Path) -> Path:
    """Hard links where possible (no copy, and the sandbox sees them read-only); else a copy."""
    target = folder / source.name
    if source.is_dir():
        def link_or_copy(src: str, dst: str) -> None:
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
        shutil.copytree(source, target, symlinks=False, copy_function=link_or_copy)
    else:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
    return target


class _Conversation:
    """Requests to one sandbox and their replies, each checked against the job's nonce."""

    def __init__(self, sandbox: Sandbox, deadline: float) -> None:
        self.sandbox = sandbox
        self.deadline = deadline
        self.nonce = new_nonce()
        self.seq = 0
        self.predict_seconds = 0.0

    def _ask(self, request: LoadRequest | PredictRequest, reply_limit: int
             ) -> ModelReport | Predictions | ChildFailure:
        failure = self.sandbox.send(request, reply_limit)
        if failure:
            raise _Stopped(failure)
        reply = self.sandbox.receive(self.deadline)
        if isinstance(reply, SandboxFailure):
            raise _Stopped(reply)
        expected = ModelReport if isinstance(request, LoadRequest) else Predictions
        if not isinstance(reply, expected | ChildFailure) or reply.nonce != self.nonce or (
                isinstance(reply, Predictions) and reply.seq != request.seq):  # type: ignore[union-attr]
            self.sandbox.kill()
            raise _Stopped(SandboxFailure("protocol", "the grading process answered out of turn",
                                          self.sandbox.peak_mb))
        return reply

    def load(self, name: str, fmt: str, limits: ConfigLimits) -> ModelReport | ChildFailure:
        reply = self._ask(LoadRequest(nonce=self.nonce, model=name, format=fmt,  # type: ignore[arg-type]
                                      limits=limits), MODEL_REPORT_BYTES)
        assert isinstance(reply, ModelReport | ChildFailure)
        return reply

    def predict(self, values: int, too_many: str, inputs_file: str | None = None,
                inputs: np.ndarray | None = None) -> np.ndarray:
        """Predictions for the inputs, at most `values` numbers of them; more is the learner's
        `too_many` sentence, refused before the reply is buffered whole."""
        request = PredictRequest(nonce=self.nonce, seq=self.seq, inputs_file=inputs_file,
                                 inputs=ArrayPayload.of(inputs) if inputs is not None else None)
        self.seq += 1
        try:
            reply = self._ask(request, predictions_bytes(values))
        except _Stopped as stopped:
            if stopped.failure.kind == "oversized":
                raise EvaluationError(too_many) from None
            raise
        if isinstance(reply, ChildFailure):
            raise EvaluationError(reply.message)
        assert isinstance(reply, Predictions)
        if reply.outputs.size > values:
            raise EvaluationError(too_many)
        self.predict_seconds += reply.seconds
        try:
            return reply.outputs.array()
        except ValueError as error:
            raise _Stopped(SandboxFailure("protocol", f"predictions that do not parse ({error})",
                                          self.sandbox.peak_mb)) from error

    def forecast_one_at_a_time(self, windows: np.ndarray) -> np.ndarray:
        """Each window alone, in time order, the next only after this one's forecast is back."""
        steps = int(windows.shape[1]) if windows.ndim > 1 else 1
        too_many = (f"The model gave more than {steps} values for one window of {steps} steps: a "
                    "forecast is one value per window, or one per step of the window. Keep the "
                    "final Dense(1) layer, with no layer that lengthens the sequence (such as "
                    "UpSampling1D), and submit again.")
        forecasts = []
        for window in windows:
            outputs = self.predict(steps, too_many, inputs=window[np.newaxis])
            if len(outputs) != 1:
                raise EvaluationError(f"The model gave {len(outputs)} forecasts for one window: it "
                                      "must give one output per input window.")
            forecasts.append(outputs[0])
        return np.stack(forecasts) if forecasts else np.zeros((0, 1))


def contract_problems(info: ModelInfo, job: GradingJob) -> list[str]:
    """The contract, with the sentence that closes a refusal. Series questions accept the forms
    the real exam's grader accepted (sequence outputs included); the others their exact shapes."""
    if job.task == "series":
        window = int(job.input_shape[0]) if job.input_shape and job.input_shape[0] else 0
        problems = contract.count_problems(info)
        problems += series_forms.check(info.input_shape, info.output_shape, window)
        closing = "Score 0: the grader could not feed this model the exam's windows."
    else:
        problems = contract.check(info, job.input_shape, job.output_shape, job.final_activation)
        closing = ("Score 0: the grader is strict about shapes, as the real exam's starters warned "
                   "(\"very strict about the shape requirements\").")
    return [*problems, closing] if problems else []


def judge(result: evaluation.Evaluation, scoring: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    """Score, verdict sentence and the result's extra facts: the real formula or the bands; the
    no-model warning (a cap only with the exam's strict option); the 95 % interval and whether a
    band edge lies inside it."""
    points = score(result.value, scoring)
    verdict = f"Score {points}/5: {result.metric} = {result.value:.4g} on held-out data."
    warning = no_model_warning(result.extra, scoring)
    points, capped = strict_cap(points, warning, scoring)
    if capped:
        verdict = capped + f" {result.metric} = {result.value:.4g} on held-out data."
    facts: dict[str, Any] = {"warnings": [warning] if warning else []}
    if result.interval is not None:
        facts["interval"] = result.interval.as_list()
        facts["borderline"] = borderline(result.interval, band_thresholds(scoring))
        verdict += (f" 95 % interval over the held-out set: {facts['interval'][0]:.4g} – "
                    f"{facts['interval'][1]:.4g}" + ("; borderline: a band edge lies inside it."
                                                      if facts["borderline"] else "."))
    return points, verdict, facts


def model_facts(info: ModelInfo) -> dict[str, Any]:
    return {"input_shape": contract.shape_text(info.input_shape),
            "output_shape": contract.shape_text(info.output_shape),
            "final_activation": info.final_activation, "layers": info.layers,
            "parameters": info.parameters}


def outcome_of_failure(failure: SandboxFailure, limits: SandboxLimits, **facts: Any) -> Outcome:
    if failure.kind == "timeout":
        return Outcome.timeout(limits.job_seconds, "" if failure.detail.endswith(" s") else
                               failure.detail, **facts)
    if failure.kind == "memory":
        return Outcome.memory(failure.peak_mb, limits.memory_mb, **facts)
    if failure.kind in ("start", "stalled"):  # tfexam's or the machine's, not the model's
        return Outcome.tfexam_failure(failure.detail, ResultStatus.INFRASTRUCTURE, **facts)
    if failure.kind == "oversized":  # the model's process said more than it was asked
        return Outcome.verdict(ResultStatus.LOAD_ERROR, [
            "The grading process of this model sent a reply larger than the grader reads "
            f"({failure.detail}): a Keras model saved with model.save(...) never does. Save the "
            "model again and submit."], **facts)
    return Outcome.tfexam_failure(failure.detail, ResultStatus.CRASH, peak_memory_mb=round(
        failure.peak_mb, 1), **facts)


# Endings after which a forking sandbox serves the next job: the model was read and answered.
# After anything else (a refusal, a limit, a crash, a protocol breach, tfexam's own failure) the
# sandbox is destroyed, as every sandbox was after its one job.
REUSE_AFTER = frozenset({ResultStatus.GRADED, ResultStatus.CONTRACT_ERROR})


def grade_in_pool(pool: SandboxPool, job: GradingJob, limits: SandboxLimits) -> Outcome:
    """One try in a sandbox from the pool, in a process of this job's own: the one path shared by
    the service and by local grading (calibration, tests), so what they check is what the service
    runs. The sandbox is given back to the pool, which reuses it only after a clean ending."""
    waited = time.perf_counter()
    sandbox = pool.take()
    waited = time.perf_counter() - waited  # nonzero only when saves outrun the warm pool
    if isinstance(sandbox, SandboxFailure):
        return outcome_of_failure(sandbox, limits)
    outcome: Outcome | None = None
    try:
        outcome = grade(sandbox, job, limits)
        outcome.timings["sandbox_wait"] = waited
        return outcome
    finally:
        pool.give_back(sandbox, reusable=outcome is not None and outcome.status in REUSE_AFTER)


def grade(sandbox: Sandbox, job: GradingJob, limits: SandboxLimits,
          config_limits: ConfigLimits | None = None) -> Outcome:
    """Grade one job in one warm sandbox. Never raises: every ending is an Outcome. The caller
    destroys the sandbox afterwards, whatever happened."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    conversation = _Conversation(sandbox, time.monotonic() + limits.job_seconds)
    facts: dict[str, Any] = {}
    try:
        try:
            name = _place(job.snapshot, sandbox.job_dir).name
            data = heldout.load(job.heldout_path)
            order = secret_order.draw(len(data["x"]) if job.task != "series" else 0)
            if job.task != "series":
                secret_order.write_inputs(data["x"], order, sandbox.job_dir / INPUTS_NAME)
        except FileNotFoundError as error:
            return Outcome.tfexam_failure(f"a file it needs is missing ({error.filename})")
        except OSError as error:
            return Outcome.tfexam_failure(f"the model could not be made ready for grading ({error})")
        timings["copy_in"] = time.perf_counter() - started
        report = conversation.load(name, job.format, config_limits or ConfigLimits())
        timings["load"] = time.perf_counter() - started - timings["copy_in"]
        if isinstance(report, ChildFailure):
            return Outcome.verdict(ResultStatus(report.status), [report.message], timings=timings)
        info = report.info
        facts = {"keras": info.keras, "model": model_facts(info)}
        problems = contract_problems(info, job)
        if problems:
            return Outcome.verdict(ResultStatus.CONTRACT_ERROR, problems, timings=timings, **facts)
        evaluate_started = time.perf_counter()
        try:
            if job.task == "series":
                result = evaluation.series(conversation.forecast_one_at_a_time, data, job.metric)
            else:
                per_input = math.prod(d for d in job.output_shape if d is not None)
                predictions = conversation.predict(
                    len(order) * per_input, _too_many(len(order), job.output_shape),
                    inputs_file=INPUTS_NAME)
                _check_outputs(predictions, job.output_shape)
                predictions = secret_order.restore(predictions, order)
                result = evaluation.TASKS[job.task](predictions, data, job.metric)
        except EvaluationError as why:
            timings["evaluate"] = time.perf_counter() - evaluate_started
            return Outcome.verdict(ResultStatus.EVALUATION_ERROR, [str(why)], timings=timings,
                                   **facts)
        timings["evaluate"] = time.perf_counter() - evaluate_started
        timings["predict_in_sandbox"] = conversation.predict_seconds
        points, verdict, judged = judge(result, job.scoring)
        return Outcome.graded(points, result.value, [verdict, *result.messages, *info.notes], **judged,
                              diagnostics={**result.diagnostics, "metrics": result.extra},
                              timings=timings, peak_memory_mb=round(sandbox.peak_mb, 1), **facts)
    except _Stopped as stopped:
        return outcome_of_failure(stopped.failure, limits, timings=timings, **facts)
    except Exception as error:  # a bug of tfexam's own must still end as a result
        return Outcome.tfexam_failure(f"an internal error ({type(error).__name__}: {error})",
                                      timings=timings, **facts)


def _too_many(count: int, output_shape: list[int | None]) -> str:
    per_input = math.prod(d for d in output_shape if d is not None)
    return (f"The model gave more than {count * per_input} values for {count} held-out inputs; "
            f"this question needs {per_input} per input, shaped "
            f"{contract.shape_text([None, *output_shape])}. Keep the final layer as the starter "
            "shows and submit again.")


def _check_outputs(predictions: np.ndarray, output_shape: list[int | None]) -> None:
    """The predictions' own shape, whatever the model claimed about itself."""
    want = [d for d in output_shape if d is not None]
    got = list(predictions.shape[1:])
    if int(np.prod(got or [1])) != int(np.prod(want or [1])):
        raise EvaluationError(
            f"The model's predictions have shape {contract.shape_text([None, *got])}; this question "
            f"needs {contract.shape_text([None, *output_shape])}. Keep the final layer as the starter "
            "shows and submit again.")
