"""The grader encodes held-out text exactly as the starter encodes its training text: the starter's
DO NOT CHANGE block is executed from the materialised project and compared with the preparer's."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from server.datasets import text
from server.datasets.base import PrepareContext
from server.datasets.catalogue import entry
from server.datasets.resolver import resolve
from tests.exams.calibration import EXAMS, find
from tests.exams.conftest import need_mirror

READERS = {"sarcasm": text.read_sarcasm, "bbc-text": text.read_bbc}


def run_fixed_block(starter: Path) -> dict[str, object]:
    """Execute the starter's DO NOT CHANGE block as the learner's run would, with its __file__."""
    source = starter.read_text(encoding="utf-8")
    block = re.search(r"    # DO NOT CHANGE THIS CODE.*?\n(.*?)    # END OF THE CODE YOU MUST NOT CHANGE",
                      source, re.S)
    assert block is not None
    header = "\n".join(line for line in source.splitlines() if line.startswith(("import ", "from ")))
    namespace: dict[str, object] = {"__file__": str(starter)}
    exec(compile(header + "\n" + textwrap.dedent(block.group(1)), str(starter), "exec"), namespace)
    return namespace


@pytest.mark.parametrize("variant_id", ["sarcasm", "bbc_news"])
def test_starter_and_grader_encode_identically(tmp_path: Path, variant_id: str) -> None:
    need_mirror()
    import os

    _, variant = find("tf-developer", variant_id)
    ctx = PrepareContext(question_dir=tmp_path / "Category4", heldout_path=tmp_path / "held" / "c4.npz",
                         params=dict(variant.params), seed=1234, cache_dir=tmp_path / "cache",
                         mirror=Path(os.environ["TFEXAM_DATASETS"]))
    provenance = text.prepare_text(ctx)
    assert provenance.source == "mirror" and provenance.complete is False and "partial" in provenance.note
    starter = ctx.question_dir / "starter.py"
    starter.write_text((EXAMS / "tf-developer" / variant.starter).read_text(encoding="utf-8"))
    assert (ctx.question_dir / "exam_text.py").read_bytes() == Path(text.text_encoding.__file__).read_bytes()

    ns = run_fixed_block(starter)

    # The held-out records are not in the learner's folder ...
    name = str(variant.params["dataset"])
    records = READERS[name](resolve(entry(name), ctx).paths[entry(name).files[0].name])
    kept, heldout = text.split_heldout(len(records.texts), int(variant.params["heldout"]), ctx.seed)
    assert ns["sentences"] == [records.texts[i] for i in kept]
    # ... and the grader's encoding of them is the starter's tokenizer applied to them.
    learner = ns["tokenizer"]
    held_texts = [records.texts[i] for i in heldout]
    expected = ns["pad_sequences"](learner.texts_to_sequences(held_texts), maxlen=ns["max_length"],
                                   padding=ns["padding_type"], truncating=ns["trunc_type"])
    with np.load(ctx.heldout_path) as held:
        assert np.array_equal(held["x"], expected)
        assert held["x"].shape == (len(heldout), 120)
        assert held["y"].tolist() == [records.labels[i] for i in heldout]
    grader = text.encoder([str(s) for s in ns["training_sentences"]], variant.params)
    assert grader.word_index == learner.word_index
    encoded = text.encode(grader, ns["training_sentences"], variant.params)
    assert np.array_equal(encoded, ns["training_padded"])
