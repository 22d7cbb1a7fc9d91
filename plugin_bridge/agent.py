"""The learner's agent for classroom mode: `tfexam join <url> <code>` and `tfexam sync`.

`join` asks the central service for a place in the sitting, unpacks the project it made into a new
local folder, and records the service, the session and the learner's own token in
`.tfexam/session.json`, so the CLI, the exam page and the IDE buttons work against the central
service as they do against a local one. Then it watches the folder as the real exam's plugin did
and uploads every complete save:
- complete: the file's size and modification time stayed the same for `settle` seconds and its
  format's own markers are whole (an HDF5 signature; a zip's end record for `.keras`); a
  SavedModel folder (`mymodel/`) when nothing in it changed for `settle` seconds and
  saved_model.pb, variables/variables.index and every variables shard are there; it travels as
  one plain tar archive whose bytes depend only on the folder's content
  (plugin_bridge/saved_model_folder.py), so its hash names the save;
- once: each upload carries the content's SHA-256; a save already sent (this run or an earlier
  one, `.tfexam/uploads.json`) is not sent again, and a retried upload the service already has is
  stored once there;
- offline: an upload that cannot reach the service is tried again at every look, newest content
  only. The service's clock decides whether a save counts: it counts if it reaches the service
  before the deadline. A save made offline and delivered after the deadline does not count, since
  the learner's clock, which the learner controls, cannot prove when it was made.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from plugin_bridge import saved_model_folder
from plugin_bridge.client import Client
from plugin_bridge.errors import ApiError, CliError, ServiceUnreachable, UsageError

SESSION_FILE = Path(".tfexam") / "session.json"
UPLOADS_FILE = Path(".tfexam") / "uploads.json"
SUFFIXES = (".h5", ".keras")
SAVED_MODEL_SUFFIX = ".savedmodel.tar"  # the service's name for a SavedModel folder's archive
ZIP_END = b"PK\x05\x06"


def _private_write(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _unpack(archive: bytes, folder: Path) -> None:
    """Only plain files and folders, each inside `folder` (no links, no absolute or '..' names)."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = PurePosixPath(member.name)
            if name.is_absolute() or ".." in name.parts:
                raise CliError(f"The service sent a project entry outside the folder "
                               f"({member.name}); nothing more was unpacked.")
            target = folder.joinpath(*name.parts)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                target.write_bytes(source.read())
                target.chmod(0o755 if member.mode & 0o111 else 0o644)


def own_tfexam() -> list[str]:
    """The command that runs tfexam's CLI on this (the learner's) machine, absolute so no PATH or
    interpreter choice in the IDE changes it: the `tfexam` script beside this Python (a virtual
    environment's bin folder), else the one on PATH, else this Python with `-m
    plugin_bridge.cli`. The same choice the service makes for a local project
    (server/workspace/ide.py), made here because only this machine knows its own paths."""
    beside = Path(sys.executable).parent / ("tfexam.exe" if sys.platform == "win32" else "tfexam")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("tfexam")
    if found:
        return [str(Path(found).absolute())]
    return [sys.executable, "-m", "plugin_bridge.cli"]


def join(url: str, code: str, name: str, folder: Path) -> dict[str, Any]:
    """Join a sitting and make its project in `folder` (new, or empty); returns session.json."""
    folder = folder.expanduser().resolve()
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} is not empty: give a new folder for the project (--folder).")
    anonymous = Client(url)
    reply = anonymous.post("/api/classroom/join", {"code": code, "name": name})
    learner = Client(url, reply["token"], session=reply["session"])
    # The IDE buttons must call this machine's tfexam, so the service renders them for it.
    archive = learner.raw("POST", "/api/classroom/me/project.tar.gz",
                          data=json.dumps({"tfexam": own_tfexam(),
                                           "folder_name": folder.name}).encode(),
                          headers={"Content-Type": "application/json"})
    folder.mkdir(parents=True, exist_ok=True)
    _unpack(archive, folder)
    (folder / ".tfexam").mkdir(mode=0o700, exist_ok=True)
    (folder / ".tfexam").chmod(0o700)  # it is about to hold the learner's token
    meta = {"session": reply["session"], "exam": reply["exam"], "server": url.rstrip("/"),
            "token": reply["token"], "deadline": reply["deadline"],
            "questions": reply["questions"], "keras": reply["keras"], "classroom": True,
            "learner": reply["learner"], "name": reply["name"]}
    _private_write(folder / SESSION_FILE, json.dumps(meta, indent=2))
    return meta


def looks_complete(path: Path) -> bool:
    """The format's own markers are whole: a file cut short by a save in progress is not sent."""
    try:
        with path.open("rb") as handle:
            if path.suffix == ".h5":
                return handle.read(8) == b"\x89HDF\r\n\x1a\n"
            size = path.stat().st_size
            handle.seek(max(0, size - 65_557))
            return ZIP_END in handle.read()
    except OSError:
        return False


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Seen:
    signature: object  # (size, mtime) of a file; every entry's of a SavedModel folder
    since: float


