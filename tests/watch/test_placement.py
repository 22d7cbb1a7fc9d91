"""A model saved outside its question's folder is found, with the place it belongs."""

from __future__ import annotations

from pathlib import Path

from server.watch.placement import find_misplaced

QUESTIONS = {"Category1": "mymodel.h5", "Category2": "mymodel.h5"}


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89HDF\r\n\x1a\n")
    return path


def test_models_in_their_folders_are_not_reported(tmp_path: Path) -> None:
    _touch(tmp_path / "Category1" / "mymodel.h5")
    _touch(tmp_path / "Category2" / "mymodel.keras")
    saved = tmp_path / "Category2" / "mymodel"
    _touch(saved / "saved_model.pb")
    _touch(saved / "variables" / "variables.index")
    _touch(tmp_path / "Category1" / "notes.h5")  # another name: not a model the exam asked for
    assert find_misplaced(tmp_path, QUESTIONS) == []


def test_the_root_and_other_folders_are_reported_with_where_to_go(tmp_path: Path) -> None:
    _touch(tmp_path / "mymodel.h5")
    _touch(tmp_path / "Category2" / "models" / "mymodel.keras")
    _touch(tmp_path / "scratch" / "mymodel" / "saved_model.pb")
    _touch(tmp_path / "Category1" / "data" / "mymodel.h5")  # data folders are not searched
    found = {m.path: m.should_be for m in find_misplaced(tmp_path, QUESTIONS)}
    assert set(found) == {"mymodel.h5", "Category2/models/mymodel.keras", "scratch/mymodel"}
    assert found["Category2/models/mymodel.keras"] == "Category2/mymodel.h5"
    assert "Category1/ or Category2/" in found["mymodel.h5"]
    assert found["mymodel.h5"].endswith("e.g. Category1/mymodel.h5")
    assert "Category1/ or Category2/" in found["scratch/mymodel"]


def test_a_moved_file_is_no_longer_reported(tmp_path: Path) -> None:
    stray = _touch(tmp_path / "mymodel.h5")
    assert len(find_misplaced(tmp_path, QUESTIONS)) == 1
    (tmp_path / "Category1").mkdir()
    stray.replace(tmp_path / "Category1" / "mymodel.h5")
    assert find_misplaced(tmp_path, QUESTIONS) == []
