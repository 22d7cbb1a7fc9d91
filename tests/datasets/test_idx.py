"""IDX files read with gzip + numpy, checked on a file written here."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from server.datasets.idx import read_idx


def test_reads_shape_and_values(tmp_path: Path) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 0x08, 3]) + b"".join(d.to_bytes(4, "big") for d in images.shape)
    path = tmp_path / "images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(header + images.tobytes())
    assert np.array_equal(read_idx(path), images)
