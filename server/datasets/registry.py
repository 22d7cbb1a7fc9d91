"""Which preparer makes the data a variant names in its manifest (`data = "..."`)."""

from __future__ import annotations

from collections.abc import Callable

from server.datasets.base import PrepareContext, Provenance
from server.datasets.synthetic import prepare_blobs, prepare_line

Preparer = Callable[[PrepareContext], Provenance]

PREPARERS: dict[str, Preparer] = {
    "line": prepare_line,
    "blobs": prepare_blobs,
}


def preparer(name: str) -> Preparer | None:
    return PREPARERS.get(name)
