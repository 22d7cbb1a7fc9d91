"""Which preparer makes the data a variant names in its manifest (`data = "..."`)."""

from __future__ import annotations

from collections.abc import Callable

from server.datasets.base import PrepareContext, Provenance
from server.datasets.mnist_like import prepare_fashion_mnist, prepare_mnist
from server.datasets.photos import prepare_photos
from server.datasets.series import prepare_series
from server.datasets.synthetic import prepare_blobs, prepare_line
from server.datasets.text import prepare_text

Preparer = Callable[[PrepareContext], Provenance]

PREPARERS: dict[str, Preparer] = {
    "line": prepare_line,
    "blobs": prepare_blobs,
    "fashion_mnist": prepare_fashion_mnist,
    "mnist": prepare_mnist,
    "photos": prepare_photos,
    "text": prepare_text,
    "series": prepare_series,
}


def preparer(name: str) -> Preparer | None:
    return PREPARERS.get(name)
