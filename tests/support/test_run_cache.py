"""The run's shared cache makes each entry once, however many workers ask at the same moment, and
a failed making leaves nothing a later asker would mistake for a result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live_server import ROOT
from tests.support.run_cache import RunCache, digest_of

ASK = """
import sys, time
from pathlib import Path
from tests.support.run_cache import RunCache

def make(folder):
    with open(sys.argv[2], "a") as made:
        made.write("x")
    time.sleep(0.5)  # long enough for the other asker to arrive while this one makes it
    (folder / "model").write_text("trained")

print(RunCache(Path(sys.argv[1])).once(["script", b"data"], make))
"""


def test_two_workers_asking_at_once_make_the_entry_once(tmp_path: Path) -> None:
    made = tmp_path / "made"
    askers = [subprocess.Popen([sys.executable, "-c", ASK, str(tmp_path / "cache"), str(made)],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    folders = {asker.communicate(timeout=60)[0].strip() for asker in askers}
    assert made.read_text() == "x"
    assert len(folders) == 1
    assert (Path(folders.pop()) / "model").read_text() == "trained"


def test_a_failed_making_is_made_again_by_the_next_asker(tmp_path: Path) -> None:
    cache = RunCache(tmp_path)

    def broken(folder: Path) -> None:
        (folder / "half").write_text("half")
        raise RuntimeError("training failed")

    with pytest.raises(RuntimeError):
        cache.once(["a"], broken)
    folder = cache.once(["a"], lambda f: (f / "whole").write_text("whole"))
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["whole"]


def test_the_key_is_the_content_of_files_not_their_place(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        (folder / "data").mkdir(parents=True)
        (folder / "data" / "x.json").write_text("[1, 2]")
    assert digest_of(["s", one / "data"]) == digest_of(["s", two / "data"])
    (two / "data" / "x.json").write_text("[1, 3]")
    assert digest_of(["s", one / "data"]) != digest_of(["s", two / "data"])
