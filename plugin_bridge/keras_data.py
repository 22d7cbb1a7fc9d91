"""The data sets a joined project's starters read from Keras' own cache, put into this machine's.

A starter keeps the real exam's line `tf.keras.datasets.fashion_mnist.load_data()`, which reads
Keras' cache and downloads only when the files are missing. In local mode the service primes the
cache on its own machine; a learner who joined a classroom works on theirs, perhaps with no
internet at all, so `tfexam join` and `tfexam sync` fetch the files from the central service (the
files of the learner's own questions, listed with their SHA-256) and put them where Keras will
look, as if Keras had downloaded them:
- where: Keras 2 (`tf_keras`, the exam's default) always reads `~/.keras`, whatever KERAS_HOME
  says; Keras 3 reads KERAS_HOME, else `~/.keras`;
- never over a good file: a file already there with the service's hash is left as it is; one
  that differs (a download cut short by an earlier `load_data()`) is kept beside it as
  `<name>.before-tfexam` once the service's copy has arrived whole;
- verified: a file is put in place only when its SHA-256 is the service's;
- resumable: bytes go to `<name>.tfexam-part` and a later `tfexam sync` asks only for the rest.
Every failure is one sentence; none stops the join (the project and its uploads matter more).
"""

from __future__ import annotations

import errno
import json
import os
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from plugin_bridge.agent import sha256_of
from plugin_bridge.client import Client
from plugin_bridge.errors import ApiError, CliError

LISTING = "/api/classroom/me/keras-data"
PART_SUFFIX = ".tfexam-part"
KEPT_SUFFIX = ".before-tfexam"


def keras_cache_home(keras: str, environ: Mapping[str, str] = os.environ) -> Path:
    """The folder Keras' loaders read on this machine for the session's Keras."""
    chosen = environ.get("KERAS_HOME") if keras == "3" else None
    return Path(chosen).expanduser() if chosen else Path.home() / ".keras"


@dataclass
class Outcome:
    """What one fetch did: files put in place, files already there, and the sentences to show."""

    home: Path
    placed: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    received: int = 0  # bytes that came over the network (a resumed file: only the rest)

    def summary(self) -> str | None:
        if not self.placed and not self.present:
            return None
        said = (f"{len(self.placed)} fetched from the service ({self.received / 2**20:.1f} MB)"
                if self.placed else "")
        if self.present:
            said += ("; " if said else "") + f"{len(self.present)} already there"
        return f"Data for Keras' cache in {self.home}: {said} (each checked by its SHA-256)."


def _inside(home: Path, relative: str) -> Path | None:
    """`relative` as a path under `home`, or None for a name that would leave it."""
    name = PurePosixPath(relative)
    if not relative or name.is_absolute() or ".." in name.parts or "\\" in relative:
        return None
    return home.joinpath(*name.parts)


def _set_aside(target: Path) -> Path:
    """Move the learner's differing file out of the way, never over an earlier one kept."""
    aside = target.with_name(target.name + KEPT_SUFFIX)
    number = 1
    while aside.exists() or aside.is_symlink():
        number += 1
        aside = target.with_name(f"{target.name}{KEPT_SUFFIX}-{number}")
    target.rename(aside)
    return aside


def _fetch_one(client: Client, home: Path, item: dict[str, Any], outcome: Outcome) -> None:
    relative, size, expected = str(item["path"]), int(item["size"]), str(item["sha256"])
    target = _inside(home, relative)
    if target is None:
        outcome.problems.append(f"The service named a data file outside Keras' cache "
                                f"({relative!r}); it was not fetched.")
        return
    if target.is_file() and sha256_of(target) == expected:
        outcome.present.append(relative)
        return
    part = target.with_name(target.name + PART_SUFFIX)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        have = part.stat().st_size if part.is_file() else 0
        if have > size:
            part.unlink()
            have = 0
        if have < size:
            with part.open("ab") as sink:
                sent = client.download(f"{LISTING}/{urllib.parse.quote(relative)}", sink, have)
                outcome.received += sink.tell() - (have if sent.get("content-range") else 0)
            if sent.get("x-content-sha256", expected) != expected:
                part.unlink()
                outcome.problems.append(
                    f"The service's copy of {relative} changed while it was fetched: run "
                    "`tfexam sync` in the project folder to fetch it again.")
                return
        if sha256_of(part) != expected:
            part.unlink()
            outcome.problems.append(
                f"{relative} arrived damaged (its SHA-256 differs from the service's) and was "
                "not used: run `tfexam sync` in the project folder to fetch it again.")
            return
        if target.exists() or target.is_symlink():
            kept = _set_aside(target)
            outcome.problems.append(f"{target} differed from the service's copy: it is kept as "
                                    f"{kept.name} and the service's copy is in its place.")
        os.replace(part, target)
        outcome.placed.append(relative)
    except OSError as why:
        if why.errno in (errno.ENOSPC, errno.EDQUOT):
            missing_mb = max(1, (size - (part.stat().st_size if part.is_file() else 0)) >> 20)
            outcome.problems.append(
                f"The disk that holds {home} is full: free about {missing_mb} MB, then run "
                "`tfexam sync` in the project folder (what arrived is kept and it goes on).")
        else:
            outcome.problems.append(f"{target} could not be written ({why.strerror or why}): "
                                    "make that folder writable, then run `tfexam sync` in the "
                                    "project folder.")


def fetch_keras_data(client: Client, keras: str, home: Path | None = None) -> Outcome:
    """Every Keras-cache file the learner's questions read, in this machine's cache."""
    outcome = Outcome(home or keras_cache_home(keras))
    try:
        listing = client.get(LISTING)
    except ApiError as refusal:
        if refusal.status == 404:
            outcome.problems.append("This classroom service offers no data sets to learners (it "
                                    "is older than your tfexam): a starter that loads Fashion-"
                                    "MNIST or MNIST needs the internet once.")
        else:
            outcome.problems.append(str(refusal))
        return outcome
    except CliError:  # unreachable: `tfexam sync` still watches and uploads meanwhile
        outcome.problems.append(f"The data sets could not be fetched now: the service at "
                                f"{client.url} does not answer; run `tfexam sync` in the project "
                                "folder again once it does.")
        return outcome
    outcome.problems.extend(str(sentence) for sentence in listing.get("missing") or [])
    for item in listing.get("files") or []:
        try:
            _fetch_one(client, outcome.home, item, outcome)
        except CliError as why:  # the service stopped answering: the part is kept for later
            outcome.problems.append(f"{item.get('path')} was not fetched: {why}")
            break
    return outcome


def bring_keras_data(root: Path, report: Callable[[str], None],
                     complain: Callable[[str], None]) -> bool:
    """For a project made by `tfexam join`: fetch, then say what happened; False if anything
    is missing or went wrong (each said in its sentence)."""
    meta = json.loads((root / ".tfexam" / "session.json").read_text(encoding="utf-8"))
    client = Client(meta["server"], meta["token"], session=meta["session"])
    outcome = fetch_keras_data(client, str(meta.get("keras") or "2"))
    summary = outcome.summary()
    if summary:
        report(summary)
    for sentence in outcome.problems:
        complain(f"tfexam: {sentence}")
    return not outcome.problems
