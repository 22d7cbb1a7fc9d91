"""The grader encodes held-out text exactly as the real starter's code does: the starter's DO NOT
CHANGE block is run with the real Keras tokenizer (tf_keras in Keras 2 mode, the legacy copy in
Keras 3 mode) in a separate process on the learner's file, and its word index, label numbers and
encoding of the held-out texts are compared with what the pure-Python grader side wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from server.datasets import text
from server.datasets.base import PrepareContext
from server.datasets.catalogue import entry
from server.datasets.resolver import resolve
from tests.exams.calibration import EXAMS, Trainer, find
from tests.exams.conftest import need_mirror

# Runs in the question folder: the starter's fixed block, then the learner's tokenizers applied to
# the held-out texts (given with the stop words already removed by the grader's function).
PROBE = r'''
import json, re, sys, textwrap
source = open("starter.py", encoding="utf-8").read()
block = re.search(r"    # DO NOT CHANGE THIS CODE.*?\n(.*?)    # END OF THE CODE YOU MUST NOT CHANGE",
                  source, re.S)
header = "\n".join(l for l in source.splitlines() if l.startswith(("import ", "from ")))
ns = {"__file__": __import__("os").path.abspath("starter.py")}
exec(compile(header + "\n" + textwrap.dedent(block.group(1)), "starter.py", "exec"), ns)
held = json.load(open(sys.argv[1], encoding="utf-8"))
tok = ns["tokenizer"]
train = ns.get("training_sentences", ns.get("train_sentences"))
padded = ns["pad_sequences"](tok.texts_to_sequences(held), maxlen=ns["max_length"],
                             padding=ns["padding_type"], truncating=ns["trunc_type"])
out = {"keras": type(tok).__module__, "word_index": dict(tok.word_index), "train": list(train),
       "held": padded.tolist()}
if "label_ids" in ns:
    out["labels"] = dict(ns["label_ids"])
json.dump(out, open(sys.argv[2], "w", encoding="utf-8"))
'''


@pytest.mark.slow
@pytest.mark.parametrize("keras", ["2", "3"])
@pytest.mark.parametrize("variant_id", ["sarcasm", "bbc_news"])
def test_real_keras_tokenizer_on_the_starter_equals_the_grader(tmp_path: Path, trainer: Trainer,
                                                               variant_id: str, keras: str) -> None:
    need_mirror()
    _, variant = find("tf-developer", variant_id)
    params = dict(variant.params)
    ctx = PrepareContext(question_dir=tmp_path / "Category4", heldout_path=tmp_path / "held" / "c4.npz",
                         params=params, seed=1234, cache_dir=tmp_path / "cache",
                         mirror=Path(os.environ["TFEXAM_DATASETS"]))
    provenance = text.prepare_text(ctx)
    assert provenance.source == "mirror" and provenance.complete is False
    (ctx.question_dir / "starter.py").write_text(
        (EXAMS / "tf-developer" / variant.starter).read_text(encoding="utf-8"), encoding="utf-8")

    name = str(params["dataset"])
    records = text.FORMATS[name].read(resolve(entry(name), ctx).paths[entry(name).files[0].name])
    kept, heldout = text.split_heldout(len(records.texts), int(params["heldout"]), ctx.seed)
    held_texts = text.sentences_of([records.texts[i] for i in heldout], params)
    (tmp_path / "held.json").write_text(json.dumps(held_texts), encoding="utf-8")
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(tmp_path / "probe.py"), str(tmp_path / "held.json"),
                           str(tmp_path / "out.json")], cwd=ctx.question_dir, capture_output=True,
                          text=True, timeout=300,
                          env={**trainer.env(keras), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    learner = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert learner["keras"].startswith("tf_keras" if keras == "2" else "keras"), learner["keras"]

    # The training sentences: the starter's rule on the learner's file (the grader's stop-word
    # removal included), in file order.
    sentences = text.sentences_of([records.texts[i] for i in kept], params)
    assert learner["train"] == sentences[:text.training_size(len(sentences), params)]
    # The real Keras word index equals the pure-Python one, and so does the held-out encoding.
    written = json.loads((ctx.question_dir / "data" / text.ENCODING_FILE).read_text(encoding="utf-8"))
    assert {w: i for w, i in learner["word_index"].items() if i < 1000} == written["word_index"]
    grader = text.encoder(learner["train"], params)
    assert grader.word_index == learner["word_index"]
    with np.load(ctx.heldout_path) as held:
        assert held["x"].tolist() == learner["held"]
        assert held["x"].shape == (len(heldout), 120)
        if variant_id == "bbc_news":
            assert learner["labels"] == written["labels"]
            numbering = learner["labels"]
            assert sorted(numbering.values()) == [1, 2, 3, 4, 5]
            assert held["y"].tolist() == [numbering[records.labels[i]] for i in heldout]
            assert held["class_names"][0] == text.UNUSED_LABEL
        else:
            assert held["y"].tolist() == [int(records.labels[i]) for i in heldout]


REAL_STARTER_LABELS = {"sport": 1, "business": 2, "politics": 3, "tech": 4, "entertainment": 5}


def test_label_ids_are_the_real_starters_whatever_the_data_order() -> None:
    _, variant = find("tf-developer", "bbc_news")
    params = dict(variant.params)
    by_frequency = ["tech", "tech", "business", "sport", "entertainment", "politics"]
    assert text.label_numbering(by_frequency, params) == REAL_STARTER_LABELS
    assert text.class_names(REAL_STARTER_LABELS, params) == [
        text.UNUSED_LABEL, "sport", "business", "politics", "tech", "entertainment"]


@pytest.mark.parametrize("variant_id", ["sarcasm", "bbc_news"])
def test_two_sessions_of_a_variant_number_labels_alike(tmp_path: Path, variant_id: str) -> None:
    """Done-when of issue 20: two sessions (two seeds: other held-out records, so another share of
    each category in the learner's partial file) have the same label ids, the real starter's."""
    need_mirror()
    _, variant = find("tf-developer", variant_id)
    written = []
    for seed in (1, 2):
        ctx = PrepareContext(question_dir=tmp_path / str(seed) / "Category4",
                             heldout_path=tmp_path / str(seed) / "held.npz", params=dict(variant.params),
                             seed=seed, cache_dir=tmp_path / "cache",
                             mirror=Path(os.environ["TFEXAM_DATASETS"]))
        text.prepare_text(ctx)
        encoding = json.loads((ctx.question_dir / "data" / text.ENCODING_FILE).read_text(encoding="utf-8"))
        with np.load(ctx.heldout_path) as held:
            names, y = held["class_names"].tolist(), held["y"]
        written.append(encoding["labels"])
        for label, index in encoding["labels"].items():
            assert names[index] == ("sarcastic" if label == "1" else "not sarcastic"
                                    if variant_id == "sarcasm" else label)
        assert set(y.tolist()) <= set(encoding["labels"].values())
    assert written[0] == written[1]
    assert written[0] == (REAL_STARTER_LABELS if variant_id == "bbc_news" else {"0": 0, "1": 1})


def test_stopwords_go_only_between_spaces() -> None:
    assert text.remove_stopwords("the cat and the hat of it") == "the cat hat it"
    assert len(text.STOPWORDS) == 153
