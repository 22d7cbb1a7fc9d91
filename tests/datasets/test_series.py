"""Series preparer: the learner gets the whole file, the grader the normalised series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from server.datasets.base import PrepareContext
from server.datasets.series import normalise, prepare_series


def test_normalise_is_the_exams_min_max() -> None:
    assert normalise(np.array([2.0, 4.0, 6.0], dtype="float32")).tolist() == [0.0, 0.5, 1.0]


def test_toy_series_from_a_mirror(tmp_path: Path) -> None:
    folder = tmp_path / "mirror" / "sunspots"
    folder.mkdir(parents=True)
    rows = [",Date,Monthly Mean Total Sunspot Number"] + [f"{i},2000-01-31,{i % 7}.5" for i in range(50)]
    (folder / "Sunspots.csv").write_text("\n".join(rows) + "\n")
    ctx = PrepareContext(question_dir=tmp_path / "Category5", heldout_path=tmp_path / "h.npz",
                         params={"dataset": "sunspots", "split_time": 40, "window": 5}, seed=0,
                         cache_dir=tmp_path / "cache", mirror=tmp_path / "mirror")
    provenance = prepare_series(ctx)
    assert (provenance.source, provenance.complete) == ("mirror", False)
    assert (ctx.question_dir / "data" / "Sunspots.csv").read_text().count("\n") == 51
    with np.load(ctx.heldout_path) as held:
        assert held["series"].shape == (50,) and float(held["series"].max()) == 1.0
        assert int(held["split_time"]) == 40 and int(held["window"]) == 5


def test_real_mirror_is_complete(tmp_path: Path) -> None:
    import os

    if not os.environ.get("TFEXAM_DATASETS"):
        pytest.skip("TFEXAM_DATASETS is unset")
    ctx = PrepareContext(question_dir=tmp_path / "q", heldout_path=tmp_path / "h.npz",
                         params={"dataset": "sunspots", "split_time": 3000, "window": 30}, seed=0,
                         cache_dir=tmp_path / "cache", mirror=Path(os.environ["TFEXAM_DATASETS"]))
    provenance = prepare_series(ctx)
    assert (provenance.source, provenance.complete, provenance.heldout_examples) == ("mirror", True, 235)
