"""Model files saved where nothing grades them, and the folder each should have gone to.

Only `<Question>/mymodel.h5` (or `.keras`, or a SavedModel folder `mymodel/`) is graded. A starter
run from the project root, or a save into a sub-folder, puts the file somewhere else and, without
this, nothing would say so: the learner would wait for a score that never comes.

The project is scanned, not remembered: a walk that needs no state a restart could lose, and sees a
file moved to the right place at the next look. It has no depth limit, because a save can land
anywhere: a script that hard-codes a Windows path (`model.save("C:/Study/tf/mymodel.h5")`) run in a
question folder on Linux or macOS makes ordinary folders `C:/Study/tf/` there, five levels deep, and
`"C:\\Study\\mymodel.h5"` becomes one file whose name holds the backslashes. What bounds the walk is
a count of entries, breadth first, so a big tree deep down (a dataset unpacked into a sub-folder)
cannot hide a model saved near the top; data, tool, hidden and linked folders are not entered.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from server.names import shown
from server.watch.model_files import candidates

# Folders a model is never looked for in: the question data, tool and environment folders.
SKIP_DIRS = frozenset({"data", "__pycache__", "node_modules", "venv", "site-packages"})
MAX_ENTRIES = 5000  # the walk's only bound, at any depth: a project someone filled with other things
WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:$")  # "C:", a folder here, a drive on Windows


@dataclass(frozen=True)
class Misplaced:
    path: str  # relative to the project folder, with "/"
    should_be: str  # where it belongs, or a sentence naming the question folders

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _walk(root: Path) -> Iterator[Path]:
    """Every entry under root, breadth first, up to MAX_ENTRIES in all, without entering skipped,
    hidden or linked folders (a link could loop or lead out of the project)."""
    queue = deque([root])
    seen = 0
    while queue:
        folder = queue.popleft()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                return
            path = Path(entry.path)
            yield path
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir and entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                queue.append(path)


def windows_name(name: str) -> str:
    """The last part of a name written as a Windows path ("C:\\Study\\mymodel.h5" is one name
    here), or the name itself."""
    return name.rsplit("\\", 1)[-1]


def _is_model(path: Path, names: set[str], stems: set[str]) -> bool:
    name = windows_name(path.name)
    if name in names and path.is_file():
        return True
    return name in stems and path.is_dir() and (path / "saved_model.pb").is_file()


def find_misplaced(project_dir: Path, model_files: Mapping[str, str]) -> list[Misplaced]:
    """model_files: question id -> its model file name (e.g. "Category2" -> "mymodel.h5")."""
    accepted = {c.path for q, name in model_files.items()
                for c in candidates(project_dir / q, name)}
    names = {c.path.name for q, name in model_files.items()
             for c in candidates(project_dir / q, name) if c.format != "savedmodel"}
    stems = {Path(name).stem for name in model_files.values()}
    found: list[Misplaced] = []
    inside_model: list[Path] = []
    for path in _walk(project_dir):
        if path in accepted or any(m in path.parents for m in inside_model):
            continue
        if not _is_model(path, names, stems):
            continue
        if path.is_dir():
            inside_model.append(path)
        relative = PurePosixPath(path.relative_to(project_dir).as_posix())
        # Shown escaped: a name that is not UTF-8 (or holds a newline) is listed, not a 500.
        found.append(Misplaced(shown(str(relative)), shown(should_be(relative, model_files))))
    return found


def should_be(relative: PurePosixPath, model_files: Mapping[str, str]) -> str:
    """The question folder the file belongs in: the one it was saved under, if any; otherwise
    every question folder is named, since which starter made it cannot be known from the file.
    A save to a Windows path gets the fix of its cause too, or the next run saves there again."""
    top = relative.parts[0] if len(relative.parts) > 1 else None
    if top in model_files:
        place = f"{top}/{model_files[top]}"
    else:
        folders = [f"{q}/" for q in model_files]
        listed = ", ".join(folders[:-1]) + (" or " if len(folders) > 1 else "") + folders[-1]
        place = (f"the folder of the question it answers ({listed}), e.g. "
                 f"{next(iter(model_files))}/{windows_name(relative.name)}")
    return place + windows_hint(relative)


def windows_hint(relative: PurePosixPath) -> str:
    """Why a save went astray when its path was written the Windows way, and what to save to."""
    drive = next((part for part in relative.parts if WINDOWS_DRIVE.match(part)), None)
    if drive is None and "\\" not in relative.name:
        return ""
    what = f'"{drive}" is only a folder name' if drive else "backslashes are part of a file name"
    return (f" (the script saved to a Windows path, and here {what}: save to "
            f'"{windows_name(relative.name)}" next to the starter instead)')
