"""Can an exam run on this machine? Answered from file checks alone, before it is chosen.

A learner offline should learn which data set is missing, where tfexam looked and the one thing to
do *before* starting, not after a long preparation that ends in an error. This looks in the same
places as the resolver (mirror, system folders such as Debian's fashion-mnist, the download cache,
and Keras' own cache for MNIST) and never touches the network, so the home page and
`GET /api/exams` can ask on every request.
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from server.datasets.catalogue import CATALOGUE, CatalogueEntry
from server.datasets.registry import STANDIN_FALLBACK, datasets_needed
from server.datasets.resolver import OFFLINE_ENV, locate, offline, places
from server.manifest import Exam

MIRROR_ENV = "TFEXAM_DATASETS"
# Keras' loader keeps a few files in its own cache; tfexam uses them when they are there.
KERAS_CACHED = {"mnist": "mnist.npz"}
PROBE_SECONDS = 2.0


@dataclass(frozen=True)
class Where:
    """The places to look: the same settings the service prepares sessions with."""

    mirror: Path | None
    cache_dir: Path
    keras_home: Path | None = None

    def keras_datasets(self) -> Path:
        home = self.keras_home or Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
        return Path(home).expanduser() / "datasets"


@dataclass
class Missing:
    dataset: str
    variants: list[str]
    looked_in: list[str]
    fix: str
    title: str = ""
    url: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExamAvailability:
    available: bool
    missing: list[Missing] = field(default_factory=list)
    # question id -> the data sets it lacks, for questions where no variant can run here
    blocked: dict[str, list[str]] = field(default_factory=dict)
    standin: list[str] = field(default_factory=list)  # variants that would run on a stand-in


def looked_in(entry: CatalogueEntry, where: Where) -> list[str]:
    folders = [str(folder) for _, folder in places(entry, where.mirror, where.cache_dir)]
    if where.mirror is None:
        folders.insert(0, f"no mirror ({MIRROR_ENV} is not set)")
    if entry.name in KERAS_CACHED:
        folders.append(str(where.keras_datasets() / KERAS_CACHED[entry.name]))
    return folders


def is_here(name: str, where: Where) -> bool:
    entry = CATALOGUE.get(name)
    if entry is None:
        return False
    if name in KERAS_CACHED and (where.keras_datasets() / KERAS_CACHED[name]).is_file():
        return True
    return locate(entry, where.mirror, where.cache_dir) is not None


def fix_for(entry: CatalogueEntry, where: Where) -> str:
    """The one thing to do, in the learner's words."""
    files = ", ".join(f.name for f in entry.files)
    online = ("unset TFEXAM_OFFLINE and go online once" if offline() else "go online once")
    if where.mirror is None:
        mirror = f"or set {MIRROR_ENV} to a mirror folder holding {entry.folder}/{files}"
    else:
        mirror = f"or put {files} in {Path(where.mirror) / entry.folder}"
    return f"{online[0].upper()}{online[1:]} (tfexam downloads it), {mirror}, then restart tfexam."


def exam_availability(exam: Exam, where: Where) -> ExamAvailability:
    """Which data sets each variant lacks, and whether every question keeps a variant that can
    run (a photo question always can: it falls back to a labelled stand-in)."""
    lacking: dict[str, Missing] = {}
    result = ExamAvailability(available=True)
    for question in exam.questions:
        runnable = False
        lacks_here: list[str] = []
        for variant in question.variants:
            needed = datasets_needed(variant.data, dict(variant.params))
            absent = [name for name in needed if not is_here(name, where)]
            label = f"{question.id}/{variant.id}"
            for name in absent:
                if name not in lacking:
                    entry = CATALOGUE.get(name)
                    lacking[name] = Missing(
                        dataset=name, variants=[], title=entry.title if entry else name,
                        looked_in=looked_in(entry, where) if entry else [],
                        fix=fix_for(entry, where) if entry else f"{name} is not in the catalogue.",
                        url=entry.files[0].url if entry else "")
                lacking[name].variants.append(label)
                if name not in lacks_here:
                    lacks_here.append(name)
            if not absent:
                runnable = True
            elif variant.data in STANDIN_FALLBACK:
                runnable = True
                result.standin.append(label)
        if not runnable:
            result.available = False
            result.blocked[question.id] = lacks_here
    result.missing = list(lacking.values())
    return result


def refusal(exam: Exam, check: ExamAvailability, where: Where) -> str:
    """One short sentence for a start that cannot succeed: which data, where tfexam looked, and
    the one thing to do."""
    needs = ", ".join(f"{question} needs {' or '.join(names)}"
                      for question, names in check.blocked.items())
    system = sorted({str(Path(d).parent) for m in check.missing
                     for d in CATALOGUE[m.dataset].system_dirs})
    looked = ([f"the mirror {where.mirror}"] if where.mirror else []) + system + [
        f"the download cache {where.cache_dir / 'datasets'}"]
    places_text = ", ".join(looked[:-1]) + " and " + looked[-1] if len(looked) > 1 else looked[0]
    unset = "" if where.mirror else f"; {MIRROR_ENV} is not set"
    online = "Unset TFEXAM_OFFLINE and go online once" if offline() else "Go online once"
    return (f"{exam.title} cannot start here: {needs}, and none of them is on this machine "
            f"(tfexam looked in {places_text}{unset}). {online} and start again (tfexam downloads "
            f"them), or set {MIRROR_ENV} to a mirror folder and restart tfexam.")


def can_download(check: ExamAvailability) -> bool:
    """Whether a start should try the official downloads: not when TFEXAM_OFFLINE is set, and not
    when the data's host cannot even be reached (one short connection attempt), so an offline
    learner is told at once instead of after a long wait."""
    if offline():
        return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # the proxy decides; the download's own error explains a failure
    hosts = {urlsplit(m.url).hostname for m in check.missing if m.url}
    for host in filter(None, hosts):
        try:
            with socket.create_connection((host, 443), timeout=PROBE_SECONDS):
                pass
        except OSError:
            return False
    return True


__all__ = ["OFFLINE_ENV", "ExamAvailability", "Missing", "Where", "can_download",
           "exam_availability", "refusal"]
