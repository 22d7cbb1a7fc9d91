"""The order in which held-out inputs reach the sandbox: drawn per job, known only here.

Held-out sets are stored in a fixed order, often by label (a photo question's test folders are
read class by class). A model that knew that order could answer without looking at its inputs: a
SavedModel with a counter variable scored 100 % on random images. So each job's inputs are written
in an order drawn from the operating system's randomness for that job alone, the model's answers
are put back in the stored order here, on the trusted side, and the order is never written down
where the child can read it. A series is not permuted: its windows go one at a time, in time
order, each only after the previous forecast came back (`scorer.forecast_one_at_a_time`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import numpy as np


def draw(count: int) -> np.ndarray:
    """A permutation of range(count) that no one outside this process can predict."""
    return np.random.default_rng(secrets.randbits(128)).permutation(count)


def write_inputs(x: np.ndarray, order: np.ndarray, target: Path) -> None:
    """The inputs in the job's order, as an `.npy` the sandbox's user can read (a new file per
    job: the permuted copy costs one write of the inputs, about 30 MB for Fashion-MNIST)."""
    with open(target, "xb") as handle:
        np.save(handle, x[order], allow_pickle=False)
    os.chmod(target, 0o644)


def restore(predictions: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The predictions in the stored order: row i answered input order[i]. Predictions of the
    wrong length are returned as they are, for the scorer to explain."""
    if predictions.ndim == 0 or len(predictions) != len(order):
        return predictions
    restored = np.empty_like(predictions)
    restored[order] = predictions
    return restored
