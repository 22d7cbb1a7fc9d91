"""Category5's data: sunspots and Melbourne's daily minimum temperatures.

As in the real exam, the learner gets the whole series file; the grader scores forecasts of the
part after `split_time`, on the series min-max normalised exactly as the starter normalises it.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np

from server.datasets.base import PrepareContext, Provenance, write_heldout
from server.datasets.catalogue import entry
from server.datasets.resolver import completeness, resolve, resolved_provenance


def read_sunspots(path: Path) -> np.ndarray:
    """The value is the third column, as the exam's starter read it."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    return np.asarray([float(row[2]) for row in rows], dtype="float32")


def read_temperatures(path: Path) -> np.ndarray:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    return np.asarray([float(row[1]) for row in rows], dtype="float32")


def normalise(series: np.ndarray) -> np.ndarray:
    """The exam's min-max: subtract the minimum, then divide by the new maximum."""
    shifted = series - np.min(series)
    return (shifted / np.max(shifted)).astype("float32")


READERS = {"sunspots": read_sunspots, "daily-min-temperatures": read_temperatures}


def prepare_series(ctx: PrepareContext) -> Provenance:
    """params: dataset (catalogue name), split_time, window."""
    name = str(ctx.params["dataset"])
    catalogue_entry = entry(name)
    data_file = catalogue_entry.files[0]
    resolved = resolve(catalogue_entry, ctx)
    source = resolved.paths[data_file.name]
    data_dir = ctx.question_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, data_dir / data_file.name)
    series = READERS[name](source)
    split_time, window = int(ctx.params["split_time"]), int(ctx.params["window"])
    write_heldout(ctx.heldout_path, series=normalise(series), split_time=np.asarray(split_time),
                  window=np.asarray(window))
    complete, note = completeness(catalogue_entry, data_file.name, source, len(series))
    return resolved_provenance(catalogue_entry, resolved, train=split_time,
                               heldout=len(series) - split_time, complete=complete, note=note,
                               official_url=data_file.url)
