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


# What each preparer reads from the catalogue, so "can this variant run here?" is answered from
# the manifest without running the preparer. Generated data needs nothing.
def _named(params: dict[str, object]) -> tuple[str, ...]:
    return (str(params["dataset"]),) if params.get("dataset") else ()


NEEDS: dict[str, Callable[[dict[str, object]], tuple[str, ...]]] = {
    "line": lambda params: (),
    "blobs": lambda params: (),
    "fashion_mnist": lambda params: ("fashion-mnist",),
    "mnist": lambda params: ("mnist",),
    "photos": _named,
    "text": _named,
    "series": _named,
}

# Preparers that fall back to generated data when their catalogue entry cannot be had: such a
# variant can always run, on a clearly labelled stand-in.
STANDIN_FALLBACK = frozenset({"photos"})


def datasets_needed(data: str, params: dict[str, object]) -> tuple[str, ...]:
    needs = NEEDS.get(data)
    return needs(params) if needs else ()
