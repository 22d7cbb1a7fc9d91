"""The contract every data preparer keeps.

A preparer puts the learner's training data into the question's project folder and writes the
held-out data to an `.npz` under the service's home, which the learner never has. The held-out
records are kept out of the learner's copy, with one exception that fidelity forces: BBC's split
on the complete official file, which is a share of the file's length (see `text.py`). The grading
worker reads only the `.npz`, so it needs no knowledge of CSV, JSON or image folders.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class DatasetUnavailable(Exception):
    """The data cannot be had here; the message says why and what would fix it."""


@dataclass(frozen=True)
class PrepareContext:
    question_dir: Path
    heldout_path: Path
    params: dict[str, Any]
    seed: int
    cache_dir: Path
    mirror: Path | None = None
    keras_home: Path | None = None


@dataclass(frozen=True)
class Provenance:
    """Where a session's data came from; stored with the session and shown in status and report."""

    dataset: str
    title: str
    source: str  # generated | mirror | system | cache | download | standin
    location: str
    complete: bool
    note: str = ""
    licence: str = ""
    official_url: str | None = None
    train_examples: int | None = None
    heldout_examples: int | None = None
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_heldout(path: Path, **arrays: np.ndarray) -> None:
    """Atomic write: a half-written held-out file would make a good model score 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez_compressed(partial, **arrays)
    partial.replace(path)
