"""Category4's data: sarcasm headlines and BBC news, encoded the way the real starter encodes them.

The word ids are what a text model has learned, so the grader must number words exactly as the
learner's script did, and a model trained for the real exam numbered them with the real starter's
code on the official file. Two cases:

- **The complete official file** (`faithful`): the tokenizer is fitted as the real starter fits it
  on that file (Keras' `Tokenizer(num_words=1000, oov_token="<OOV>")` on the first `training_size`
  sentences: sarcasm's 20000; BBC's first 80 % after the course's stop-word removal), and the
  held-out records are drawn from the rest, which no starter fits on. The learner's file keeps
  every fitted record in place, so the starter's own code fits the same tokenizer on it: sarcasm's
  held-out headlines are removed (its split is a count, which the removal cannot move); BBC's stay
  in the file (its split is a share of the file's length, so removing any record would move it).
- **A partial copy** (a mirror that holds part of the file): no word index of the official file
  can be had, so the held-out records are drawn from the whole copy and removed from it, and the
  tokenizer is fitted by the starter's rule on the learner's file: a model trained with the
  project's starter is scored fairly, one trained on another copy cannot be, and the provenance
  note says so (status, report, the learner's question.md).

Label ids never come from the data: BBC's are the ones the real starter fixed in a comment its
tests relied on (0 unused, 1 sport, 2 business, 3 politics, 4 tech, 5 entertainment: `Dense(6)`),
given as the variant's `labels`; sarcasm's are the file's `is_sarcastic`. The encoding is written
to `data/encoding.json`, so the learner can check that their script and the grader agree.
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
from server.datasets.base import DatasetUnavailable, PrepareContext, Provenance, write_heldout
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


def split_is_a_count(params: dict[str, Any]) -> bool:
    """Whether the starter splits at a fixed count (records after it can go without moving the
    split) rather than at a share of the file's length (then every record must stay)."""
    return "training_size" in params


def split_heldout(count: int, heldout: int, seed: int) -> tuple[list[int], list[int]]:
    """Indices of the learner's records (in file order) and of the grader's held-out records."""
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(count, size=heldout, replace=False).tolist())
    kept = [i for i in range(count) if i not in chosen]
    return kept, sorted(chosen)


@dataclass(frozen=True)
class Split:
    """Which records of the resolved file go where; every list holds file indices in file order."""

    learner: list[int]  # written to the learner's data file
    heldout: list[int]  # encoded for the grader
    fitted: list[int]  # the records whose sentences the tokenizer is fitted on
    faithful: bool  # fitted as the real starter fits it on the official file


def faithful_split(total: int, params: dict[str, Any], seed: int) -> Split | None:
    """The real starter's split of the official file: fit on its first `training_size` records,
    hold out from the rest. None when the starter's rule leaves no rest to hold out from."""
    fitted = training_size(total, params)
    rest = np.arange(fitted, total)
    if not len(rest):
        return None
    count = min(int(params["heldout"]), len(rest))
    heldout = sorted(np.random.default_rng(seed).choice(rest, size=count, replace=False).tolist())
    if split_is_a_count(params):
        chosen = set(heldout)
        learner = [i for i in range(total) if i not in chosen]
    else:
        learner = list(range(total))
    return Split(learner, heldout, list(range(fitted)), faithful=True)


def partial_split(total: int, params: dict[str, Any], seed: int) -> Split:
    """A partial copy: held-out records from anywhere, removed; the tokenizer is fitted by the
    starter's rule on what the learner gets, so the project's own starter agrees with the grader."""
    kept, heldout = split_heldout(total, int(params["heldout"]), seed)
    return Split(kept, heldout, kept[:training_size(len(kept), params)], faithful=False)


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
    """The real starter's label ids, never the data's: the variant's `labels` are numbered from 1
    (0 unused: BBC's comment, hence `Dense(6)`) whatever part of the file is present; without
    `labels` the file's own integers (sarcasm's is_sarcastic 0/1)."""
    if "labels" in params:
        numbering = {str(label): index for index, label in enumerate(params["labels"], start=1)}
        unknown = sorted(set(labels) - set(numbering))
        if unknown:
            raise DatasetUnavailable(
                f"the data file holds categories the question does not number ({', '.join(unknown)}): "
                "it is not the official file's format.")
        return numbering
    return {label: int(label) for label in sorted(set(labels))}


