"""Where a question's model can be, whether a save is complete, whether tfexam will take it at all,
and what its bytes hash to.

"Complete" means the format's own end marker is present: HDF5's superblock states the file's end
address (read here from the superblock bytes, never by handing the file to the HDF5 library in the
service); a zip's central directory is written last; a SavedModel needs `saved_model.pb` and its
variables index. A file that is still being written fails these, so it is never graded half-way.

Hygiene comes before any open: only regular files (and, for a SavedModel, folders of regular
files) are taken. A FIFO, socket or device is refused by its `lstat` alone, so nothing ever blocks
on it; a symbolic link is followed only when it stays inside the project folder; sizes are summed
from `lstat` and checked against the question's limit before a byte is copied; a `.keras` zip's
directory (entries, total unpacked size, ratio) is checked before anything is extracted. A file
with another name (a hard link, `st_nlink` > 1) is refused: its other name may be anywhere, so
tfexam cannot tell that it belongs to the project. A SavedModel folder is walked at most
MAX_SAVEDMODEL_ENTRIES entries and MAX_SAVEDMODEL_DEPTH folders deep, on every poll too.

Each file is opened once, through `confined_open` (every component from the project folder down
with O_NOFOLLOW, then `fstat` compared with what was checked), so a folder swapped for a link
between the check and the copy, or a file swapped for another or for a pipe, is refused instead
of followed; a `.keras` directory is read from that same descriptor, never by opening the path
again.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from server.grading.protocol import ConfigLimits, oversized_entry
from server.watch.confined_open import Identity, Moved, open_inside

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# A SavedModel has about six entries (saved_model.pb, fingerprint.pb, keras_metadata.pb,
# variables/ and its two files, assets/); these bound what one poll of a folder may cost.
MAX_SAVEDMODEL_ENTRIES = 1000
MAX_SAVEDMODEL_DEPTH = 8
# The child's own bounds on a .keras zip (entries, bomb ratio), checked here first, before the
# snapshot: one source for both sides.
ZIP_MAX_ENTRIES = ConfigLimits().zip_entries
ZIP_MAX_RATIO = ConfigLimits().zip_ratio
ZIP_DIRECTORY_BYTES = 1 << 20
COPY_BLOCK = 1 << 20


@dataclass(frozen=True)
class ModelFile:
    path: Path
    format: str  # h5 | keras | savedmodel


class Fingerprint(NamedTuple):
    """What says that writing stopped: unchanged for the settle time."""

    size: int
    newest: float
    files: int


class Refused(Exception):
    """The file will not be taken; the message is the learner's sentence."""


def candidates(question_dir: Path, model_file: str) -> list[ModelFile]:
    stem = Path(model_file).stem
    return [
        ModelFile(question_dir / f"{stem}.h5", "h5"),
        ModelFile(question_dir / f"{stem}.keras", "keras"),
        ModelFile(question_dir / stem, "savedmodel"),
    ]


def present(question_dir: Path, model_file: str) -> ModelFile | None:
    """The most recently saved model of the question, if any (special files included, so that
    they are refused with a sentence instead of ignored)."""
    found = [c for c in candidates(question_dir, model_file) if os.path.lexists(c.path)]
    if not found:
        return None
    return max(found, key=lambda c: fingerprint(c.path).newest)


def match(path: Path, question_dir: Path, model_file: str) -> ModelFile | None:
    """The model a changed path belongs to (a file inside a SavedModel folder counts)."""
    for candidate in candidates(question_dir, model_file):
        if path == candidate.path:
            return candidate
        if candidate.format == "savedmodel" and candidate.path in path.parents:
            return candidate
    return None


class Walk(NamedTuple):
    """What a bounded walk found: (path, lstat) of every entry that is not a folder, and why it
    stopped early, if it did."""

    entries: list[tuple[Path, os.stat_result]]
    cut: str | None  # "entries" or "depth"


