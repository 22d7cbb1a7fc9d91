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


def test_a_windows_drive_path_five_levels_deep_is_reported_with_its_folder_and_fix(tmp_path: Path) -> None:
    """Issue 20: `model.save("C:/Study/x/y/mymodel.h5")` run in Category1 on Linux makes the folders
    `C:/Study/x/y/` there; the old scan stopped at depth 3 and said nothing."""
    _touch(tmp_path / "Category1" / "C:" / "Study" / "x" / "y" / "mymodel.h5")
    found = {m.path: m.should_be for m in find_misplaced(tmp_path, QUESTIONS)}
    assert list(found) == ["Category1/C:/Study/x/y/mymodel.h5"]
    fix = found["Category1/C:/Study/x/y/mymodel.h5"]
    assert fix.startswith("Category1/mymodel.h5 (")
    assert '"C:" is only a folder name' in fix and 'save to "mymodel.h5" next to the starter' in fix


def test_a_windows_path_saved_as_one_name_and_a_drive_folder_at_the_root(tmp_path: Path) -> None:
    _touch(tmp_path / "Category2" / "D:\\exam\\Category2\\mymodel.h5")  # backslashes: one file name
    _touch(tmp_path / "C:" / "Users" / "me" / "tf" / "mymodel.keras")
    found = {m.path: m.should_be for m in find_misplaced(tmp_path, QUESTIONS)}
    assert set(found) == {"Category2/D:\\exam\\Category2\\mymodel.h5", "C:/Users/me/tf/mymodel.keras"}
    one_name = found["Category2/D:\\exam\\Category2\\mymodel.h5"]
    assert one_name.startswith("Category2/mymodel.h5 (") and "backslashes are part of a file name" in one_name
    at_root = found["C:/Users/me/tf/mymodel.keras"]
    assert "Category1/ or Category2/" in at_root and "e.g. Category1/mymodel.keras" in at_root
    assert '"C:" is only a folder name' in at_root


def test_any_depth_is_searched_and_links_are_not_followed(tmp_path: Path) -> None:
    deep = tmp_path / "Category2" / "runs" / "a" / "b" / "c" / "d" / "e" / "f" / "g" / "h"
    _touch(deep / "mymodel.h5")
    (tmp_path / "Category2" / "runs" / "loop").symlink_to(tmp_path, target_is_directory=True)
    found = {m.path: m.should_be for m in find_misplaced(tmp_path, QUESTIONS)}
    assert found == {"Category2/runs/a/b/c/d/e/f/g/h/mymodel.h5": "Category2/mymodel.h5"}


def test_the_walk_is_bounded_by_entries_breadth_first(tmp_path: Path, monkeypatch) -> None:
    """The bound is a count of entries, not a depth; breadth first, a big tree cannot hide a model
    saved nearer the top, even when the tree's folder is looked at first."""
    from server.watch import placement

    monkeypatch.setattr(placement, "MAX_ENTRIES", 50)
    for i in range(100):
        _touch(tmp_path / "zzz" / "big" / f"f{i:03}.txt")
    _touch(tmp_path / "aaa" / "mymodel.h5")
    assert len(list(placement._walk(tmp_path))) == 50
    assert [m.path for m in find_misplaced(tmp_path, QUESTIONS)] == ["aaa/mymodel.h5"]