def class_names(numbering: dict[str, int], params: dict[str, Any]) -> list[str]:
    if "labels" in params:
        return [UNUSED_LABEL, *(str(label) for label in params["labels"])]
    return ["not sarcastic", "sarcastic"] if params.get("dataset") == "sarcasm" else list(numbering)


def encoding_document(tokenizer: text_encoding.Tokenizer, numbering: dict[str, int],
                      split: Split, params: dict[str, Any]) -> dict[str, Any]:
    """What `data/encoding.json` holds: every word id the model can see, and the label ids."""
    limit = tokenizer.num_words or len(tokenizer.word_index) + 1
    fitted_on = (f"the first {len(split.fitted)} sentences of the official file, as the real starter "
                 "fits it (the same first sentences as your data file's)" if split.faithful else
                 f"the first {len(split.fitted)} sentences of your data file (a partial copy), as the "
                 "starter fits it")
    labels = ("the real starter's label ids (0 unused), whatever part of the data is present"
              if "labels" in params else "the data file's own label values")
    return {
        "about": f"The encoding the grader uses for the held-out text: the starter's tokenizer fitted "
                 f"on {fitted_on}; the labels are {labels}. tokenizer.word_index and the label "
                 "numbers of your script must match these.",
        "num_words": tokenizer.num_words,
        "oov_token": tokenizer.oov_token,
        "max_length": int(params.get("max_length", 120)),
        "padding": str(params.get("padding", "post")),
        "truncating": str(params.get("truncating", "post")),
        "stopwords_removed": bool(params.get("stopwords")),
        "training_sentences": len(split.fitted),
        "fitted_on_official_file": split.faithful,
        "labels": numbering,
        "word_index": {w: i for w, i in tokenizer.word_index.items() if i < limit},
    }


PARTIAL_NOTE = ("Text models trained on another copy of the data (such as the official file, which "
                "the real exam's starter downloaded) cannot be scored faithfully here: the grader "
                "numbers words as this project's starter does on this partial copy. Models trained "
                "with this project's starter are scored as usual.")
NO_REST_NOTE = ("The starter's split fits its tokenizer on the whole file, which leaves no part of it "
                "to hold out from, so held-out records were taken from anywhere in it.")
SHARE_NOTE = ("The held-out records are in the part of your data file that the starter validates on "
              "and never trains on: they stay in the file so that the starter's split falls where "
              "the real starter's does. Train on them and your score says nothing.")


def data_note(split: Split, complete_note: str, params: dict[str, Any]) -> str:
    """The provenance note: what a score on this session's text data can be compared with."""
    if split.faithful:
        return "" if split_is_a_count(params) else SHARE_NOTE
    return f"{complete_note or NO_REST_NOTE} {PARTIAL_NOTE}"


def prepare_text(ctx: PrepareContext) -> Provenance:
    """params: dataset, heldout, vocab_size, max_length, oov_token, padding, truncating, and
    training_size or training_portion, stopwords, labels (the starter's constants)."""
    name = str(ctx.params["dataset"])
    fmt = FORMATS[name]
    catalogue_entry = entry(name)
    data_file = catalogue_entry.files[0]
    resolved = resolve(catalogue_entry, ctx)
    source = resolved.paths[data_file.name]
    records = fmt.read(source)
    total = len(records.texts)
    complete, complete_note = completeness(catalogue_entry, data_file.name, source, total)
    split = (faithful_split(total, ctx.params, ctx.seed) if complete else None) \
        or partial_split(total, ctx.params, ctx.seed)
    numbering = label_numbering(records.labels, ctx.params)  # refuses a foreign file before writing

    data_dir = ctx.question_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    fmt.write(data_dir / data_file.name, [records.raw[i] for i in split.learner])

    tokenizer = encoder(sentences_of([records.texts[i] for i in split.fitted], ctx.params), ctx.params)
    (data_dir / ENCODING_FILE).write_text(
        json.dumps(encoding_document(tokenizer, numbering, split, ctx.params), indent=1),
        encoding="utf-8")
    held_texts = sentences_of([records.texts[i] for i in split.heldout], ctx.params)
    write_heldout(
        ctx.heldout_path,
        x=encode(tokenizer, held_texts, ctx.params),
        y=np.asarray([numbering[records.labels[i]] for i in split.heldout], dtype="int64"),
        class_names=np.asarray(class_names(numbering, ctx.params)),
    )
    return resolved_provenance(catalogue_entry, resolved, train=len(split.learner),
                               heldout=len(split.heldout), complete=complete,
                               note=data_note(split, complete_note, ctx.params),
                               official_url=data_file.url)
