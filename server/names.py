"""File and folder names as the learner reads them, and the folder names tfexam accepts.

A name on Linux is bytes: it may be no valid UTF-8 at all (Python holds such bytes as lone
surrogates, `\\udcff`), hold a newline or an escape sequence, or be longer than the file system
takes. JSON, SQLite, XML and the page all need text, so a name from the disk is *shown* escaped
(`bad\\xffdir`, `a\\nb`), never passed on raw; and a folder a learner asks for is checked here first,
so that every odd one is refused with one sentence instead of failing deep inside (`File name too
long`, `embedded null byte`, a UTF-8 error in the IDE files after the project was half built).
"""

from __future__ import annotations

import os
import unicodedata

NAME_MAX_BYTES = 255  # one name (NAME_MAX on Linux, macOS and Windows' NTFS alike)
PATH_MAX_BYTES = 4096  # a whole path (PATH_MAX on Linux)
MAX_DEPTH = 128  # folders in a requested path: deeper is a mistake, and pathlib makes each in turn
# Escapes for the controls a name may hold; anything else unprintable becomes \\uXXXX.
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class BadName(ValueError):
    """A name or path tfexam cannot use; the message is one sentence saying what to do."""


def shown(name: str | os.PathLike[str]) -> str:
    """A name as one line of valid text: undecodable bytes as `\\xNN`, controls (and other
    invisible format characters that could reorder a line) as escapes; ordinary names unchanged."""
    text = os.fspath(name)
    out: list[str] = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, held by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:  # any other lone surrogate cannot be encoded at all
            out.append(f"\\u{code:04x}")
        elif char in _CONTROL_ESCAPES:
            out.append(_CONTROL_ESCAPES[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def excerpt(text: str, limit: int = 80) -> str:
    """The start of a name for a sentence: a 10 MB path is not repeated back in full."""
    text = shown(text)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def check_folder_request(text: str) -> str:
    """The folder a learner asked for, as given, if tfexam can make a project there; else BadName
    with the sentence to show. Checked before anything touches the disk: the limits are the file
    system's own (a name of 255 bytes, a path of 4096), and the name must be text that the IDE
    files, the record and the page can hold (UTF-8, no control characters)."""
    if "\x00" in text:
        raise BadName("The folder name contains a NUL character, which no file system allows; "
                       "type the folder again without it.")
    if len(text) > PATH_MAX_BYTES:  # before encoding a 10 MB string
        raise BadName(f"The folder path is {len(text)} characters long, more than the "
                      f"{PATH_MAX_BYTES} bytes a path may have; choose a shorter path.")
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadName(f"The folder {excerpt(text)} is not valid UTF-8 text (a name made of raw "
                      "bytes); choose a folder whose name is ordinary text.") from None
    if len(encoded) > PATH_MAX_BYTES:
        raise BadName(f"The folder path is {len(encoded)} bytes long, more than the "
                      f"{PATH_MAX_BYTES} a path may have; choose a shorter path.")
    for part in text.split("/"):
        size = len(part.encode("utf-8"))
        if size > NAME_MAX_BYTES:
            raise BadName(f"The folder name {excerpt(part)} is {size} bytes long, more than the "
                          f"{NAME_MAX_BYTES} a name may have; choose a shorter name.")
    depth = len([part for part in text.split("/") if part])
    if depth > MAX_DEPTH:
        raise BadName(f"The folder path has {depth} folders one inside another, more than the "
                      f"{MAX_DEPTH} tfexam makes; choose a shorter path.")
    control = next((c for c in text if unicodedata.category(c) in ("Cc", "Zl", "Zp")), None)
    if control is not None:
        raise BadName(f"The folder {excerpt(text)} contains a control character "
                      f"(U+{ord(control):04X}), which the IDE files cannot hold; choose a name "
                      "without it.")
    return text
