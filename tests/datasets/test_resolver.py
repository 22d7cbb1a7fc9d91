"""Resolution order (mirror, system, cache, download) and the completeness check, on small files
made here; the download is never attempted (TFEXAM_OFFLINE=1)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from server.datasets.base import DatasetUnavailable, PrepareContext
from server.datasets.catalogue import CATALOGUE, EXAM_DATA, CatalogueEntry, DataFile
from server.datasets.resolver import completeness, download_dir, resolve


def _entry(system: Path, sha: str | None = None, rows: int | None = None) -> CatalogueEntry:
    return CatalogueEntry(name="toy", title="A toy set", folder="toy",
                          files=(DataFile("toy.csv", "https://example.invalid/toy.csv", sha, rows),),
                          licence="test", reader="none", system_dirs=(str(system),))


def _ctx(tmp_path: Path, mirror: Path | None) -> PrepareContext:
    return PrepareContext(question_dir=tmp_path / "q", heldout_path=tmp_path / "h.npz", params={},
                          seed=0, cache_dir=tmp_path / "cache", mirror=mirror)


def _put(folder: Path, text: str = "a,b\n1,2\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toy.csv").write_text(text)
    return folder / "toy.csv"


def test_order_is_mirror_then_system_then_cache(tmp_path: Path) -> None:
    entry = _entry(tmp_path / "system")
    ctx = _ctx(tmp_path, tmp_path / "mirror")
    _put(download_dir(entry, ctx.cache_dir))
    assert resolve(entry, ctx).source == "cache"
    _put(tmp_path / "system")
    assert resolve(entry, ctx).source == "system"
    _put(tmp_path / "mirror" / "toy")
    found = resolve(entry, ctx)
    assert (found.source, found.paths["toy.csv"]) == ("mirror", tmp_path / "mirror" / "toy" / "toy.csv")


def test_nothing_found_offline_says_where_it_looked(tmp_path: Path) -> None:
    entry = _entry(tmp_path / "system")
    with pytest.raises(DatasetUnavailable, match="not on this machine.*downloads are off"):
        resolve(entry, _ctx(tmp_path, None))


def test_completeness_by_checksum_then_by_rows(tmp_path: Path) -> None:
    path = _put(tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert completeness(_entry(tmp_path, sha=digest), "toy.csv", path, None) == (True, "")
    assert not completeness(_entry(tmp_path, sha="0" * 64), "toy.csv", path, None)[0]
    complete, note = completeness(_entry(tmp_path, rows=10), "toy.csv", path, 1)
    assert not complete and "1 of the official file's 10" in note


def test_catalogue_names_the_exams_official_urls() -> None:
    for name in ("sunspots", "sarcasm", "bbc-text", "horse-or-human", "rps"):
        assert all(f.url.startswith(EXAM_DATA) for f in CATALOGUE[name].files)
    assert CATALOGUE["fashion-mnist"].system_dirs == ("/usr/share/datasets/fashion-mnist",)
    assert all(f.sha256 for f in CATALOGUE["fashion-mnist"].files)
