"""Names from the disk are shown as one line of valid text; folder requests are checked against
the file system's own limits before anything is made."""

from __future__ import annotations

import json

import pytest

from server.names import BadName, check_folder_request, excerpt, shown


def test_odd_names_are_shown_escaped_and_ordinary_ones_unchanged() -> None:
    assert shown("Category1/mymodel.h5") == "Category1/mymodel.h5"
    assert shown("Übung 😀/mymodel.h5") == "Übung 😀/mymodel.h5"
    assert shown("bad\udcffdir") == "bad\\xffdir"  # a non-UTF-8 byte, as os.fsdecode holds it
    assert shown("a\nb\tc") == "a\\nb\\tc"
    assert shown("\u202eevil") == "\\u202eevil"  # would reorder the line it is shown in
    assert shown("\ud800") == "\\ud800"
    for name in ("bad\udcffdir", "a\nb", "\x1b[31m", "\ud800"):
        json.dumps(shown(name), ensure_ascii=False).encode("utf-8")  # never raises
        assert "\n" not in shown(name)


def test_a_long_name_is_not_repeated_in_full() -> None:
    said = excerpt("b/" * 5_000_000)
    assert len(said) < 120 and "10000000 characters" in said


@pytest.mark.parametrize(("asked", "said"), [
    ("/tmp/x\x00y", "NUL"),
    ("/tmp/" + "a" * 256, "256 bytes long, more than the 255"),
    ("/tmp/" + "é" * 128, "256 bytes long"),
    ("/tmp/" + "b/" * 5_000_000, "shorter path"),
    ("/tmp/" + "abcd/" * 900, "more than the 4096"),
    ("/tmp/" + "b/" * 1000, "1001 folders one inside another"),
    ("/tmp/bad\udcffname", "not valid UTF-8"),
    ("/tmp/a\nb", "control character (U+000A)"),
])
def test_folder_requests_the_disk_cannot_hold_are_one_sentence(asked: str, said: str) -> None:
    with pytest.raises(BadName) as refused:
        check_folder_request(asked)
    sentence = str(refused.value)
    assert said in sentence and sentence.endswith(".") and "\n" not in sentence
    assert len(sentence) < 400


def test_ordinary_odd_folders_are_taken() -> None:
    for asked in ("/tmp/Übung 1", "/tmp/$(id)", "/tmp/<b>", "~/exam 😀", "/tmp/" + "a" * 255):
        assert check_folder_request(asked) == asked
