"""Issue 22, item 8: a learner's file is copied through a confined open that cannot leave the
project, whatever is swapped between the check and the copy; a hard link is refused; a `.keras`
zip is opened once; a SavedModel folder is walked within a bound. Plain files, zips and folders
made at test time (no TensorFlow)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from server.watch import model_files
from server.watch.model_files import ModelFile, Refused, checked, copy_checked, is_complete

LIMIT = 64 * 2**20


def _project(tmp_path: Path) -> tuple[Path, Path]:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "Q1").mkdir(parents=True)
    elsewhere.mkdir()
    return project, elsewhere


def test_a_folder_swapped_for_a_link_after_the_check_is_refused_not_followed(tmp_path: Path):
    project, elsewhere = _project(tmp_path)
    (project / "Q1" / "mymodel.h5").write_bytes(b"the learner's model")
    (elsewhere / "mymodel.h5").write_bytes(b"a file outside the project")
    files = checked(ModelFile(project / "Q1" / "mymodel.h5", "h5"), project, LIMIT)
    (project / "Q1").rename(project / "Q1-before")  # the race: Q1 now leads outside
    (project / "Q1").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(Refused, match=r"mymodel.h5 changed while tfexam was taking it \(the file, "
                                      r"or a folder on its path, was replaced\)"):
        copy_checked(files, tmp_path / "copy", LIMIT)
    assert not (tmp_path / "copy" / "mymodel.h5").exists()


def test_a_file_replaced_after_the_check_is_refused(tmp_path: Path) -> None:
    project, _ = _project(tmp_path)
    model = project / "Q1" / "mymodel.h5"
    model.write_bytes(b"checked")
    files = checked(ModelFile(model, "h5"), project, LIMIT)
    (project / "Q1" / "other.h5").write_bytes(b"not what was checked")
    (project / "Q1" / "other.h5").replace(model)
    with pytest.raises(Refused, match="changed while tfexam was taking it"):
        copy_checked(files, tmp_path / "copy", LIMIT)


def test_hard_links_are_refused_with_a_sentence(tmp_path: Path) -> None:
    project, elsewhere = _project(tmp_path)
    outside = elsewhere / "secret.h5"
    outside.write_bytes(b"someone else's file")
    os.link(outside, project / "Q1" / "mymodel.h5")
    with pytest.raises(Refused, match=r"mymodel.h5 is a hard link: the same file has 2 names, "
                                      "and tfexam cannot tell that the others are inside"):
        checked(ModelFile(project / "Q1" / "mymodel.h5", "h5"), project, LIMIT)
    folder = project / "Q1" / "mymodel"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"graph")
    os.link(outside, folder / "variables" / "variables.index")
    with pytest.raises(Refused, match="mymodel/variables/variables.index is a hard link"):
        checked(ModelFile(folder, "savedmodel"), project, LIMIT)


def test_a_keras_zip_directory_is_read_from_the_open_descriptor(tmp_path: Path,
                                                                monkeypatch) -> None:
    """`ZipFile(path)` would open the file a second time, by name and blocking: a FIFO swapped in
    between would hang intake. Every ZipFile of intake must get the file already open."""
    project, _ = _project(tmp_path)
    model = project / "Q1" / "mymodel.keras"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("config.json", b"{}")
        archive.writestr("model.weights.h5", b"weights")
    given = []
    real_zipfile = zipfile.ZipFile
    monkeypatch.setattr(model_files.zipfile, "ZipFile",
                        lambda file, *a, **k: given.append(file) or real_zipfile(file, *a, **k))
    files = checked(ModelFile(model, "keras"), project, LIMIT)
    copy_checked(files, tmp_path / "copy", LIMIT)
    assert given and not [f for f in given if isinstance(f, str | os.PathLike)], given
    assert (tmp_path / "copy" / "mymodel.keras").read_bytes() == model.read_bytes()


def test_a_savedmodel_folder_is_walked_within_a_bound(tmp_path: Path, monkeypatch) -> None:
    project, _ = _project(tmp_path)
    crowded = project / "Q1" / "mymodel"
    crowded.mkdir()
    (crowded / "saved_model.pb").write_bytes(b"graph")
    for index in range(3000):  # the issue walked 30,300 on every poll
        (crowded / f"empty{index}").mkdir()
    listings = []
    real_scandir = os.scandir
    monkeypatch.setattr(model_files.os, "scandir", lambda p: listings.append(p) or real_scandir(p))
    with pytest.raises(Refused, match=r"mymodel/ holds more than \d+ files and folders"):
        checked(ModelFile(crowded, "savedmodel"), project, LIMIT)
    model_files.fingerprint(crowded)  # what every poll pays
    assert len(listings) <= 2, len(listings)  # the top folder once per walk, not 3,000 folders

    deep = project / "Q2" / "mymodel"
    nested = deep.joinpath(*["d"] * 20)
    nested.mkdir(parents=True)
    (deep / "saved_model.pb").write_bytes(b"graph")
    (nested / "variables.index").write_bytes(b"index")
    with pytest.raises(Refused, match=r"mymodel/ has folders nested more than \d+ deep"):
        checked(ModelFile(deep, "savedmodel"), project, LIMIT)


def test_completeness_of_a_keras_zip_never_parses_its_directory(tmp_path: Path,
                                                                monkeypatch) -> None:
    """The watcher asks on every poll: a directory of a million entries must cost nothing there
    (intake reads its count from the end record and refuses it once)."""
    model = tmp_path / "mymodel.keras"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("config.json", b"{}")
    cut = tmp_path / "cut.keras"
    cut.write_bytes(model.read_bytes()[:-10])

    def parsed(*args, **kwargs):
        raise AssertionError("the directory was parsed")

    monkeypatch.setattr(model_files.zipfile, "ZipFile", parsed)
    assert is_complete(ModelFile(model, "keras"))
    assert not is_complete(ModelFile(cut, "keras"))


def test_a_learner_folder_hashes_as_its_snapshot_will(tmp_path: Path) -> None:
    project, _ = _project(tmp_path)
    folder = project / "Q1" / "mymodel"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"graph")
    (folder / "variables" / "variables.index").write_bytes(b"index")
    (folder / "assets").mkdir()
    model = ModelFile(folder, "savedmodel")
    copy_checked(checked(model, project, LIMIT), tmp_path / "snapshot" / "mymodel", LIMIT)
    assert model_files.learner_sha256(model, project, LIMIT) == \
        model_files.sha256_of(tmp_path / "snapshot" / "mymodel")
    assert model_files.learner_sha256(model, project, 3) is None  # over the limit: not read
