"""Filling a small file system on purpose (a full disk, issue 17), while a live service may be
writing to it too."""

from __future__ import annotations

import errno
import os
from pathlib import Path

CHUNK = 8 * 1024 * 1024


def fill(folder: Path, leave_bytes: int) -> Path:
    """Fill the file system of `folder` until only about `leave_bytes` are free.

    The service may write at the same time (its log, its database's journal), so the free space
    is measured again before each chunk, and a write that finds the disk full already ends the
    filling instead of failing the test: a disk fuller than asked is still the full disk the test
    wants. A single write of the whole free space, sized once, failed that way on a busy machine."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:
        while True:
            stat = os.statvfs(folder)
            wanted = stat.f_bavail * stat.f_frsize - leave_bytes
            if wanted <= 0:
                break
            try:
                handle.write(b"\0" * min(wanted, CHUNK))
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                break
    return filler
