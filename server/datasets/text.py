"""Category4's data: sarcasm headlines and BBC news, encoded the way the real starter encodes them.

The learner's folder gets the training records (in the official file's format, file order kept);
held-out records stay out of it. The grader's `x` is the held-out text encoded with exactly the
tokenizer that the real exam's starter code computes from the learner's file: Keras'
`Tokenizer(num_words=1000, oov_token="<OOV>")` fitted on the first `training_size` sentences
(sarcasm: the exam's constant 20000; BBC: the course's 80 %, after the course's stop-word removal).
BBC labels are numbered as the course's label tokenizer numbers them: `Tokenizer()` fitted on every
label of the file, by frequency from 1 (0 unused, hence the exam's `Dense(6)`). The same encoding is
written to `data/encoding.json`, so the learner can check that their script and the grader agree.
Pure Python (`text_encoding` re-implements Keras' tokenizer): the API process never imports
TensorFlow.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from server.datasets import text_encoding
from server.datasets.base import PrepareContext, Provenance, write_heldout
from server.datasets.catalogue import entry
from server.datasets.resolver import completeness, resolve, resolved_provenance

ENCODING_FILE = "encoding.json"
UNUSED_LABEL = "(unused)"

# The stop words the real exam's BBC starter fixed (the course's list of 153 words).
STOPWORDS = (
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as",
    "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
    "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further",
    "had", "has", "have", "having", "he", "he'd", "he'll", "he's", "her", "here", "here's", "hers",
    "herself", "him", "himself", "his", "how", "how's", "i", "i'd", "i'll", "i'm", "i've", "if",
    "in", "into", "is", "it", "it's", "its", "itself", "let's", "me", "more", "most", "my", "myself",
    "nor", "of", "on", "once", "only", "or", "other", "ought", "our", "ours", "ourselves", "out",
    "over", "own", "same", "she", "she'd", "she'll", "she's", "should", "so", "some", "such", "than",
    "that", "that's", "the", "their", "theirs", "them", "themselves", "then", "there", "there's",
    "these", "they", "they'd", "they'll", "they're", "they've", "this", "those", "through", "to",
    "too", "under", "until", "up", "very", "was", "we", "we'd", "we'll", "we're", "we've", "were",
    "what", "what's", "when", "when's", "where", "where's", "which", "while", "who", "who's", "whom",
    "why", "why's", "with", "would", "you", "you'd", "you'll", "you're", "you've", "your", "yours",
    "yourself", "yourselves",
)


def remove_stopwords(sentence: str) -> str:
    """The course's loop, character for character: only words with a space on both sides go."""
    for word in STOPWORDS:
        token = " " + word + " "
        sentence = sentence.replace(token, " ")
        sentence = sentence.replace("  ", " ")
    return sentence


@dataclass(frozen=True)
class Records:
    texts: list[str]
    labels: list[str]  # as the file holds them ("0"/"1" for sarcasm, the category for BBC)
    raw: list[Any]  # the records as the file holds them, to write the learner's copy


def read_sarcasm(path: Path) -> Records:
    with open(path, encoding="utf-8") as handle:
        items = json.load(handle)
    return Records([i["headline"] for i in items], [str(int(i["is_sarcastic"])) for i in items], items)


def read_bbc(path: Path) -> Records:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    return Records([r[1] for r in rows], [r[0] for r in rows], rows)


def write_sarcasm(path: Path, items: list[Any]) -> None:
    path.write_text(json.dumps(items, indent=0), encoding="utf-8")


def write_bbc(path: Path, rows: list[Any]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "text"])
        writer.writerows(rows)


@dataclass(frozen=True)
class TextFormat:
    read: Callable[[Path], Records]
    write: Callable[[Path, list[Any]], None]


FORMATS = {"sarcasm": TextFormat(read_sarcasm, write_sarcasm), "bbc-text": TextFormat(read_bbc, write_bbc)}


def training_size(total: int, params: dict[str, Any]) -> int:
    """The starter's rule: a fixed `training_size` (sarcasm's 20000: a shorter file is all
    training), or `training_portion` of the file (BBC's 0.8)."""
    if "training_size" in params:
        return min(total, int(params["training_size"]))
    return int(total * float(params.get("training_portion", 0.8)))


def split_heldout(count: int, heldout: int, seed: int) -> tuple[list[int], list[int]]:
    """Indices of the learner's records (in file order) and of the grader's held-out records."""
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(count, size=heldout, replace=False).tolist())
    kept = [i for i in range(count) if i not in chosen]
    return kept, sorted(chosen)


