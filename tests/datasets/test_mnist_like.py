"""Fashion-MNIST from Debian's files primes Keras' cache; MNIST, which no package ships, is
reported unavailable with a reason instead of being drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from server.datasets.base import DatasetUnavailable, PrepareContext
from server.datasets.mnist_like import prepare_fashion_mnist, prepare_mnist

DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def _ctx(tmp_path: Path) -> PrepareContext:
    return PrepareContext(question_dir=tmp_path / "Category2", heldout_path=tmp_path / "h" / "c2.npz",
                          params={}, seed=0, cache_dir=tmp_path / "cache", mirror=tmp_path / "mirror",
                          keras_home=tmp_path / "keras")


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="the Debian package dataset-fashion-mnist is not installed")
def test_fashion_mnist_primes_the_keras_cache_and_holds_out_the_test_set(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    cache = tmp_path / "keras" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"already there")
    provenance = prepare_fashion_mnist(ctx)
    assert (provenance.source, provenance.complete) == ("system", True)
    assert (cache / "train-images-idx3-ubyte.gz").resolve() == DEBIAN / "train-images-idx3-ubyte.gz"
    assert (cache / "t10k-labels-idx1-ubyte.gz").read_bytes() == b"already there"  # left alone
    with np.load(ctx.heldout_path) as held:
        assert held["x"].shape == (10000, 28, 28) and held["x"].dtype == np.float32
        assert held["x"].min() >= 0.0 and held["x"].max() <= 1.0
        assert held["y"][:5].tolist() == [9, 2, 1, 1, 6]
        assert len(held["class_names"]) == 10


def test_mnist_is_unavailable_offline_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable, match="MNIST is not available offline"):
        prepare_mnist(_ctx(tmp_path))


def test_mnist_from_a_mirror(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    (tmp_path / "mirror" / "mnist").mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mirror" / "mnist" / "mnist.npz",
             x_train=rng.integers(0, 255, (5, 28, 28), dtype=np.uint8), y_train=np.arange(5),
             x_test=rng.integers(0, 255, (3, 28, 28), dtype=np.uint8), y_test=np.arange(3))
    provenance = prepare_mnist(ctx)
    assert provenance.source == "mirror" and not provenance.complete  # not the official file
    assert (tmp_path / "keras" / "datasets" / "mnist.npz").is_symlink()
    with np.load(ctx.heldout_path) as held:
        assert held["x"].shape == (3, 28, 28)
