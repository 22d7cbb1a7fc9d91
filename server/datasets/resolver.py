"""Find a catalogued file: the mirror, the system, the download cache, then the official URL.

The order puts what needs no network first, so an offline machine with a mirror or a Debian
package never waits on the web. Whatever is used is reported (`Resolved.source`), so a session's
provenance can say where its data came from.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from server.datasets.base import DatasetUnavailable, PrepareContext, Provenance
from server.datasets.catalogue import CatalogueEntry
from server.datasets.download import DownloadFailed, DownloadPolicy, fetch
from server.environment import TRUE_WORDS

OFFLINE_ENV = "TFEXAM_OFFLINE"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Resolved:
    paths: dict[str, Path]
    source: str  # mirror | system | cache | download
    location: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def offline() -> bool:
    """Tests and air-gapped machines set TFEXAM_OFFLINE=1 so nothing ever reaches for the web."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in TRUE_WORDS


def download_dir(entry: CatalogueEntry, cache_dir: Path) -> Path:
    return cache_dir / "datasets" / entry.folder


def _all_in(folder: Path, entry: CatalogueEntry) -> dict[str, Path] | None:
    paths = {f.name: folder / f.name for f in entry.files}
    return paths if all(p.is_file() for p in paths.values()) else None


def places(entry: CatalogueEntry, mirror: Path | None, cache_dir: Path) -> list[tuple[str, Path]]:
    """Every folder that may hold the entry's files, in the order they are tried (no network)."""
    found: list[tuple[str, Path]] = []
    if mirror is not None:
        found.append(("mirror", Path(mirror) / entry.folder))
    found.extend(("system", Path(d)) for d in entry.system_dirs)
    found.append(("cache", download_dir(entry, cache_dir)))
    return found


def _candidates(entry: CatalogueEntry, ctx: PrepareContext) -> list[tuple[str, Path]]:
    return places(entry, ctx.mirror, ctx.cache_dir)


def locate(entry: CatalogueEntry, mirror: Path | None, cache_dir: Path) -> Resolved | None:
    """The first place that already holds every file of the entry; None if none does. Only file
    checks: it never downloads, so it can answer "can this exam run here?" at once."""
    for source, folder in places(entry, mirror, cache_dir):
        paths = _all_in(folder, entry)
        if paths is not None:
            return Resolved(paths, source, str(folder))
    return None


def _download(entry: CatalogueEntry, cache_dir: Path,
              policy: DownloadPolicy | None = None) -> dict[str, Path]:
    """Every file of the entry in the download cache, fetched where missing (`download.fetch`:
    time-outs, retries, checked against the published checksum or record count)."""
    target = download_dir(entry, cache_dir)
    target.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for data_file in entry.files:
        final = target / data_file.name
        if not final.is_file():
            try:
                fetch(data_file, final, policy)
            except DownloadFailed as why:
                raise DatasetUnavailable(
                    f"{entry.title} is not on this machine and could not be downloaded from "
                    f"{data_file.url} ({why}); try again later, or put the files in a mirror "
                    f"folder (TFEXAM_DATASETS=<folder>/{entry.folder}/) to use it offline."
                ) from why
        paths[data_file.name] = final
    return paths


def resolve(entry: CatalogueEntry, ctx: PrepareContext) -> Resolved:
    """The first place that holds every file of the entry, downloading only as the last resort."""
    found = locate(entry, ctx.mirror, ctx.cache_dir)
    if found is not None:
        return found
    if offline():
        places = ", ".join(str(folder) for _, folder in _candidates(entry, ctx))
        raise DatasetUnavailable(
            f"{entry.title} is not on this machine (looked in {places}) and downloads are off "
            f"({OFFLINE_ENV} is set)."
        )
    paths = _download(entry, ctx.cache_dir)
    return Resolved(paths, "download", str(download_dir(entry, ctx.cache_dir)))


def completeness(entry: CatalogueEntry, name: str, path: Path, rows: int | None) -> tuple[bool, str]:
    """Whether a resolved file is the whole official file: by checksum if known, else by rows.

    The mirror's sarcasm and BBC copies are partial; a session built on them must say so.
    """
    data_file = entry.file(name)
    if data_file.sha256:
        if sha256_of(path) == data_file.sha256:
            return True, ""
        return False, f"{name} differs from the official file (sha256 mismatch)."
    if data_file.rows is not None and rows is not None and rows < data_file.rows:
        return False, (f"{name} holds {rows:,} of the official file's {data_file.rows:,} records: "
                       "a partial copy, so scores are not comparable with the real exam's.")
    return True, ""


def resolved_provenance(catalogue_entry: CatalogueEntry, resolved: Resolved, *, train: int,
                        heldout: int, complete: bool = True, note: str = "",
                        official_url: str | None = None) -> Provenance:
    """Provenance of data that came through the resolver: the catalogue says what the data is,
    the resolver where this copy came from."""
    return Provenance(
        dataset=catalogue_entry.name,
        title=catalogue_entry.title,
        source=resolved.source,
        location=resolved.location,
        complete=complete,
        note=note,
        licence=catalogue_entry.licence,
        official_url=official_url or catalogue_entry.files[0].url,
        train_examples=train,
        heldout_examples=heldout,
    )
