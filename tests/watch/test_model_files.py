"""Completeness by the format's own end marker, and hashing of files and folders."""

from __future__ import annotations

from pathlib import Path

from server.watch.model_files import ModelFile, candidates, is_complete, match, present, sha256_of
from tests.support import models


def test_complete_and_incomplete_files(tmp_path: Path) -> None:
    h5 = models.save(models.line_model(), tmp_path / "mymodel.h5")
    keras_file = models.save(models.line_model(), tmp_path / "mymodel.keras")
    folder = models.save(models.line_model(), tmp_path / "mymodel")
    assert is_complete(ModelFile(h5, "h5"))
    assert is_complete(ModelFile(keras_file, "keras"))
    assert is_complete(ModelFile(folder, "savedmodel"))

    half = tmp_path / "half.h5"
    half.write_bytes(h5.read_bytes()[: h5.stat().st_size // 2])
    assert not is_complete(ModelFile(half, "h5"))
    cut_zip = tmp_path / "cut.keras"
    cut_zip.write_bytes(keras_file.read_bytes()[:-30])
    assert not is_complete(ModelFile(cut_zip, "keras"))
    (tmp_path / "text.h5").write_text("hello")
    assert not is_complete(ModelFile(tmp_path / "text.h5", "h5"))


def test_candidates_match_and_hash(tmp_path: Path) -> None:
    names = [c.path.name for c in candidates(tmp_path, "mymodel.h5")]
    assert names == ["mymodel.h5", "mymodel.keras", "mymodel"]
    inner = tmp_path / "mymodel" / "variables" / "variables.index"
    assert match(inner, tmp_path, "mymodel.h5").format == "savedmodel"
    assert match(tmp_path / "other.h5", tmp_path, "mymodel.h5") is None
    assert present(tmp_path, "mymodel.h5") is None

    folder = models.save(models.line_model(), tmp_path / "mymodel")
    first = sha256_of(folder)
    assert first == sha256_of(folder)
    (folder / "extra.txt").write_text("x")
    assert sha256_of(folder) != first
