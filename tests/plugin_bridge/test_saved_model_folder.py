"""The agent's view of a SavedModel folder: whole only with every file its names promise, packed
to the same bytes for the same content (so it is sent once), links refused with a sentence."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from plugin_bridge.errors import CliError
from plugin_bridge.saved_model_folder import is_whole, pack, signature


def _folder(root: Path, shards: int = 1) -> Path:
    folder = root / "mymodel"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"pb")
    (folder / "variables" / "variables.index").write_bytes(b"index")
    for shard in range(shards):
        (folder / "variables" / f"variables.data-{shard:05d}-of-{shards:05d}").write_bytes(b"d")
    return folder


def test_whole_only_with_the_graph_the_index_and_every_shard(tmp_path: Path) -> None:
    folder = _folder(tmp_path, shards=2)
    assert is_whole(folder)
    (folder / "variables" / "variables.data-00001-of-00002").unlink()
    assert not is_whole(folder)  # a shard still being written
    (folder / "variables" / "variables.index").unlink()
    assert not is_whole(folder)


def test_the_same_content_packs_to_the_same_bytes(tmp_path: Path) -> None:
    first = pack(_folder(tmp_path / "a"))
    later = _folder(tmp_path / "b")
    for path in later.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))  # other times, same content
    assert pack(later) == first
    before = signature(later)
    (later / "saved_model.pb").write_bytes(b"pb2")
    assert signature(later) != before and pack(later) != first
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:") as tar:
        assert sorted(tar.getnames()) == ["saved_model.pb", "variables",
                                          "variables/variables.data-00000-of-00001",
                                          "variables/variables.index"]


def test_a_link_inside_is_refused_with_a_sentence(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "assets").symlink_to("/etc")
    with pytest.raises(CliError, match="link or a special file"):
        pack(folder)
