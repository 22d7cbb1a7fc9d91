"""The data a joined learner's starters read through Keras' own cache, served by the service.

Most questions carry their data in the project folder, so the project archive brings it. Fashion-
MNIST and MNIST do not: the starter keeps the real exam's line `tf.keras.datasets.fashion_mnist.
load_data()`, which reads Keras' cache and downloads when the files are not there. In local mode
the service primes that cache on its own machine (server/datasets/mnist_like.py); a learner who
joined a classroom service works on another machine, offline perhaps, so the service offers the
very files it prepared the learner's session from, each with its SHA-256, for `tfexam join` to put
into the learner's own Keras cache. Only the files of the learner's own questions are listed or
served: a path is looked up in that list, never joined onto a folder.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from server.config import Settings
from server.datasets.catalogue import CATALOGUE
from server.datasets.mnist_like import KERAS_CACHE_DIRS
from server.datasets.resolver import locate, sha256_of
from server.store.records import QuestionRecord


@dataclass(frozen=True)
class CacheFile:
    """One file as the learner's Keras cache must hold it: its place relative to the Keras home
    (`datasets/fashion-mnist/train-images-idx3-ubyte.gz`), and the service's copy."""

    path: str
    dataset: str
    title: str
    source: Path
    size: int
    sha256: str

    def listing(self) -> dict[str, object]:
        return {"path": self.path, "dataset": self.dataset, "title": self.title,
                "size": self.size, "sha256": self.sha256}


class KerasData:
    """Which Keras-cache files a session's questions need, and the service's copy of each.

    Hashes are remembered per file (path, size, modification time): a cohort of hundreds joining
    at once costs one read of each file, not one per learner."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._hashes: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()

    def _sha256(self, path: Path) -> tuple[int, str]:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._hashes.get(key)
        if known is None:
            known = sha256_of(path)
            with self._lock:
                self._hashes[key] = known
        return stat.st_size, known

    def _service_copy(self, dataset: str, name: str, location: str | None) -> Path | None:
        """Where the session's data came from (its provenance names the folder), else wherever
        the service finds the data set now (mirror, system package, download cache)."""
        if location:
            prepared_from = Path(location) / name
            if prepared_from.is_file():
                return prepared_from
        found = locate(CATALOGUE[dataset], self.settings.datasets_mirror, self.settings.cache_dir)
        return found.paths.get(name) if found else None

    def for_questions(self, questions: list[QuestionRecord]) -> tuple[list[CacheFile], list[str]]:
        """The files, and one sentence for each the service cannot offer (it lost its copy)."""
        files: list[CacheFile] = []
        missing: list[str] = []
        datasets = {str(q.data.get("dataset")): q for q in questions
                    if q.data.get("dataset") in KERAS_CACHE_DIRS}
        for dataset, question in sorted(datasets.items()):
            entry = CATALOGUE[dataset]
            for data_file in entry.files:
                path = f"{KERAS_CACHE_DIRS[dataset]}/{data_file.name}"
                source = self._service_copy(dataset, data_file.name,
                                            question.data.get("location"))
                if source is None:
                    missing.append(f"The service no longer has {entry.title}'s {data_file.name} "
                                   f"that {question.question_id} reads: tell your instructor, "
                                   "who can put it back in the service's data mirror.")
                    continue
                try:
                    size, sha256 = self._sha256(source)
                except OSError as why:
                    missing.append(f"The service cannot read its copy of {data_file.name} "
                                   f"({why.strerror or why}): tell your instructor.")
                    continue
                files.append(CacheFile(path, dataset, entry.title, source, size, sha256))
        return files, missing
