"""Draw one variant per question, seeded, skipping variants whose data cannot be had.

The draw is reproducible from the session's seed, so a report can say exactly which exam was sat.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from server.datasets.base import DatasetUnavailable, PrepareContext, Provenance
from server.datasets.registry import preparer
from server.manifest import Exam, Question, Variant


class NoVariantAvailable(Exception):
    """Every variant of a question lacks its data; the message lists why for each."""


@dataclass(frozen=True)
class Drawn:
    question: Question
    variant: Variant
    provenance: Provenance
    heldout_path: Path


def draw_and_prepare(
    exam: Exam,
    project_dir: Path,
    heldout_dir: Path,
    seed: int,
    cache_dir: Path,
    mirror: Path | None,
    keras_home: Path | None,
) -> list[Drawn]:
    rng = random.Random(seed)
    drawn: list[Drawn] = []
    for question in exam.questions:
        order = list(question.variants)
        rng.shuffle(order)
        skipped: list[dict[str, str]] = []
        for variant in order:
            prepare = preparer(variant.data)
            if prepare is None:
                skipped.append({"variant": variant.id, "reason": f"no preparer for {variant.data!r}"})
                continue
            heldout_path = heldout_dir / f"{question.id}.npz"
            ctx = PrepareContext(
                question_dir=project_dir / question.id,
                heldout_path=heldout_path,
                params=dict(variant.params),
                seed=rng.randrange(2**31),
                cache_dir=cache_dir,
                mirror=mirror,
                keras_home=keras_home,
            )
            try:
                provenance = prepare(ctx)
            except DatasetUnavailable as why:
                skipped.append({"variant": variant.id, "reason": str(why)})
                continue
            provenance = Provenance(**{**provenance.to_dict(), "skipped": skipped})
            drawn.append(Drawn(question, variant, provenance, heldout_path))
            break
        else:
            reasons = "; ".join(f"{s['variant']}: {s['reason']}" for s in skipped)
            raise NoVariantAvailable(
                f"{question.id} cannot be set: no variant has its data here ({reasons})."
            )
    return drawn
