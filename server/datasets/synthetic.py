"""Small data sets made from a seed: the line of the basic-model question and a blob problem.

They need no files at all, which makes them the data of the smoke exam and of tests of the
machinery, and Category1's line is the real exam's own form of data.
"""

from __future__ import annotations

import csv

import numpy as np

from server.datasets.base import PrepareContext, Provenance, write_heldout


def prepare_line(ctx: PrepareContext) -> Provenance:
    """xs and ys on y = slope*x + intercept; the starter holds the training points itself."""
    slope = float(ctx.params.get("slope", 2.0))
    intercept = float(ctx.params.get("intercept", -1.0))
    heldout_xs = np.asarray(ctx.params.get("heldout_xs", [10.0, -5.0, 7.5, 20.0]), dtype="float32")
    write_heldout(
        ctx.heldout_path,
        x=heldout_xs.reshape(-1, 1),
        y=(slope * heldout_xs + intercept).reshape(-1, 1).astype("float32"),
    )
    train = len(ctx.params.get("train_xs", []))
    return Provenance(
        dataset="line",
        title=f"points on y = {slope:g}x {'+' if intercept >= 0 else '-'} {abs(intercept):g}",
        source="generated",
        location="the starter file",
        complete=True,
        train_examples=train or None,
        heldout_examples=len(heldout_xs),
    )


def _blobs(rng: np.random.Generator, n: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    angles = np.linspace(0, 2 * np.pi, classes, endpoint=False)
    centres = np.stack([np.cos(angles), np.sin(angles)], axis=1) * 3.0
    labels = rng.integers(0, classes, size=n)
    points = centres[labels] + rng.normal(scale=0.8, size=(n, 2))
    return points.astype("float32"), labels.astype("int64")


def prepare_blobs(ctx: PrepareContext) -> Provenance:
    classes = int(ctx.params.get("classes", 3))
    n_train = int(ctx.params.get("train", 600))
    n_heldout = int(ctx.params.get("heldout", 300))
    rng = np.random.default_rng(ctx.seed)
    x_train, y_train = _blobs(rng, n_train, classes)
    x_heldout, y_heldout = _blobs(rng, n_heldout, classes)
    data_dir = ctx.question_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "train.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x1", "x2", "label"])
        for (a, b), label in zip(x_train.tolist(), y_train.tolist(), strict=True):
            writer.writerow([f"{a:.5f}", f"{b:.5f}", label])
    write_heldout(
        ctx.heldout_path,
        x=x_heldout,
        y=y_heldout,
        class_names=np.asarray([f"class {i}" for i in range(classes)]),
    )
    return Provenance(
        dataset="blobs",
        title=f"{classes} Gaussian blobs in the plane",
        source="generated",
        location=str(data_dir / "train.csv"),
        complete=True,
        train_examples=n_train,
        heldout_examples=n_heldout,
    )