def _walk(path: Path) -> Walk:
    """Every entry under a folder with its lstat, links not followed; the path itself for a file.
    Stops after MAX_SAVEDMODEL_ENTRIES entries (folders included) or below MAX_SAVEDMODEL_DEPTH
    folders, whatever the folder holds: a poll's cost is bounded."""
    try:
        top = os.lstat(path)
    except OSError:
        return Walk([], None)
    if not stat.S_ISDIR(top.st_mode):
        return Walk([(path, top)], None)
    found: list[tuple[Path, os.stat_result]] = []
    seen = 0
    stack = [(path, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as listing:
                for entry in listing:
                    seen += 1
                    if seen > MAX_SAVEDMODEL_ENTRIES:
                        return Walk(sorted(found), "entries")
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if not stat.S_ISDIR(info.st_mode):
                        found.append((Path(entry.path), info))
                    elif depth + 1 >= MAX_SAVEDMODEL_DEPTH:
                        return Walk(sorted(found), "depth")
                    else:
                        stack.append((Path(entry.path), depth + 1))
        except OSError:
            continue
    return Walk(sorted(found), None)


def fingerprint(path: Path) -> Fingerprint:
    """(total size, newest mtime, file count) from stat alone: never opens anything."""
    size, newest, count = 0, 0.0, 0
    entries = _walk(path).entries
    if len(entries) == 1 and entries[0][0] == path and stat.S_ISLNK(entries[0][1].st_mode):
        try:  # a link to a single file: the target's size and time say whether it changes
            entries = [(path, os.stat(path))]
        except OSError:
            return Fingerprint(0, 0.0, 0)
    for _, info in entries:
        size += info.st_size
        newest = max(newest, info.st_mtime)
        count += 1
    return Fingerprint(size, newest, count)


# Hygiene -------------------------------------------------------------------------------------------
def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a link"
    return "not a regular file"


def _inside(path: Path, project: Path, shown: str) -> Path:
    """The real path of `path`, which must stay inside the project folder."""
    real = Path(os.path.realpath(path))
    root = Path(os.path.realpath(project))
    if real != root and root not in real.parents:
        raise Refused(f"{shown} is a link to {real}, outside the project folder: tfexam only grades "
                      "files inside the project. Save the model itself there (or copy it in) and "
                      "submit again.")
    return real


class PlannedFile(NamedTuple):
    """One file `checked` allows to be copied: where it really is (inside `root`), where it goes
    in the snapshot, its size, and which file it was (compared again once it is open)."""

    source: Path
    target: Path
    size: int
    root: Path
    root_id: Identity
    identity: Identity


def _one_name(info: os.stat_result, shown: str) -> None:
    if info.st_nlink > 1:
        raise Refused(f"{shown} is a hard link: the same file has {info.st_nlink} names, and tfexam "
                      "cannot tell that the others are inside the project. Save the model itself "
                      "there (model.save(...) writes a new file) and submit again.")


def checked(model: ModelFile, project: Path, limit_bytes: int) -> list[PlannedFile]:
    """What would be copied, after every hygiene rule. Raises Refused with the learner's sentence.
    Opens nothing but a .keras zip (once, confined, to read its directory)."""
    name = model.path.name
    try:
        info = os.lstat(model.path)
        root = Path(os.path.realpath(project))
        root_id = Identity.of(os.stat(root))
    except OSError as error:
        raise Refused(f"{name} disappeared before it could be taken; save it again.") from error
    # Resolved whole, so a linked parent folder (Q1 -> elsewhere) cannot lead outside either.
    source = _inside(model.path, project, name)
    if stat.S_ISLNK(info.st_mode) or source != model.path:
        try:
            info = os.lstat(source)
        except OSError as error:
            raise Refused(f"{name} is a link to nothing: save the model itself and submit again.") \
                from error
    want_dir = model.format == "savedmodel"
    if stat.S_ISDIR(info.st_mode) != want_dir or not (stat.S_ISDIR(info.st_mode)
                                                      or stat.S_ISREG(info.st_mode)):
        if want_dir:
            raise Refused(f"{name} is {_kind(info.st_mode)}; a SavedModel is a folder with "
                          "saved_model.pb and variables/ in it. Save the model again and submit.")
        raise Refused(f"{name} is {_kind(info.st_mode)}, not a model file: tfexam only takes a "
                      f"regular file there. Remove it, save the model with model.save({name!r}) "
                      "and submit again.")
    files: list[PlannedFile] = []
    if not want_dir:
        _one_name(info, name)
        files.append(PlannedFile(source, Path(name), info.st_size, root, root_id,
                                 Identity.of(info)))
    else:
        walk = _walk(source)
        if walk.cut == "entries":
            raise Refused(f"{name}/ holds more than {MAX_SAVEDMODEL_ENTRIES} files and folders, "
                          "far more than a SavedModel has: save the model again into an empty "
                          "folder and submit.")
        if walk.cut == "depth":
            raise Refused(f"{name}/ has folders nested more than {MAX_SAVEDMODEL_DEPTH} deep, which "
                          "no SavedModel has: save the model again into an empty folder and "
                          "submit.")
        for path, entry in walk.entries:
            shown = f"{name}/{path.relative_to(source).as_posix()}"
            if stat.S_ISLNK(entry.st_mode):
                real = _inside(path, project, shown)
                try:
                    entry = os.stat(real)
                except OSError as error:
                    raise Refused(f"{shown} is a link to nothing: save the SavedModel again and "
                                  "submit.") from error
                if stat.S_ISDIR(entry.st_mode):
                    raise Refused(f"{shown} is a link to a folder: save the SavedModel again "
                                  "without links and submit.")
                path_to_read = real
            else:
                path_to_read = Path(os.path.realpath(path))
            if not stat.S_ISREG(entry.st_mode):
                raise Refused(f"{shown} is {_kind(entry.st_mode)}: a SavedModel holds regular files "
                              "only. Remove it, save the model again and submit.")
            _one_name(entry, shown)
            files.append(PlannedFile(path_to_read, path.relative_to(source), entry.st_size, root,
                                     root_id, Identity.of(entry)))
    total = sum(file.size for file in files)
    if total > limit_bytes:
        raise Refused(f"{name} is {total / 2**20:.0f} MB, more than this question takes "
                      f"({limit_bytes / 2**20:.0f} MB): no model for this question needs that much. "
                      "Make the model smaller (fewer or narrower layers), save and submit again.")
    if model.format == "keras":
        with open_planned(files[0], name) as handle:
            check_zip_directory(handle, name)
    return files


def open_planned(file: PlannedFile, shown: str) -> BinaryIO:
    """The one way a learner's file is opened for reading: confined to the project, and the very
    file that was checked (`confined_open`). Refused if it is not; FileNotFoundError if it went."""
    try:
        fd = open_inside(file.root, file.root_id, file.source, file.identity)
    except Moved as moved:
        raise Refused(f"{shown} changed while tfexam was taking it (the file, or a folder on its "
                      "path, was replaced): save the model again and submit.") from moved
    try:
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_zip_directory(handle: BinaryIO, name: str) -> None:
    """Entries, total unpacked size and ratio of a .keras zip, from its directory alone, read
    from an open file (the learner's, once, or tfexam's own snapshot of it)."""
    size = os.fstat(handle.fileno()).st_size
    tail_start = max(0, size - (65536 + 22))
    handle.seek(tail_start)
    tail = handle.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        raise Refused(f"{name} is not a complete zip archive (a .keras file is one): save it again "
                      "with model.save(...) and submit.")
    entries, directory_size = struct.unpack("<HI", tail[end + 10:end + 16])
    if entries > ZIP_MAX_ENTRIES or directory_size > ZIP_DIRECTORY_BYTES:
        raise Refused(f"{name} holds {entries} files; a Keras archive holds a few. Save the model "
                      "again with model.save(...) and submit.")
    try:
        handle.seek(0)
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile) as error:
        raise Refused(f"{name} is not a readable zip archive ({error}): save it again with "
                      "model.save(...) and submit.") from error
    unpacked = sum(i.file_size for i in infos)
    if len(infos) > ZIP_MAX_ENTRIES:
        raise Refused(f"{name} holds {len(infos)} files; a Keras archive holds a few. Save the "
                      "model again with model.save(...) and submit.")
    bomb = oversized_entry(infos, ZIP_MAX_RATIO)
    if bomb is not None:
        raise Refused(f"{name} is a zip bomb: {bomb.filename!r} would unpack "
                      f"{bomb.file_size / max(1, bomb.compress_size):.0f} times larger than it "
                      "is stored. tfexam does not unpack it; save the model again with "
                      "model.save(...) and submit.")
    if unpacked > 4 * max(size, 2**20) and unpacked > 64 * 2**20:
        raise Refused(f"{name} would unpack to {unpacked / 2**20:.0f} MB from "
                      f"{size / 2**20:.1f} MB: tfexam does not unpack it. Save the model again "
                      "with model.save(...) and submit.")


def _open_regular(path: Path) -> BinaryIO:
    """Open one of tfexam's own files, or a learner's for a peek at its first bytes, without
    following a final link and without blocking on a FIFO; refuse anything that turns out not to
    be a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused(f"{path.name} is {_kind(os.fstat(fd).st_mode)}, not a model file.")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def copy_checked(files: list[PlannedFile], target: Path, limit_bytes: int) -> int:
    """Copy what `checked` listed into `target` (a new folder), never more than the limit in all,
    each file opened once, confined, and compared with what was checked. Returns the bytes
    copied."""
    copied = 0
    for file in files:
        destination = target / file.target
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open_planned(file, file.target.as_posix()) as reader, \
                open(destination, "xb") as writer:
            while block := reader.read(COPY_BLOCK):
                copied += len(block)
                if copied > limit_bytes:
                    raise Refused(f"{file.source.name} grew past this question's size limit "
                                  f"({limit_bytes / 2**20:.0f} MB) while it was copied: make the "
                                  "model smaller, save and submit again.")
                writer.write(block)
    return copied


# Completeness ----------------------------------------------------------------------------------
def _hdf5_complete(path: Path) -> bool:
    """The superblock's end-of-file address is within the file (what h5py checks on open)."""
    with _open_regular(path) as handle:
        head = handle.read(96)
        size = os.fstat(handle.fileno()).st_size
    if len(head) < 16 or head[:8] != HDF5_SIGNATURE:
        return False
    version = head[8]
    if version in (0, 1):
        offsets = head[13]
        base_at = 24 if version == 0 else 28
    elif version in (2, 3):
        offsets = head[9]
        base_at = 12
    else:
        return False
    if offsets not in (2, 4, 8) or len(head) < base_at + 3 * offsets:
        return False
    code = {2: "<H", 4: "<I", 8: "<Q"}[offsets]
    base = struct.unpack(code, head[base_at:base_at + offsets])[0]
    eof = struct.unpack(code, head[base_at + 2 * offsets:base_at + 3 * offsets])[0]
    return 0 < base + eof <= size


def _zip_complete(path: Path) -> bool:
    """A zip's end record (written last) closes the file, read from its last 64 KB alone: the
    directory itself is never parsed here, on every poll, whatever it holds (intake checks it
    once, bounded)."""
    with _open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - (65536 + 22)))
        tail = handle.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        return False
    comment = struct.unpack("<H", tail[end + 20:end + 22])[0]
    return end + 22 + comment == len(tail)


