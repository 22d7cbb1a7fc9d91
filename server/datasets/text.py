"""Category4's data: sarcasm headlines and BBC news, encoded the exam's way.

The learner's folder gets the training records (in the official file's format) and a copy of
`text_encoding.py` as `exam_text.py`; held-out records stay out of it. The grader's `x` is the
held-out text encoded by a tokeniser fitted on the very sentences the starter fits on, so a model
sees at grading exactly the encoding it was trained with.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from server.datasets import text_encoding
from server.datasets.base import PrepareContext, Provenance, write_heldout
from server.datasets.catalogue import entry
from server.datasets.resolver import completeness, resolve, resolved_provenance

HELPER_NAME = "exam_text.py"
BBC_CLASSES = ("business", "entertainment", "politics", "sport", "tech")


@dataclass(frozen=True)
class Records:
    texts: list[str]
    labels: list[int]
    raw: list[object]  # the records as the file holds them, to write the learner's copy


def read_sarcasm(path: Path) -> Records:
    with open(path, encoding="utf-8") as handle:
        items = json.load(handle)
    return Records([i["headline"] for i in items], [int(i["is_sarcastic"]) for i in items], items)


def read_bbc(path: Path) -> Records:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    return Records([r[1] for r in rows], [BBC_CLASSES.index(r[0]) for r in rows], rows)


def write_sarcasm(path: Path, items: list[object]) -> None:
    path.write_text(json.dumps(items, indent=0), encoding="utf-8")


def write_bbc(path: Path, rows: list[object]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "text"])
        writer.writerows(rows)  # type: ignore[arg-type]


FORMATS = {
    "sarcasm": (read_sarcasm, write_sarcasm, ("not sarcastic", "sarcastic")),
    "bbc-text": (read_bbc, write_bbc, BBC_CLASSES),
}


def training_size(total: int, params: dict[str, object]) -> int:
    """The starter's rule: the exam's 20000, or 80 % of a smaller (partial) file."""
    cap = int(params.get("training_cap", 20000))  # type: ignore[call-overload]
    share = float(params.get("training_share", 0.8))  # type: ignore[arg-type]
    return min(cap, int(share * total))


def split_heldout(count: int, heldout: int, seed: int) -> tuple[list[int], list[int]]:
    """Indices of the learner's records (in file order) and of the grader's held-out records."""
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(count, size=heldout, replace=False).tolist())
    kept = [i for i in range(count) if i not in chosen]
    return kept, sorted(chosen)


def encoder(train_texts: list[str], params: dict[str, object]) -> text_encoding.Tokenizer:
    tokenizer = text_encoding.Tokenizer(num_words=int(params.get("vocab_size", 1000)),  # type: ignore[call-overload]
                                        oov_token=str(params.get("oov_token", "<OOV>")))
    tokenizer.fit_on_texts(train_texts)
    return tokenizer


def encode(tokenizer: text_encoding.Tokenizer, texts: list[str], params: dict[str, object]) -> np.ndarray:
    return text_encoding.pad_sequences(
        tokenizer.texts_to_sequences(texts),
        maxlen=int(params.get("max_length", 120)),  # type: ignore[call-overload]
        padding=str(params.get("padding", "post")),
        truncating=str(params.get("truncating", "post")),
    )


def prepare_text(ctx: PrepareContext) -> Provenance:
    """params: dataset, heldout, vocab_size, max_length, oov_token, padding, truncating,
    training_cap, training_share (the same constants as the starter's DO NOT CHANGE block)."""
    name = str(ctx.params["dataset"])
    reader, writer, class_names = FORMATS[name]
    catalogue_entry = entry(name)
    data_file = catalogue_entry.files[0]
    resolved = resolve(catalogue_entry, ctx)
    source = resolved.paths[data_file.name]
    records = reader(source)
    kept, heldout = split_heldout(len(records.texts), int(ctx.params["heldout"]), ctx.seed)  # type: ignore[call-overload]

    data_dir = ctx.question_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    writer(data_dir / data_file.name, [records.raw[i] for i in kept])
    shutil.copyfile(Path(text_encoding.__file__), ctx.question_dir / HELPER_NAME)

    train_texts = [records.texts[i] for i in kept][:training_size(len(kept), ctx.params)]
    tokenizer = encoder(train_texts, ctx.params)
    write_heldout(
        ctx.heldout_path,
        x=encode(tokenizer, [records.texts[i] for i in heldout], ctx.params),
        y=np.asarray([records.labels[i] for i in heldout], dtype="int64"),
        class_names=np.asarray(class_names),
    )
    complete, note = completeness(catalogue_entry, data_file.name, source, len(records.texts))
    return resolved_provenance(catalogue_entry, resolved, train=len(kept), heldout=len(heldout),
                               complete=complete, note=note, official_url=data_file.url)
