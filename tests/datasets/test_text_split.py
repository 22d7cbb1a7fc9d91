"""Category4's split on small files made here: with the complete official file the word index is the
real starter's (fitted on the file's first `training_size` records) and the held-out records come
from the rest; with a partial copy the grader fits on the learner's file as today and says that
other copies cannot be scored faithfully; label ids are the real starter's in every case."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from server.datasets import catalogue, text
from server.datasets.base import DatasetUnavailable, PrepareContext

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi",
         "psi", "omega"]
BBC_LABELS = ["sport", "business", "politics", "tech", "entertainment"]


def sentence(i: int) -> str:
    """Word frequencies that change along the file, so a tokenizer fitted on another part of it
    numbers words differently."""
    return " ".join(WORDS[(i * 7 + k * k) % (3 + i % len(WORDS))] for k in range(12))


def sarcasm_file(folder: Path, count: int) -> list[dict[str, Any]]:
    items = [{"article_link": f"https://example.org/{i}", "headline": sentence(i),
              "is_sarcastic": i % 3 == 0} for i in range(count)]
    (folder / "sarcasm").mkdir(parents=True, exist_ok=True)
    (folder / "sarcasm" / "sarcasm.json").write_text(json.dumps(items), encoding="utf-8")
    return items


def bbc_file(folder: Path, count: int, labels: list[str]) -> list[list[str]]:
    rows = [[labels[i % len(labels)], "the " + sentence(i) + " and the end"] for i in range(count)]
    (folder / "bbc-text").mkdir(parents=True, exist_ok=True)
    with open(folder / "bbc-text" / "bbc-text.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "text"])
        writer.writerows(rows)
    return rows


def official_rows(monkeypatch: pytest.MonkeyPatch, name: str, rows: int) -> None:
    """Make the catalogue's official file `rows` long, so a file of that length is complete."""
    entry = catalogue.CATALOGUE[name]
    monkeypatch.setitem(catalogue.CATALOGUE, name,
                        replace(entry, files=(replace(entry.files[0], rows=rows),)))


SARCASM = {"dataset": "sarcasm", "heldout": 10, "vocab_size": 20, "max_length": 12,
           "oov_token": "<OOV>", "padding": "post", "truncating": "post", "training_size": 40}
BBC = {"dataset": "bbc-text", "heldout": 6, "vocab_size": 20, "max_length": 12, "oov_token": "<OOV>",
       "padding": "post", "truncating": "post", "training_portion": 0.8, "stopwords": True,
       "labels": BBC_LABELS}


def prepare(tmp_path: Path, params: dict[str, Any], seed: int = 3, tag: str = "s"):
    ctx = PrepareContext(question_dir=tmp_path / tag / "Category4", heldout_path=tmp_path / tag / "h.npz",
                         params=dict(params), seed=seed, cache_dir=tmp_path / "cache",
                         mirror=tmp_path / "mirror")
    provenance = text.prepare_text(ctx)
    data = ctx.question_dir / "data"
    encoding = json.loads((data / text.ENCODING_FILE).read_text(encoding="utf-8"))
    with np.load(ctx.heldout_path) as held:
        arrays = {k: held[k] for k in held.files}
    return provenance, data, encoding, arrays


def word_index(sentences: list[str], params: dict[str, Any]) -> dict[str, int]:
    tokenizer = text.encoder(sentences, params)
    return {w: i for w, i in tokenizer.word_index.items() if i < params["vocab_size"]}


def test_official_sarcasm_file_is_fitted_on_its_first_records_and_held_out_from_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = sarcasm_file(tmp_path / "mirror", 60)
    official_rows(monkeypatch, "sarcasm", 60)
    provenance, data, encoding, held = prepare(tmp_path, SARCASM)
    learner = json.loads((data / "sarcasm.json").read_text(encoding="utf-8"))

    assert provenance.complete and provenance.note == ""
    assert learner[:40] == items[:40]  # the part the starter fits on is untouched
    assert len(learner) == 50 and all(item in items[40:] for item in learner[40:])
    official = [item["headline"] for item in items]
    assert encoding["word_index"] == word_index(official[:40], SARCASM)
    assert encoding["fitted_on_official_file"] is True and encoding["training_sentences"] == 40
    # the learner's own starter, run on the learner's file, fits the same tokenizer
    assert word_index([i["headline"] for i in learner[:40]], SARCASM) == encoding["word_index"]
    heldout = [item for item in items[40:] if item not in learner]
    tokenizer = text.encoder(official[:40], SARCASM)
    assert held["x"].tolist() == text.encode(tokenizer, [i["headline"] for i in heldout], SARCASM).tolist()
    assert held["y"].tolist() == [int(i["is_sarcastic"]) for i in heldout]


