"""The learner's agent, without a service: which saves it looks at, in which order. (Its uploads
to a real classroom service are tested live in tests/classroom/test_join_live.py.)"""

from __future__ import annotations

import os
from pathlib import Path

from plugin_bridge.agent import Uploader
from plugin_bridge.client import Client


def test_a_question_saved_in_two_formats_sends_the_newest_save_last(tmp_path: Path) -> None:
    """The service grades what it received last, so that must be what the learner saved last."""
    question = tmp_path / "Q1"
    (question / "mymodel" / "variables").mkdir(parents=True)
    for name in ("saved_model.pb", "variables/variables.index"):
        (question / "mymodel" / name).write_bytes(b"x")
    (question / "mymodel.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    uploader = Uploader(tmp_path, Client("http://127.0.0.1:9"), "s", {"Q1": "mymodel.h5"})

    for path in question.rglob("*"):
        os.utime(path, ns=(1_000_000_000_000, 1_000_000_000_000))
    os.utime(question / "mymodel.h5", ns=(2_000_000_000_000, 2_000_000_000_000))
    assert [p.name for _, p in uploader.candidates()] == ["mymodel", "mymodel.h5"]

    os.utime(question / "mymodel" / "saved_model.pb", ns=(3_000_000_000_000, 3_000_000_000_000))
    assert [p.name for _, p in uploader.candidates()] == ["mymodel.h5", "mymodel"]
