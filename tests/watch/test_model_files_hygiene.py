"""Hygiene before any open: special files refused by lstat alone (nothing blocks), links followed
only inside the project, sizes checked before copying, a .keras zip's directory checked before
anything is unpacked. Real files, FIFOs, links and sparse files made at test time."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from server.watch import model_files
from server.watch.model_files import ModelFile, Refused, checked, copy_checked, is_complete
from tests.support import attacks, models
from tests.support.opens import OpenWatch

LIMIT = 64 * 2**20


def _in_a_thread(fn, timeout: float = 10.0):
    """Run fn; fail (instead of hanging the suite) if it blocks."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = fn()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{fn} blocked"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def test_a_fifo_named_like_a_model_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "Q1" / "mymodel.h5"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    model = ModelFile(fifo, "h5")
    assert _in_a_thread(lambda: is_complete(model)) is True  # nothing to wait for: hand it on
    with pytest.raises(Refused, match=r"mymodel.h5 is a FIFO \(named pipe\), not a model file"):
        _in_a_thread(lambda: checked(model, tmp_path, LIMIT))
    assert _in_a_thread(lambda: model_files.present(fifo.parent, "mymodel.h5")) == model
    _in_a_thread(lambda: model_files.sha256_of(fifo))
    _in_a_thread(lambda: model_files.fingerprint(fifo))