def test_official_bbc_file_stays_whole_so_the_starters_share_split_falls_in_the_same_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = bbc_file(tmp_path / "mirror", 50, BBC_LABELS)
    official_rows(monkeypatch, "bbc-text", 50)
    provenance, data, encoding, held = prepare(tmp_path, BBC)
    with open(data / "bbc-text.csv", newline="", encoding="utf-8") as handle:
        learner = list(csv.reader(handle))[1:]

    assert learner == rows
    assert provenance.complete and provenance.note == text.SHARE_NOTE
    sentences = text.sentences_of([r[1] for r in rows], BBC)
    assert encoding["word_index"] == word_index(sentences[:40], BBC)
    assert held["x"].shape == (6, 12)
    tokenizer = text.encoder(sentences[:40], BBC)
    validation = text.encode(tokenizer, sentences[40:], BBC).tolist()
    assert all(row in validation for row in held["x"].tolist())  # only from the unfitted 20 %
    assert held["class_names"].tolist() == [text.UNUSED_LABEL, *BBC_LABELS]


def test_a_partial_copy_is_fitted_on_the_learners_file_and_says_other_copies_are_not_comparable(
        tmp_path: Path) -> None:
    items = sarcasm_file(tmp_path / "mirror", 60)  # the catalogue's official file has 26,709
    provenance, data, encoding, held = prepare(tmp_path, SARCASM)
    learner = json.loads((data / "sarcasm.json").read_text(encoding="utf-8"))

    assert not provenance.complete
    assert "60 of the official file's 26,709" in provenance.note
    assert text.PARTIAL_NOTE in provenance.note
    assert len(learner) == 50 and all(item in items for item in learner)
    assert encoding["fitted_on_official_file"] is False
    assert encoding["word_index"] == word_index([i["headline"] for i in learner[:40]], SARCASM)
    assert held["x"].shape == (10, 12)


def test_an_official_file_the_starter_fits_whole_falls_back_to_the_partial_rule(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sarcasm_file(tmp_path / "mirror", 30)  # training_size 40 covers it all: no rest to hold out
    official_rows(monkeypatch, "sarcasm", 30)
    provenance, _, encoding, held = prepare(tmp_path, SARCASM)
    assert provenance.complete and encoding["fitted_on_official_file"] is False
    assert provenance.note == f"{text.NO_REST_NOTE} {text.PARTIAL_NOTE}"
    assert held["x"].shape == (10, 12)


def test_bbc_label_ids_are_the_real_starters_in_every_session_whatever_the_file_holds(
        tmp_path: Path) -> None:
    # a partial copy whose frequency order (business first, sport last) is not the starter's
    bbc_file(tmp_path / "mirror", 60, ["business", "business", "tech", "entertainment", "politics", "sport"])
    seen = []
    for seed in (1, 2):
        _, _, encoding, held = prepare(tmp_path, BBC, seed=seed, tag=str(seed))
        seen.append(encoding["labels"])
        assert held["class_names"].tolist() == [text.UNUSED_LABEL, *BBC_LABELS]
        assert set(held["y"].tolist()) <= {1, 2, 3, 4, 5}
    assert seen[0] == seen[1] == {label: i for i, label in enumerate(BBC_LABELS, start=1)}


def test_a_category_the_starter_does_not_number_is_refused(tmp_path: Path) -> None:
    bbc_file(tmp_path / "mirror", 20, ["sport", "weather"])
    with pytest.raises(DatasetUnavailable, match="weather"):
        prepare(tmp_path, BBC)
    assert not (tmp_path / "s" / "Category4" / "data" / "bbc-text.csv").exists()
