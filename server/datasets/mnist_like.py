"""Category2's data: Fashion-MNIST (and MNIST where it can be had), through Keras' own loader.

The starter keeps the real exam's unchanged line `tf.keras.datasets.fashion_mnist.load_data()`.
That line downloads unless Keras' cache already holds the files, so preparing the question primes
the cache with links to the files the resolver found; the grader gets the 10,000 test images.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from server.datasets.base import DatasetUnavailable, PrepareContext, Provenance, write_heldout
from server.datasets.catalogue import entry
from server.datasets.idx import read_idx
from server.datasets.resolver import Resolved, completeness, resolve, resolved_provenance

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(i) for i in range(10))
# Where Keras' loaders look for each data set, relative to the Keras home (`~/.keras`): the same
# places on the service's machine and, for a learner who joined a classroom, on theirs.
KERAS_CACHE_DIRS = {"fashion-mnist": "datasets/fashion-mnist", "mnist": "datasets"}


def keras_home(ctx: PrepareContext) -> Path:
    """Where Keras will look: the service's setting, else KERAS_HOME, else ~/.keras."""
    if ctx.keras_home is not None:
        return Path(ctx.keras_home)
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def prime_keras_cache(resolved: Resolved, subdir: str, ctx: PrepareContext) -> Path:
    """Link each file into `<keras home>/<subdir>`, leaving files already there alone."""
    target = keras_home(ctx) / subdir
    target.mkdir(parents=True, exist_ok=True)
    for name, source in resolved.paths.items():
        link = target / name
        if link.exists():
            continue
        if link.is_symlink():  # a dangling link from an older mirror location
            link.unlink()
        try:
            link.symlink_to(source.resolve())
        except OSError:  # no symlinks (some Windows set-ups): a copy does the same job
            import shutil

            shutil.copyfile(source, link)
    return target


def _provenance(name: str, resolved: Resolved, ctx: PrepareContext, heldout: int, train: int,
                note: str) -> Provenance:
    catalogue_entry = entry(name)
    complete, notes = True, [note]
    for file_name, path in resolved.paths.items():
        ok, why = completeness(catalogue_entry, file_name, path, None)
        complete, notes = complete and ok, [*notes, why]
    return resolved_provenance(catalogue_entry, resolved, train=train, heldout=heldout,
                               complete=complete, note=" ".join(n for n in notes if n))


def prepare_fashion_mnist(ctx: PrepareContext) -> Provenance:
    resolved = resolve(entry("fashion-mnist"), ctx)
    cache = prime_keras_cache(resolved, KERAS_CACHE_DIRS["fashion-mnist"], ctx)
    x_test = read_idx(resolved.paths["t10k-images-idx3-ubyte.gz"])
    y_test = read_idx(resolved.paths["t10k-labels-idx1-ubyte.gz"])
    write_heldout(ctx.heldout_path, x=(x_test.astype("float32") / 255.0), y=y_test.astype("int64"),
                  class_names=np.asarray(FASHION_CLASSES))
    return _provenance("fashion-mnist", resolved, ctx, len(y_test), 60000,
                       f"Keras' cache primed at {cache}.")


def prepare_mnist(ctx: PrepareContext) -> Provenance:
    """MNIST has no Debian package: it needs a mirror, a cached copy or the Keras download."""
    catalogue_entry = entry("mnist")
    cached = keras_home(ctx) / KERAS_CACHE_DIRS["mnist"] / "mnist.npz"
    if cached.is_file():
        resolved = Resolved({"mnist.npz": cached}, "cache", str(cached.parent))
    else:
        try:
            resolved = resolve(catalogue_entry, ctx)
        except DatasetUnavailable as why:
            raise DatasetUnavailable(
                f"MNIST is not available offline here (no Debian package ships it, and it is in no "
                f"mirror or cache): {why}"
            ) from why
        target = keras_home(ctx) / "datasets"
        target.mkdir(parents=True, exist_ok=True)
        if not cached.exists():
            cached.symlink_to(resolved.paths["mnist.npz"].resolve())
    with np.load(resolved.paths["mnist.npz"], allow_pickle=False) as archive:
        x_test, y_test = archive["x_test"], archive["y_test"]
    write_heldout(ctx.heldout_path, x=(x_test.astype("float32") / 255.0), y=y_test.astype("int64"),
                  class_names=np.asarray(DIGIT_CLASSES))
    return _provenance("mnist", resolved, ctx, len(y_test), 60000, "")