def _char_device(path: Path) -> Path:
    """A character device with /dev/null's numbers (reading it would be harmless; the test shows
    it is never opened at all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device needs root (CI runs as root)")
    return path


def test_a_device_named_like_a_model_is_refused_by_lstat_alone(tmp_path: Path) -> None:
    device = _char_device(tmp_path / "Q1" / "mymodel.h5")
    watch = OpenWatch(device)
    try:
        model = ModelFile(device, "h5")
        assert _in_a_thread(lambda: is_complete(model)) is True  # handed on to be refused
        with pytest.raises(Refused, match=r"mymodel.h5 is a device, not a model file: tfexam only "
                                          "takes a regular file there"):
            _in_a_thread(lambda: checked(model, tmp_path, LIMIT))
        assert _in_a_thread(lambda: model_files.present(device.parent, "mymodel.h5")) == model
        _in_a_thread(lambda: model_files.fingerprint(device))
        folder = models.save(models.line_model(), tmp_path / "Q2" / "mymodel")
        _char_device(folder / "assets" / "null")
        with pytest.raises(Refused, match="mymodel/assets/null is a device: a SavedModel holds "
                                          "regular files only"):
            _in_a_thread(lambda: checked(ModelFile(folder, "savedmodel"), tmp_path, LIMIT))
        assert watch.opens() == 0
        open(device, "rb").close()
        assert watch.opens() == 1  # the watch does see an open
    finally:
        watch.close()


def test_sockets_and_folders_in_the_wrong_place_are_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "mymodel.keras"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(Refused, match="is a socket"):
            checked(ModelFile(path, "keras"), tmp_path, LIMIT)
    path.unlink()
    path.mkdir()
    with pytest.raises(Refused, match="mymodel.keras is a folder, not a model file"):
        checked(ModelFile(path, "keras"), tmp_path, LIMIT)
    saved = tmp_path / "mymodel"
    saved.write_bytes(b"not a folder")
    with pytest.raises(Refused, match="a SavedModel is a folder"):
        checked(ModelFile(saved, "savedmodel"), tmp_path, LIMIT)


def test_links_are_followed_only_inside_the_project(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "Q1").mkdir(parents=True)
    elsewhere.mkdir()
    outside = models.save(models.line_model(), elsewhere / "model.h5")
    inside = models.save(models.line_model(), project / "Q1" / "trained.h5")
    link = project / "Q1" / "mymodel.h5"
    link.symlink_to(outside)
    with pytest.raises(Refused, match="is a link to .*outside the project folder"):
        checked(ModelFile(link, "h5"), project, LIMIT)
    link.unlink()
    link.symlink_to("/usr/lib")  # the 138 MB system folder of the issue
    with pytest.raises(Refused, match="outside the project folder"):
        checked(ModelFile(link, "h5"), project, LIMIT)
    link.unlink()
    link.symlink_to(inside)
    files = checked(ModelFile(link, "h5"), project, LIMIT)
    assert [file[:3] for file in files] == [(inside.resolve(), Path("mymodel.h5"),
                                             inside.stat().st_size)]
    (project / "Q2").symlink_to(elsewhere, target_is_directory=True)  # a linked question folder
    models.save(models.line_model(), elsewhere / "mymodel.h5")
    with pytest.raises(Refused, match="outside the project folder"):
        checked(ModelFile(project / "Q2" / "mymodel.h5", "h5"), project, LIMIT)

    folder = models.save(models.line_model(), project / "Q1" / "mymodel")
    (folder / "assets" / "escape").symlink_to(elsewhere)
    with pytest.raises(Refused, match="mymodel/assets/escape is a link to .*outside"):
        checked(ModelFile(folder, "savedmodel"), project, LIMIT)
    (folder / "assets" / "escape").unlink()
    os.mkfifo(folder / "assets" / "pipe")
    with pytest.raises(Refused, match="mymodel/assets/pipe is a FIFO"):
        _in_a_thread(lambda: checked(ModelFile(folder, "savedmodel"), project, LIMIT))


def test_size_is_checked_before_a_byte_is_copied(tmp_path: Path) -> None:
    sparse = tmp_path / "mymodel.h5"
    with open(sparse, "wb") as handle:  # 1 GB on paper, nothing on disk
        handle.truncate(2**30)
    with pytest.raises(Refused, match=r"mymodel.h5 is 1024 MB, more than this question takes "
                                      r"\(64 MB\)"):
        checked(ModelFile(sparse, "h5"), tmp_path, LIMIT)
    small = tmp_path / "small.h5"
    small.write_bytes(b"x" * 1000)
    files = checked(ModelFile(small, "h5"), tmp_path, LIMIT)
    small.write_bytes(b"x" * 5000)  # grew between the check and the copy
    with pytest.raises(Refused, match="grew past"):
        copy_checked(files, tmp_path / "copy", 2000)


def test_keras_zip_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    good = models.save(models.blobs_model(), tmp_path / "good.keras")
    assert checked(ModelFile(good, "keras"), tmp_path, LIMIT)
    bomb = attacks.zip_bomb_keras(good, tmp_path / "mymodel.keras", unpacked_mb=256)
    assert bomb.stat().st_size < 2**20
    with pytest.raises(Refused, match="zip bomb"):
        checked(ModelFile(bomb, "keras"), tmp_path, LIMIT)


def test_keras_zip_with_too_many_entries_is_refused(tmp_path: Path) -> None:
    good = models.save(models.blobs_model(), tmp_path / "good.keras")
    crowded = attacks.many_entries_keras(good, tmp_path / "mymodel.keras",
                                         extra=model_files.ZIP_MAX_ENTRIES)
    data = crowded.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    count = int.from_bytes(data[end + 10:end + 12], "little")
    assert count > model_files.ZIP_MAX_ENTRIES
    sentence = rf"mymodel.keras holds {count} files; a Keras archive holds a few"
    with pytest.raises(Refused, match=sentence):
        checked(ModelFile(crowded, "keras"), tmp_path, LIMIT)

    # Counted from the end record alone, before the directory is parsed: a damaged directory
    # behind a large count is refused for its count, not for being unreadable.
    directory = int.from_bytes(data[end + 16:end + 20], "little")
    damaged = tmp_path / "damaged" / "mymodel.keras"
    damaged.parent.mkdir()
    damaged.write_bytes(data[:directory] + b"JUNK" + data[directory + 4:])
    with pytest.raises(Refused, match=sentence):
        checked(ModelFile(damaged, "keras"), tmp_path, LIMIT)

    # An end record that understates the count: the parsed directory is counted too.
    lying = tmp_path / "lying" / "mymodel.keras"
    lying.parent.mkdir()
    small = (3).to_bytes(2, "little")
    lying.write_bytes(data[:end + 8] + small + small + data[end + 12:])
    with pytest.raises(Refused, match=sentence):
        checked(ModelFile(lying, "keras"), tmp_path, LIMIT)


def test_keras_zip_that_unpacks_too_large_is_refused(tmp_path: Path) -> None:
    """No entry is a bomb by ratio; together they would unpack to far more than the file."""
    good = models.save(models.blobs_model(), tmp_path / "good.keras")
    wide = attacks.wide_keras(good, tmp_path / "mymodel.keras", entries=40)
    assert wide.stat().st_size < 2 * 2**20
    with pytest.raises(Refused, match=r"mymodel.keras would unpack to 8\d MB from \d\.\d MB: "
                                      "tfexam does not unpack it"):
        checked(ModelFile(wide, "keras"), tmp_path, LIMIT)


def test_hdf5_completeness_from_the_superblock_alone(tmp_path: Path) -> None:
    whole = models.save(models.line_model(), tmp_path / "whole.h5")
    assert is_complete(ModelFile(whole, "h5"))
    cut = tmp_path / "cut.h5"
    cut.write_bytes(whole.read_bytes()[:-100])
    assert not is_complete(ModelFile(cut, "h5"))