def is_complete(model: ModelFile) -> bool:
    """Whether writing finished. A special file is "complete" at once: nothing more will come,
    and intake refuses it with a sentence instead of anything waiting on it."""
    path = Path(os.path.realpath(model.path))
    try:
        info = os.stat(path)
    except OSError:
        return False
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        return True
    if stat.S_ISDIR(info.st_mode) != (model.format == "savedmodel"):
        return True  # a folder where a file belongs, or the reverse: refused, not awaited
    try:
        if model.format == "h5":
            return _hdf5_complete(path)
        if model.format == "keras":
            return _zip_complete(path)
        if model.format == "savedmodel":
            return (path / "saved_model.pb").is_file() and (
                path / "variables" / "variables.index").is_file()
    except (OSError, zipfile.BadZipFile, ValueError, Refused, struct.error):
        return False
    return False


def learner_sha256(model: ModelFile, project: Path, limit_bytes: int) -> str | None:
    """The hash a snapshot of the learner's model would have (as `sha256_of` computes it), read
    the way intake reads it: checked, each file opened confined and compared with what was
    checked, never more than the size limit. None when intake would refuse it or it is gone."""
    try:
        files = checked(model, project, limit_bytes)
        digest = hashlib.sha256()
        read = 0
        for file in files:
            if model.format == "savedmodel":
                digest.update(os.fsencode(file.target.as_posix()) + b"\0")
            with open_planned(file, file.target.as_posix()) as handle:
                while block := handle.read(COPY_BLOCK):
                    read += len(block)
                    if read > limit_bytes:
                        return None
                    digest.update(block)
        return digest.hexdigest()
    except (Refused, OSError):
        return None


def sha256_of(path: Path) -> str:
    """Hash of the bytes; for a folder, of every relative path and its bytes, in order. Only used
    on tfexam's own snapshots (regular files it wrote itself); a learner's file is hashed by
    `learner_sha256`."""
    digest = hashlib.sha256()
    is_dir = path.is_dir()
    for file, info in _walk(path).entries:
        if not stat.S_ISREG(info.st_mode):
            continue
        if is_dir:
            digest.update(os.fsencode(file.relative_to(path).as_posix()) + b"\0")
        with _open_regular(file) as handle:
            for block in iter(lambda h=handle: h.read(COPY_BLOCK), b""):
                digest.update(block)
    return digest.hexdigest()
