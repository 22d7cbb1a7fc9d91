"""Unpacking a learner's SavedModel archive on the service: each hostile shape is refused with one
sentence, and nothing is left behind, inside the question's folder or outside it; a whole one is
swapped in at once."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from server.classroom.saved_model_upload import (
    MAX_DEPTH,
    MAX_ENTRIES,
    ArchiveRefused,
    place,
)

LIMIT = 1 << 20
WHOLE = {"saved_model.pb": b"pb", "variables/variables.index": b"index",
         "variables/variables.data-00000-of-00001": b"data", "fingerprint.pb": b"fp"}


def _file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    tar.addfile(member, io.BytesIO(data))


def _archive(build: Callable[[tarfile.TarFile], None], mode: str = "w:") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode, format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    return buffer.getvalue()


def _whole(tar: tarfile.TarFile) -> None:
    for name, data in WHOLE.items():
        _file(tar, name, data)


def _with(*extra: Callable[[tarfile.TarFile], None]) -> Callable[[tarfile.TarFile], None]:
    def build(tar: tarfile.TarFile) -> None:
        for add in extra:
            add(tar)
        _whole(tar)
    return build


def _link(kind: bytes, name: str, target: str) -> Callable[[tarfile.TarFile], None]:
    def add(tar: tarfile.TarFile) -> None:
        member = tarfile.TarInfo(name)
        member.type = kind
        member.linkname = target
        tar.addfile(member)
    return add


def _special(kind: bytes) -> Callable[[tarfile.TarFile], None]:
    def add(tar: tarfile.TarFile) -> None:
        member = tarfile.TarInfo("variables/odd")
        member.type = kind
        tar.addfile(member)
    return add


def _many(tar: tarfile.TarFile) -> None:
    for number in range(MAX_ENTRIES + 1):
        _file(tar, f"assets/{number}", b"")


def _deep(tar: tarfile.TarFile) -> None:
    _file(tar, "/".join(["d"] * (MAX_DEPTH + 1)), b"x")


def _cut(data: bytes) -> bytes:
    """Ends in the middle of the first file's content (after its 512-byte header)."""
    return data[:512 + 2000]


REFUSALS = {
    "a symbolic link": (_archive(_with(_link(tarfile.SYMTYPE, "variables/x", "/etc/passwd"))),
                        "holds a link"),
    "a hard link": (_archive(_with(_link(tarfile.LNKTYPE, "assets/x", "../../../token"))),
                    "holds a link"),
    "an absolute name": (_archive(_with(lambda tar: _file(tar, "/tmp/evil", b"x"))),
                         "absolute path"),
    "a name with ..": (_archive(_with(lambda tar: _file(tar, "variables/../../evil", b"x"))),
                       "outside the model's folder"),
    "a backslash name": (_archive(_with(lambda tar: _file(tar, "..\\evil", b"x"))), "odd name"),
    "a device": (_archive(_with(_special(tarfile.CHRTYPE))), "neither a file nor a folder"),
    "a pipe": (_archive(_with(_special(tarfile.FIFOTYPE))), "neither a file nor a folder"),
    "too many entries": (_archive(_with(_many)), f"more than {MAX_ENTRIES} files"),
    "folders too deep": (_archive(_with(_deep)), f"more than {MAX_DEPTH} deep"),
    "too large": (_archive(_with(lambda tar: _file(tar, "assets/big", b"\0" * (LIMIT + 1)))),
                  "more than the size a question takes"),
    "a name twice": (_archive(_with(lambda tar: _file(tar, "saved_model.pb", b"first"))),
                     "twice"),
    "a file and a folder of one name": (
        _archive(_with(lambda tar: _file(tar, "variables", b"x"))), "both a file and a folder"),
    "no saved_model.pb": (_archive(lambda tar: _file(tar, "variables/variables.index", b"i")),
                          "not a whole SavedModel"),
    "gzip, not a plain tar": (_archive(_whole, mode="w:gz"), "not a SavedModel archive"),
    "not an archive": (b"\x89HDF\r\n\x1a\n" + b"x" * 600, "not a SavedModel archive"),
    "cut short": (_cut(_archive(_with(lambda tar: _file(tar, "assets/a", b"a" * 5000)))),
                  "cut short or damaged"),
}


def _everything(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_hostile_archive_is_refused_with_a_sentence_and_leaves_nothing(
        tmp_path: Path, case: str) -> None:
    archive, words = REFUSALS[case]
    question = tmp_path / "project" / "Q1"
    question.mkdir(parents=True)
    (question / "starter.py").write_text("# the learner's\n")
    with pytest.raises(ArchiveRefused) as refused:
        place(archive, question, "mymodel", LIMIT)
    sentence = str(refused.value)
    assert words in sentence, sentence
    assert sentence.endswith(".") and "\n" not in sentence and "Traceback" not in sentence
    assert _everything(tmp_path) == {"project", "project/Q1", "project/Q1/starter.py"}


def test_a_whole_saved_model_replaces_the_previous_one_in_one_step(tmp_path: Path) -> None:
    question = tmp_path / "Q1"
    question.mkdir()
    place(_archive(_whole), question, "mymodel", LIMIT)
    assert _everything(question) == {"mymodel", "mymodel/saved_model.pb", "mymodel/fingerprint.pb",
                                     "mymodel/variables", "mymodel/variables/variables.index",
                                     "mymodel/variables/variables.data-00000-of-00001"}
    first = os.stat(question / "mymodel").st_ino

    def newer(tar: tarfile.TarFile) -> None:
        for name, data in WHOLE.items():
            _file(tar, name, data + b"-2" if name != "fingerprint.pb" else data)

    place(_archive(newer), question, "mymodel", LIMIT)
    assert (question / "mymodel" / "saved_model.pb").read_bytes() == b"pb-2"
    assert os.stat(question / "mymodel").st_ino != first  # a new folder swapped in, not rewritten
    assert sorted(p.name for p in question.iterdir()) == ["mymodel"]  # no staging, no old copy
