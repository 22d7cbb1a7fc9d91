"""The photo stand-in: deterministic, folder-per-class, cached by version+seed+size, and labelled."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from server.datasets.base import PrepareContext
from server.datasets.photos import cached_standin, prepare_photos
from server.datasets.standin import generate


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.jpg")):
        digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_same_seed_same_images_other_seed_other_images(tmp_path: Path) -> None:
    generate(tmp_path / "a", ["circle", "cross"], 3, 64, seed=5)
    generate(tmp_path / "b", ["circle", "cross"], 3, 64, seed=5)
    generate(tmp_path / "c", ["circle", "cross"], 3, 64, seed=6)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b") != _digest(tmp_path / "c")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["circle", "cross"]
    with Image.open(next((tmp_path / "a" / "circle").iterdir())) as image:
        assert image.size == (64, 64) and image.mode == "RGB"


def test_second_use_comes_from_the_cache(tmp_path: Path) -> None:
    counts = {"train": 2, "validation": 1, "heldout": 2}
    first, reused = cached_standin(tmp_path, ["ring", "star"], 3, 48, counts)
    assert not reused
    again, reused = cached_standin(tmp_path, ["ring", "star"], 3, 48, counts)
    assert reused and again == first
    other, _ = cached_standin(tmp_path, ["ring", "star"], 4, 48, counts)
    assert other != first


def test_photos_fall_back_to_a_labelled_stand_in(tmp_path: Path) -> None:
    ctx = PrepareContext(
        question_dir=tmp_path / "Category3", heldout_path=tmp_path / "held" / "Category3.npz",
        params={"dataset": "rps", "image_size": 40, "standin_classes": ["circle", "cross", "square"],
                "standin_seed": 1, "standin_counts": {"train": 3, "validation": 2, "heldout": 4}},
        seed=0, cache_dir=tmp_path / "cache", mirror=None)
    provenance = prepare_photos(ctx)
    assert provenance.source == "standin"
    assert "offline stand-in" in provenance.title
    assert "downloads are off" in provenance.note
    assert "offline stand-in" in (ctx.question_dir / "data" / "STANDIN.md").read_text()
    assert len(list((ctx.question_dir / "data" / "train" / "cross").iterdir())) == 3
    with np.load(ctx.heldout_path) as held:
        assert held["x"].shape == (12, 40, 40, 3) and held["x"].dtype == np.float32
        assert held["x"].max() <= 1.0
        assert held["y"].tolist() == [0] * 4 + [1] * 4 + [2] * 4
        assert held["class_names"].tolist() == ["circle", "cross", "square"]
