"""tools/vsix_same.py: two builds of the same extension are the same whatever their zip times say;
a file changed, added or removed is named."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def vsix(path: Path, files: dict[str, str], year: int) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(year, 1, 1, 0, 0, 0)), text)
    return path


def same(a: Path, b: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "vsix_same.py"), str(a), str(b)],
                          capture_output=True, text=True)


def test_times_do_not_count_contents_do(tmp_path: Path) -> None:
    files = {"extension/package.json": "{}", "extension/out/extension.js": "a"}
    shipped = vsix(tmp_path / "shipped.vsix", files, 2020)
    assert shipped.read_bytes() != vsix(tmp_path / "again.vsix", files, 2026).read_bytes()
    assert same(shipped, tmp_path / "again.vsix").returncode == 0
    changed = vsix(tmp_path / "changed.vsix", {"extension/package.json": "{}",
                                               "extension/out/extension.js": "b",
                                               "extension/out/new.js": ""}, 2020)
    done = same(shipped, changed)
    assert done.returncode == 1
    assert "differs: extension/out/extension.js" in done.stderr
    assert "only in the rebuilt one: extension/out/new.js" in done.stderr
    assert "make vsix-update" in done.stderr
    assert same(shipped, tmp_path / "absent.vsix").returncode == 2