def sentences_of(texts: list[str], params: dict[str, Any]) -> list[str]:
    return [remove_stopwords(t) for t in texts] if params.get("stopwords") else list(texts)


def encoder(train_texts: list[str], params: dict[str, Any]) -> text_encoding.Tokenizer:
    tokenizer = text_encoding.Tokenizer(num_words=int(params.get("vocab_size", 1000)),
                                        oov_token=str(params.get("oov_token", "<OOV>")))
    tokenizer.fit_on_texts(train_texts)
    return tokenizer


def encode(tokenizer: text_encoding.Tokenizer, texts: list[str], params: dict[str, Any]) -> np.ndarray:
    return text_encoding.pad_sequences(
        tokenizer.texts_to_sequences(texts),
        maxlen=int(params.get("max_length", 120)),
        padding=str(params.get("padding", "post")),
        truncating=str(params.get("truncating", "post")),
    )


def label_numbering(labels: list[str], params: dict[str, Any]) -> dict[str, int]:
    """Sarcasm: the file's 0/1. BBC: the course's `label_tokenizer = Tokenizer();
    label_tokenizer.fit_on_texts(labels)` over every label of the learner's file."""
    if params.get("label_tokenizer"):
        tokenizer = text_encoding.Tokenizer()
        tokenizer.fit_on_texts(labels)
        return dict(tokenizer.word_index)
    return {label: int(label) for label in sorted(set(labels))}


def class_names(numbering: dict[str, int], params: dict[str, Any]) -> list[str]:
    if params.get("label_tokenizer"):
        names = [UNUSED_LABEL] * (max(numbering.values()) + 1)
        for label, index in numbering.items():
            names[index] = label
        return names
    return ["not sarcastic", "sarcastic"] if params.get("dataset") == "sarcasm" else list(numbering)


def encoding_document(tokenizer: text_encoding.Tokenizer, numbering: dict[str, int],
                      trained_on: int, params: dict[str, Any]) -> dict[str, Any]:
    """What `data/encoding.json` holds: every word id the model can see, and the label ids."""
    limit = tokenizer.num_words or len(tokenizer.word_index) + 1
    return {
        "about": "The encoding the grader uses for the held-out text: the starter's tokenizer fitted on "
                 f"the first {trained_on} sentences of the data file. tokenizer.word_index and the "
                 "label numbers of your script must match these.",
        "num_words": tokenizer.num_words,
        "oov_token": tokenizer.oov_token,
        "max_length": int(params.get("max_length", 120)),
        "padding": str(params.get("padding", "post")),
        "truncating": str(params.get("truncating", "post")),
        "stopwords_removed": bool(params.get("stopwords")),
        "training_sentences": trained_on,
        "labels": numbering,
        "word_index": {w: i for w, i in tokenizer.word_index.items() if i < limit},
    }


def prepare_text(ctx: PrepareContext) -> Provenance:
    """params: dataset, heldout, vocab_size, max_length, oov_token, padding, truncating, and
    training_size or training_portion, stopwords, label_tokenizer (the starter's constants)."""
    name = str(ctx.params["dataset"])
    fmt = FORMATS[name]
    catalogue_entry = entry(name)
    data_file = catalogue_entry.files[0]
    resolved = resolve(catalogue_entry, ctx)
    source = resolved.paths[data_file.name]
    records = fmt.read(source)
    kept, heldout = split_heldout(len(records.texts), int(ctx.params["heldout"]), ctx.seed)

    data_dir = ctx.question_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    fmt.write(data_dir / data_file.name, [records.raw[i] for i in kept])

    sentences = sentences_of([records.texts[i] for i in kept], ctx.params)
    trained_on = training_size(len(sentences), ctx.params)
    tokenizer = encoder(sentences[:trained_on], ctx.params)
    numbering = label_numbering([records.labels[i] for i in kept], ctx.params)
    (data_dir / ENCODING_FILE).write_text(
        json.dumps(encoding_document(tokenizer, numbering, trained_on, ctx.params), indent=1),
        encoding="utf-8")
    held_texts = sentences_of([records.texts[i] for i in heldout], ctx.params)
    write_heldout(
        ctx.heldout_path,
        x=encode(tokenizer, held_texts, ctx.params),
        y=np.asarray([numbering[records.labels[i]] for i in heldout], dtype="int64"),
        class_names=np.asarray(class_names(numbering, ctx.params)),
    )
    complete, note = completeness(catalogue_entry, data_file.name, source, len(records.texts))
    return resolved_provenance(catalogue_entry, resolved, train=len(kept), heldout=len(heldout),
                               complete=complete, note=note, official_url=data_file.url)
