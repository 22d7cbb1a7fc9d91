"""A SavedModel folder on the learner's machine, as the agent sends it: when it is whole, and
packed as one plain tar archive whose bytes depend only on the folder's names and contents (sorted
names, no times, no owners), so the same save always has the same SHA-256 and is sent once.

A SavedModel is written file by file (`model.export`, `tf.saved_model.save`): saved_model.pb, then
variables/variables.index and each variables.data-NNNNN-of-MMMMM shard. It is whole when those are
all there; the agent also waits until nothing in the folder changed for its settle time.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tarfile
from pathlib import Path

from plugin_bridge.errors import CliError

MAX_ENTRIES = 1000  # the service's bound too; a SavedModel has about six entries
MAX_BYTES = 2 * 2**30  # read into memory to send: never more than this
SHARD = re.compile(r"^variables\.data-(\d{5})-of-(\d{5})$")


def _entries(folder: Path) -> list[tuple[str, os.stat_result]]:
    """(relative posix name, lstat) of everything below `folder`, sorted; bounded."""
    found: list[tuple[str, os.stat_result]] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        with os.scandir(current) as listing:
            for entry in listing:
                info = entry.stat(follow_symlinks=False)
                found.append((Path(entry.path).relative_to(folder).as_posix(), info))
                if len(found) > MAX_ENTRIES:
                    raise CliError(f"{folder.name}/ holds more than {MAX_ENTRIES} files and "
                                   "folders, far more than a SavedModel has: save the model "
                                   "again into an empty folder.")
                if stat.S_ISDIR(info.st_mode):
                    pending.append(Path(entry.path))
    return sorted(found)


def signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes whenever anything in the folder is written: names, sizes, times."""
    try:
        return tuple((name, info.st_size, info.st_mtime_ns) for name, info in _entries(folder))
    except (OSError, CliError):
        return ()


def is_whole(folder: Path) -> bool:
    """saved_model.pb, variables/variables.index and every shard its names promise."""
    variables = folder / "variables"
    try:
        if not ((folder / "saved_model.pb").is_file()
                and (variables / "variables.index").is_file()):
            return False
        shards = [SHARD.match(p.name) for p in variables.iterdir()]
    except OSError:
        return False
    found = [m for m in shards if m]
    if not found:
        return False
    expected = int(found[0].group(2))
    return {int(m.group(1)) for m in found} == set(range(expected)) and all(
        int(m.group(2)) == expected for m in found)


def pack(folder: Path) -> bytes:
    """The folder as a plain tar (names relative to it). Links and special files are refused with
    a sentence: the service takes only files and folders, and a link could name anything."""
    buffer = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buffer, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for name, info in _entries(folder):
            member = tarfile.TarInfo(name)
            member.mtime = 0
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            if stat.S_ISDIR(info.st_mode):
                member.type = tarfile.DIRTYPE
                member.mode = 0o755
                tar.addfile(member)
            elif stat.S_ISREG(info.st_mode):
                total += info.st_size
                if total > MAX_BYTES:
                    raise CliError(f"{folder.name}/ is larger than {MAX_BYTES // 2**30} GB, far "
                                   "more than a question takes: save a smaller model.")
                member.mode = 0o644
                data = (folder / name).read_bytes()
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
            else:
                raise CliError(f"{folder.name}/{name} is a link or a special file; a SavedModel "
                               "holds only files and folders: save the model again.")
    return buffer.getvalue()
