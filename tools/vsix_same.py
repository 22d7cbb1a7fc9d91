"""Whether two .vsix files hold the same extension: the same file names with the same bytes.

A .vsix is a zip, and a zip records each file's time, so two builds of the same sources differ as
files; their unpacked contents do not. `make vsix` rebuilds the extension and calls this against
the .vsix shipped in the repository, so a shipped file that no longer matches its sources fails CI.
Standard library only.

Usage: python tools/vsix_same.py SHIPPED REBUILT  (exit 0 the same, 1 different, 2 unreadable)
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path


def contents(path: Path) -> dict[str, str]:
    """Each member's name and the SHA-256 of its bytes (folders, which hold nothing, left out)."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: hashlib.sha256(archive.read(info)).hexdigest()
                for info in archive.infolist() if not info.is_dir()}


def differences(shipped: Path, rebuilt: Path) -> list[str]:
    old, new = contents(shipped), contents(rebuilt)
    lines = [f"only in the shipped one: {name}" for name in sorted(old.keys() - new.keys())]
    lines += [f"only in the rebuilt one: {name}" for name in sorted(new.keys() - old.keys())]
    lines += [f"differs: {name}" for name in sorted(old.keys() & new.keys()) if old[name] != new[name]]
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    shipped, rebuilt = Path(argv[1]), Path(argv[2])
    try:
        found = differences(shipped, rebuilt)
    except (OSError, zipfile.BadZipFile) as why:
        print(f"vsix: cannot compare {shipped} with {rebuilt} ({why}).", file=sys.stderr)
        return 2
    if found:
        print(f"vsix: the shipped {shipped} is not what its sources build ({len(found)} "
              f"difference(s)): {'; '.join(found[:10])}. Run 'make vsix-update' and commit it.",
              file=sys.stderr)
        return 1
    print(f"vsix: the shipped {shipped} holds exactly what its sources build.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
