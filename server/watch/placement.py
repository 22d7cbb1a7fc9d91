"""Model files saved where nothing grades them, and the folder each should have gone to.

Only `<Question>/mymodel.h5` (or `.keras`, or a SavedModel folder `mymodel/`) is graded. A starter
run from the project root, or a save into a sub-folder, puts the file somewhere else and, without
this, nothing would say so: the learner would wait for a score that never comes.

The project is scanned, not remembered: a short walk (a few levels deep, skipping data and tool
folders) costs well under a millisecond, needs no state that a restart could lose, and sees a file
moved to the right place at the next look.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from server.watch.model_files import candidates

# Folders a model is never looked for in: the question data, tool and environment folders.
SKIP_DIRS = frozenset({"data", "__pycache__", "node_modules", "venv", "site-packages"})
MAX_DEPTH = 3  # project root = 0: Category2/models/old/mymodel.h5 is still found
MAX_ENTRIES = 5000  # a bound for a project someone filled with other things


@dataclass(frozen=True)
class Misplaced:
    path: str  # relative to the project folder, with "/"
    should_be: str  # where it belongs, or a sentence naming the question folders

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _walk(root: Path) -> Iterator[tuple[Path, int]]:
    """Every entry under root up to MAX_DEPTH, without entering skipped or hidden folders."""
    stack = [(root, 0)]
    seen = 0
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                return
            path = Path(entry.path)
            yield path, depth
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if (is_dir and depth < MAX_DEPTH and entry.name not in SKIP_DIRS
                    and not entry.name.startswith(".")):
                stack.append((path, depth + 1))


def _is_model(path: Path, names: set[str], stems: set[str]) -> bool:
    if path.name in names and path.is_file():
        return True
    return path.name in stems and path.is_dir() and (path / "saved_model.pb").is_file()


def find_misplaced(project_dir: Path, model_files: Mapping[str, str]) -> list[Misplaced]:
    """model_files: question id -> its model file name (e.g. "Category2" -> "mymodel.h5")."""
    accepted = {c.path for q, name in model_files.items()
                for c in candidates(project_dir / q, name)}
    names = {c.path.name for q, name in model_files.items()
             for c in candidates(project_dir / q, name) if c.format != "savedmodel"}
    stems = {Path(name).stem for name in model_files.values()}
    found: list[Misplaced] = []
    inside_model: list[Path] = []
    for path, _depth in _walk(project_dir):
        if path in accepted or any(m in path.parents for m in inside_model):
            continue
        if not _is_model(path, names, stems):
            continue
        if path.is_dir():
            inside_model.append(path)
        relative = PurePosixPath(path.relative_to(project_dir).as_posix())
        found.append(Misplaced(str(relative), should_be(relative, model_files)))
    return found


def should_be(relative: PurePosixPath, model_files: Mapping[str, str]) -> str:
    """The question folder the file belongs in: the one it was saved under, if any; otherwise
    every question folder is named, since which starter made it cannot be known from the file."""
    top = relative.parts[0] if len(relative.parts) > 1 else None
    if top in model_files:
        return f"{top}/{model_files[top]}"
    folders = [f"{q}/" for q in model_files]
    listed = ", ".join(folders[:-1]) + (" or " if len(folders) > 1 else "") + folders[-1]
    return (f"the folder of the question it answers ({listed}), e.g. "
            f"{next(iter(model_files))}/{relative.name}")
