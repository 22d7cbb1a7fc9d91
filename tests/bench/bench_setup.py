"""Benchmark: the first `make serve`'s set-up from a fresh clone, against plain pip in the same run.

Both start from a fresh clone of this repository's HEAD and empty download caches (a temporary
PIP_CACHE_DIR and UV_CACHE_DIR of their own), so each downloads everything, as on a new machine.
The baseline is the Makefile's recipe before uv, for the same packages (the learner's install,
without the test tools, which `make serve` no longer installs): `python -m venv`, upgrade pip,
`pip install -e .`. Prints each wall time, each environment's size on disk, and their ratio. It needs the
package index, several minutes and about 5 GB of temporary disk; it is not part of `make bench`.

    python3 tests/bench/bench_setup.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PIP_RECIPE = [
    [sys.executable, "-m", "venv", ".venv"],
    [".venv/bin/python", "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
    [".venv/bin/python", "-m", "pip", "install", "--quiet", "-e", "."],
]
MAKE_RECIPE = [["make", "--no-print-directory", ".venv/.installed-stamp"]]


def size_of(folder: Path) -> int:
    """Bytes on disk, each hard-linked file once (uv links from its cache), as `du` counts."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for path in folder.rglob("*"):
        try:
            stat = path.lstat()
        except OSError:
            continue
        if (stat.st_dev, stat.st_ino) in seen:
            continue
        seen.add((stat.st_dev, stat.st_ino))
        total += stat.st_blocks * 512
    return total


def timed_setup(work: Path, name: str, recipe: list[list[str]]) -> tuple[float, int]:
    clone = work / name
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {**os.environ, "PIP_CACHE_DIR": str(work / f"{name}-pip-cache"),
           "UV_CACHE_DIR": str(work / f"{name}-uv-cache"), "PYTHON": sys.executable}
    started = time.perf_counter()
    for command in recipe:
        done = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - started, size_of(clone / ".venv")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the clones (to inspect them)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tfexam-setup-bench-"))
    try:
        pip_seconds, pip_bytes = timed_setup(work, "pip", PIP_RECIPE)
        print(f"baseline pip install (old Makefile): {pip_seconds:6.1f} s, "
              f".venv {pip_bytes / 1e9:.2f} GB", flush=True)
        make_seconds, make_bytes = timed_setup(work, "make", MAKE_RECIPE)
        print(f"make .venv/.installed-stamp (uv):    {make_seconds:6.1f} s, "
              f".venv {make_bytes / 1e9:.2f} GB", flush=True)
        print(f"ratio make/pip: time {make_seconds / pip_seconds:.2f}, "
              f"size {make_bytes / pip_bytes:.2f}")
    finally:
        if args.keep:
            print(f"clones kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
