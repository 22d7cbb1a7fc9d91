"""The held-out data, on the trusted side only: the labels stay here, the inputs go to the child.

The held-out `.npz` holds inputs and labels together. The child gets the inputs alone, written for
each job in an order drawn for that job (`secret_order`); a series is never written out at all,
since its windows are handed over one at a time.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

_cache: dict[tuple[str, int, int], dict[str, np.ndarray]] = {}
_lock = threading.Lock()


def _key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


def load(path: Path) -> dict[str, np.ndarray]:
    """Held-out arrays, kept in memory while the file is unchanged (what keeps grading warm)."""
    key = _key(path)
    with _lock:
        if key not in _cache:
            with np.load(path, allow_pickle=False) as archive:
                _cache[key] = {name: archive[name] for name in archive.files}
        return _cache[key]
