"""Work done once per test run and shared by every pytest-xdist worker, found by its content.

Training a reference model takes up to a minute; with the suite spread over several workers, two
tests that need the same model could each train it. An entry is named by a digest of everything
that decides its result (the script's text, the data it reads, the Keras mode), so a changed script
is trained again and an unchanged one never twice in a run. A file lock per entry makes the second
worker wait for the first instead of training beside it. The cache lives in the run's temporary
folder: the next run trains afresh, so every run still proves that training works.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

DONE = ".done"


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of the whole run: a worker's base folder sits inside it."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def digest_of(parts: Iterable[str | bytes | Path]) -> str:
    """A digest of strings, bytes and files (a folder: every file in it, by relative name)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            files = sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]
            for file in files:
                digest.update(str(file.relative_to(part) if part.is_dir() else file.name).encode())
                digest.update(hashlib.sha256(file.read_bytes()).digest())
        else:
            digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:32]


class RunCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def once(self, parts: Iterable[str | bytes | Path], make: Callable[[Path], None]) -> Path:
        """The entry's folder, made by `make(folder)` in the first worker that asks; the others
        wait for it. A `make` that raises leaves no entry, so the next asker tries again."""
        key = digest_of(parts)
        folder = self.root / key
        with open(self.root / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (folder / DONE).exists():
                return folder
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(folder)
            folder.mkdir()
            make(folder)
            (folder / DONE).touch()
        return folder
