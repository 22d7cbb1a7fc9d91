"""A learner's SavedModel folder, sent by the agent as one plain tar archive, unpacked into the
question's folder of the server-side project.

The archive is hostile like every model file: unpacking is not loading (nothing here reads what
the files say), but nothing in it may land outside the question's folder or make the service
write without bound. So, before a byte is written anywhere the watcher looks:
- only regular files and folders (no links of either kind, no devices, no pipes);
- only relative names without `..`, backslashes or NUL, at most MAX_DEPTH folders deep;
- at most MAX_ENTRIES entries and `limit_bytes` of content, counted as the files are written
  (the sizes the archive claims are not trusted for the total);
- each name once, and the result a whole SavedModel (saved_model.pb, variables/variables.index).
It is unpacked into a hidden staging folder beside the model (`.mymodel.<random>.upload`: the
watcher and the misplaced-model check skip hidden names), with files created exclusively and
without following links, then swapped in with one rename, so the service's watcher sees one
complete save appear, as a learner's own atomic save would. Each refusal is one sentence.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import os
import secrets
import shutil
import stat
import tarfile
from pathlib import Path, PurePosixPath

from server.watch.model_files import MAX_SAVEDMODEL_DEPTH, MAX_SAVEDMODEL_ENTRIES

MAX_ENTRIES = MAX_SAVEDMODEL_ENTRIES  # the watcher's own bound: a folder it would refuse anyway
MAX_DEPTH = MAX_SAVEDMODEL_DEPTH
SUFFIX = ".savedmodel.tar"  # the upload's name: <stem>.savedmodel.tar
COPY_BLOCK = 1 << 20
RENAME_EXCHANGE = 2  # Linux renameat2(2) flag: swap two names in one step


class ArchiveRefused(ValueError):
    """The archive was not unpacked; the message is the one sentence the learner's agent shows."""


def _checked_name(member: tarfile.TarInfo) -> PurePosixPath:
    raw = member.name
    if not raw or "\x00" in raw or "\\" in raw:
        raise ArchiveRefused(f"The SavedModel archive holds an odd name ({raw!r}): save the model "
                             "again with model.export() or tf.saved_model.save() and let the "
                             "agent send it.")
    name = PurePosixPath(raw)
    if name.is_absolute():
        raise ArchiveRefused(f"The SavedModel archive names an absolute path ({raw}); only "
                             "names inside the model's folder are taken.")
    parts = [p for p in name.parts if p != "."]
    if ".." in parts:
        raise ArchiveRefused(f"The SavedModel archive names a path outside the model's folder "
                             f"({raw}); nothing was unpacked.")
    if not parts:
        raise ArchiveRefused("The SavedModel archive holds an entry without a name; nothing was "
                             "unpacked.")
    if len(parts) > MAX_DEPTH:
        raise ArchiveRefused(f"The SavedModel archive nests folders more than {MAX_DEPTH} deep, "
                             "which no SavedModel does: save the model again into an empty "
                             "folder.")
    return PurePosixPath(*parts)


def _checked_kind(member: tarfile.TarInfo) -> None:
    if member.issym() or member.islnk():
        raise ArchiveRefused(f"The SavedModel archive holds a link ({member.name}); a SavedModel "
                             "holds only files and folders: save it again without links.")
    if not (member.isreg() or member.isdir()):
        raise ArchiveRefused(f"The SavedModel archive holds {member.name}, which is neither a "
                             "file nor a folder; a SavedModel holds only files and folders.")


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path,
                  budget: int) -> int:
    """Write one file, created here and now (never through a link); returns the bytes written.
    Raises when the content would pass `budget`."""
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has content
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError:
        raise ArchiveRefused(f"The SavedModel archive names {member.name} twice; nothing was "
                             "unpacked.") from None
    written = 0
    with os.fdopen(fd, "wb") as handle:
        while block := source.read(COPY_BLOCK):
            written += len(block)
            if written > budget:
                raise ArchiveRefused("The SavedModel unpacks to more than the size a question "
                                     "takes; save a smaller model.")
            handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
    return written


def unpack_into(archive: bytes, staging: Path, limit_bytes: int) -> None:
    """Unpack a SavedModel archive into `staging` (a new folder), or refuse with a sentence."""
    try:
        tar = tarfile.open(fileobj=io.BytesIO(archive), mode="r:")  # noqa: SIM115 - the with below
    except tarfile.TarError:
        raise ArchiveRefused("The upload is not a SavedModel archive (a plain tar): update "
                             "tfexam on your machine and let the agent send it again.") from None
    staging.mkdir(mode=0o755)
    entries = written = 0
    with tar:
        try:
            for member in tar:
                entries += 1
                if entries > MAX_ENTRIES:
                    raise ArchiveRefused(f"The SavedModel archive holds more than {MAX_ENTRIES} "
                                         "files and folders, far more than a SavedModel has: "
                                         "save the model again into an empty folder.")
                _checked_kind(member)
                name = _checked_name(member)
                target = staging.joinpath(*name.parts)
                for folder in reversed(target.parents):
                    if folder == staging or staging not in folder.parents:
                        continue
                    _ensure_folder(folder, member.name)
                if member.isdir():
                    _ensure_folder(target, member.name)
                else:
                    written += _write_member(tar, member, target, limit_bytes - written)
        except tarfile.TarError:
            raise ArchiveRefused("The SavedModel archive is cut short or damaged: the agent "
                                 "sends it again.") from None
    if not ((staging / "saved_model.pb").is_file()
            and (staging / "variables" / "variables.index").is_file()):
        raise ArchiveRefused("The upload is not a whole SavedModel (it needs saved_model.pb and "
                             "variables/variables.index): save the model again and let it "
                             "finish.")


def _ensure_folder(folder: Path, shown: str) -> None:
    try:
        folder.mkdir(mode=0o755)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            raise ArchiveRefused(f"The SavedModel archive names {shown} as both a file and a "
                                 "folder; nothing was unpacked.") from None


def _exchange(first: Path, second: Path) -> bool:
    """Swap two names in one step (Linux renameat2); False where the system cannot."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second),
                       RENAME_EXCHANGE)
    return bool(result == 0)


def place(archive: bytes, question_dir: Path, stem: str, limit_bytes: int) -> None:
    """Unpack and swap the SavedModel in as `question_dir/stem`, whole or not at all."""
    target = question_dir / stem
    staging = question_dir / f".{stem}.{secrets.token_hex(4)}.upload"
    try:
        unpack_into(archive, staging, limit_bytes)
        if not os.path.lexists(target):
            os.rename(staging, target)
            return
        if not _exchange(staging, target):
            # No atomic swap here: move the old one aside, then the new one in (a moment
            # without a model, never a half-written one).
            aside = question_dir / f".{stem}.{secrets.token_hex(4)}.old"
            os.rename(target, aside)
            try:
                os.rename(staging, target)
            except OSError:
                os.rename(aside, target)  # the previous save stays, as if nothing came
                raise
            staging = aside
    finally:
        if os.path.lexists(staging):
            if os.path.isdir(staging) and not os.path.islink(staging):
                shutil.rmtree(staging, ignore_errors=True)
            else:
                os.unlink(staging)
