"""One job, start to finish: load -> check the contract -> evaluate -> score.

Every way a learner's file can fail ends here as a result with a sentence, never as an exception
that reaches the parent.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from server.grading.scoring import describe_bands, score
from server.grading.worker import contract
from server.grading.worker.evaluation import TASKS, EvaluationError
from server.grading.worker.loading import ModelLoadError, ModelRefused, load

_heldout_cache: dict[str, dict[str, np.ndarray]] = {}


def heldout(path: str) -> dict[str, np.ndarray]:
    """Held-out arrays stay in memory between jobs: part of what keeps the worker warm."""
    if path not in _heldout_cache:
        with np.load(path, allow_pickle=False) as archive:
            _heldout_cache[path] = {key: archive[key] for key in archive.files}
    return _heldout_cache[path]


def _outcome(job: dict[str, Any], status: str, messages: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": job["id"],
        "status": status,
        "score": extra.pop("score", 0),
        "metric": job["metric"],
        "bands": describe_bands(job["metric"], job["scoring"]),
        "messages": messages,
        **extra,
    }


NAIVE_FACTOR = 1.5


def trivial_cap(points: int, metrics: dict[str, float], scoring: dict[str, Any]) -> str | None:
    """A forecast that does no better than a forecast without a model has learned nothing from the
    series, however kind the exam's formula is to it: on sunspots the formula alone gives 5/5 to
    the constant training mean and to untrained networks. The yardsticks are the constant mean
    and half again the error of repeating the last value, whichever is stricter."""
    if not scoring.get("cap_trivial") or points <= 1 or "constant_mae" not in metrics:
        return None
    yardsticks = {
        "forecasting the training mean every step": metrics["constant_mae"],
        f"{NAIVE_FACTOR:g} × the error of repeating the last value": NAIVE_FACTOR * metrics["naive_mae"],
    }
    name, limit = min(yardsticks.items(), key=lambda item: item[1])
    if metrics["mae"] < limit:
        return None
    return (f"Score 1/5 (the bands alone give {points}/5): MAE = {metrics['mae']:.4g} is no better than "
            f"{name} (MAE {limit:.4g}), so the model has learned nothing from the series. Train it on "
            "the windows until it beats that, and submit again.")


def grade(job: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        loaded = load(Path(job["model_path"]), job["format"])
    except ModelRefused as why:
        return _outcome(job, "refused", [str(why)], timings={"load": time.perf_counter() - started})
    except ModelLoadError as why:
        return _outcome(job, "load_error", [str(why)],
                        timings={"load": time.perf_counter() - started})
    timings["load"] = time.perf_counter() - started
    model_info = {
        "input_shape": contract.shape_text(loaded.input_shape),
        "output_shape": contract.shape_text(loaded.output_shape),
        "final_activation": loaded.final_activation,
        **loaded.summary,
    }
    problems = contract.check(
        loaded, job["input_shape"], job["output_shape"], job.get("final_activation")
    )
    if problems:
        return _outcome(job, "contract_error", [*problems, "Score 0: the grader is strict about "
                        "shapes, as the real exam was."], keras=loaded.keras, model=model_info,
                        timings=timings)
    try:
        data = heldout(job["heldout_path"])
        evaluate_started = time.perf_counter()
        evaluation = TASKS[job["task"]](loaded, data, job["metric"])
        timings["evaluate"] = time.perf_counter() - evaluate_started
    except EvaluationError as why:
        return _outcome(job, "evaluation_error", [str(why)], keras=loaded.keras, model=model_info,
                        timings=timings)
    except Exception as error:  # a model that breaks at predict time is the learner's to fix
        first = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        return _outcome(job, "evaluation_error", [
            f"The model failed while predicting on the held-out data ({type(error).__name__}: "
            f"{first}). Check that it runs on inputs shaped as the question says, then submit "
            "again."], keras=loaded.keras, model=model_info, timings=timings)
    points = score(evaluation.value, job["scoring"])
    verdict = f"Score {points}/5: {evaluation.metric} = {evaluation.value:.4g} on held-out data."
    notes = [n for n in loaded.notes if "exactly one" not in n]
    cap = trivial_cap(points, evaluation.extra, job["scoring"])
    if cap:
        points, verdict = 1, cap
    return _outcome(
        job, "graded", [verdict, *evaluation.messages, *notes], score=points,
        value=evaluation.value, keras=loaded.keras, model=model_info,
        diagnostics={**evaluation.diagnostics, "metrics": evaluation.extra}, timings=timings,
    )
