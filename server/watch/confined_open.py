"""Open a learner's file without ever leaving the project folder, whatever changes meanwhile.

Checking a path and then opening it by name is a race: a folder on the way can be swapped for a
link to elsewhere between the two. So a file is opened the way `openat` resolves it: the project
folder first (its identity compared with the one the check saw), then each folder below it, then
the file, every step relative to the last one's descriptor and with O_NOFOLLOW, along the real
path the check resolved. A link anywhere on that path now (which the check did not see) fails
the open instead of being followed; the file's own identity and link count are compared with what
the check saw. The file is opened with O_NONBLOCK, so nothing waits on a FIFO swapped in.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path


class Moved(Exception):
    """The path is no longer what was checked (a folder or the file was swapped)."""


@dataclass(frozen=True)
class Identity:
    """Which file a check saw: device and inode."""

    device: int
    inode: int

    @classmethod
    def of(cls, info: os.stat_result) -> Identity:
        return cls(info.st_dev, info.st_ino)


DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
SWAPPED = {errno.ELOOP, errno.ENOTDIR, errno.EMLINK}


def _step(name: str, flags: int, dir_fd: int | None) -> int:
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in SWAPPED:
            raise Moved(f"{name} is not what was checked") from error
        raise


def open_inside(root: Path, root_id: Identity, real: Path, file_id: Identity) -> int:
    """A read-only descriptor of the regular file `real` under the resolved folder `root`, or
    Moved. The caller closes it; it is still non-blocking."""
    parts = real.relative_to(root).parts
    if not parts:
        raise Moved(f"{real} is the project folder itself")
    fd = _step(str(root), DIRECTORY_FLAGS, None)
    try:
        if Identity.of(os.fstat(fd)) != root_id:
            raise Moved(f"{root} was replaced")
        for part in parts[:-1]:
            following = _step(part, DIRECTORY_FLAGS, fd)
            os.close(fd)
            fd = following
        opened = _step(parts[-1], FILE_FLAGS, fd)
    finally:
        os.close(fd)
    info = os.fstat(opened)
    if Identity.of(info) != file_id or not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(opened)
        raise Moved(f"{real} was replaced")
    return opened
