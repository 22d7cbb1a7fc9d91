"""The official photo zips, when a mirror has them: tiny archives made here stand for them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from server.datasets.base import PrepareContext
from server.datasets.photos import prepare_photos


def _zip(path: Path, top: str, classes: dict[str, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, count in classes.items():
            for i in range(count):
                image = Image.new("RGB", (60, 30), (40 * i % 255, 100, 200))
                local = path.parent / f"tmp-{name}-{i}.png"
                image.save(local)
                archive.write(local, f"{top}{name}/{name}{i}.png")
                local.unlink()


def test_official_zips_from_a_mirror(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    _zip(mirror / "horse-or-human" / "horse-or-human.zip", "", {"horses": 3, "humans": 2})
    _zip(mirror / "horse-or-human" / "validation-horse-or-human.zip", "validation/",
         {"horses": 4, "humans": 4})
    ctx = PrepareContext(question_dir=tmp_path / "Category3", heldout_path=tmp_path / "h" / "c3.npz",
                         params={"dataset": "horse-or-human", "image_size": 32}, seed=0,
                         cache_dir=tmp_path / "cache", mirror=mirror)
    provenance = prepare_photos(ctx)
    assert provenance.source == "mirror" and provenance.train_examples == 5
    data = ctx.question_dir / "data"
    assert sorted(p.name for p in (data / "train").iterdir()) == ["horses", "humans"]
    assert sum(1 for _ in (data / "validation").rglob("*.png")) == 4
    assert not (data / "STANDIN.md").exists()
    with np.load(ctx.heldout_path) as held:
        assert held["x"].shape == (4, 32, 32, 3)
        assert held["class_names"].tolist() == ["horses", "humans"]
    learner_files = {p.name for p in (data / "validation").rglob("*.png")}
    assert len(learner_files) == 4  # the other half is held out, not in the learner's folder