def _newest(path: Path) -> int:
    """When the model at `path` was last written (a folder: its newest entry); 0 if gone."""
    try:
        if path.is_dir():
            return max((entry[2] for entry in saved_model_folder.signature(path)), default=0)
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _signature(path: Path) -> object:
    if path.is_dir():
        return saved_model_folder.signature(path)
    stat = path.stat()
    return (stat.st_size, stat.st_mtime_ns)


@dataclass
class Uploader:
    """Looks at each question's model files and uploads each complete new content once."""

    root: Path
    client: Client
    session: str
    questions: dict[str, str]
    settle: float = 1.0
    clock: Callable[[], float] = time.monotonic
    sent: dict[str, str] = field(default_factory=dict)  # "Q1/mymodel.h5" -> sha256
    seen: dict[str, Seen] = field(default_factory=dict)
    offline: bool = False
    closed: str | None = None  # the service's sentence once the exam is over
    told: set[tuple[str, str, str]] = field(default_factory=set)  # refusals already shown

    @classmethod
    def of_project(cls, root: Path, settle: float = 1.0) -> Uploader:
        meta = json.loads((root / SESSION_FILE).read_text(encoding="utf-8"))
        if not meta.get("classroom"):
            raise UsageError(f"{root} was not made by 'tfexam join': the local service watches "
                             "it by itself.")
        uploader = cls(root, Client(meta["server"], meta["token"], session=meta["session"]), meta["session"],
                       dict(meta["questions"]), settle)
        uploads = root / UPLOADS_FILE
        if uploads.is_file():
            uploader.sent = dict(json.loads(uploads.read_text(encoding="utf-8")))
        return uploader

    def candidates(self) -> list[tuple[str, Path]]:
        found = []
        for question, model_file in self.questions.items():
            stem = Path(model_file).stem
            for suffix in SUFFIXES:
                path = self.root / question / f"{stem}{suffix}"
                if path.is_file():
                    found.append((question, path))
            folder = self.root / question / stem
            if folder.is_dir() and not folder.is_symlink():
                found.append((question, folder))
        # Oldest save first: the service grades the model it received last, which must then be
        # the one the learner saved last when a question holds two formats.
        return sorted(found, key=lambda item: _newest(item[1]))

    def look(self) -> list[str]:
        """One look: upload what is complete and new; returns the keys uploaded."""
        uploaded = []
        for question, path in self.candidates():
            key = f"{question}/{path.name}" + ("/" if path.is_dir() else "")
            try:
                signature = _signature(path)
            except OSError:
                continue
            now = self.clock()
            previous = self.seen.get(key)
            if previous is None or previous.signature != signature:
                self.seen[key] = Seen(signature, now)
                continue
            if now - previous.since < self.settle:
                continue
            if path.is_dir():
                if not saved_model_folder.is_whole(path):
                    continue
                try:
                    data = saved_model_folder.pack(path)
                except (CliError, OSError) as why:
                    self._refused(key, str(why))
                    continue
                if saved_model_folder.signature(path) != signature:
                    continue  # changed while packed: the next look takes the new content
                name = f"{path.name}{SAVED_MODEL_SUFFIX}"
            else:
                if not looks_complete(path):
                    continue
                data = path.read_bytes()
                if _signature(path) != signature:
                    continue
                name = path.name
            digest = hashlib.sha256(data).hexdigest()
            if self.sent.get(key) == digest:
                continue
            if self._upload(question, name, data, digest):
                self.sent[key] = digest
                _private_write(self.root / UPLOADS_FILE, json.dumps(self.sent, indent=2))
                uploaded.append(key)
        return uploaded

    def _refused(self, key: str, why: str) -> None:
        """Said once per content: a save the service would refuse is not sent at all."""
        if self.sent.get(key) != f"refused: {why}":
            print(f"tfexam: {key} was not sent: {why}", flush=True)
            self.sent[key] = f"refused: {why}"

    def _upload(self, question: str, name: str, data: bytes, digest: str) -> bool:
        try:
            self.client.raw("PUT", f"/api/sessions/{self.session}/questions/{question}/upload",
                            data=data, query={"name": name},
                            headers={"X-Content-SHA256": digest,
                                     "Content-Type": "application/octet-stream"})
        except ServiceUnreachable:
            self.offline = True
            return False
        except ApiError as refusal:
            if refusal.status == 409:
                self.closed = str(refusal)
            elif (question, name, digest) not in self.told:  # once, not at every look
                self.told.add((question, name, digest))
                print(f"tfexam: {question}/{name} was not taken: {refusal}", flush=True)
            return refusal.status == 409  # an exam that is over takes nothing more
        self.offline = False
        return True

    def run(self, stop: Callable[[], bool] = lambda: False, interval: float = 0.5,
            report: Callable[[str], None] = print) -> None:
        was_offline = False
        while not stop() and self.closed is None:
            for key in self.look():
                report(f"uploaded {key}")
            if self.offline != was_offline:
                report("the service is not reachable: saves are kept and sent when it is back"
                       if self.offline else "the service is reachable again")
                was_offline = self.offline
            time.sleep(interval)
        if self.closed:
            report(self.closed)
