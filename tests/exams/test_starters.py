"""Every starter runs as-is on its materialised data and saves a model the grader accepts (a poor
one: the as-is training is short), and every reference keeps its starter's DO NOT CHANGE blocks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.exams.calibration import EXAMS, REFERENCE, Trainer, exam, find, grade, record, solved_starter
from tests.exams.conftest import need_mirror
from tests.exams.test_calibration import OFFLINE_VARIANTS

FIXED = re.compile(r"# DO NOT CHANGE THIS CODE.*?# END OF THE CODE YOU MUST NOT CHANGE", re.S)


def fixed_blocks(path: Path) -> list[str]:
    return FIXED.findall(path.read_text(encoding="utf-8"))


STARTERS = [*OFFLINE_VARIANTS, ("quick", "line_2x_minus_1", False), ("quick", "fashion_mnist_small", False)]


@pytest.mark.slow
@pytest.mark.parametrize(("exam_id", "variant_id", "mirror"), STARTERS,
                         ids=[f"{e}-{v}" for e, v, _ in STARTERS])
def test_starter_runs_as_is_and_is_graded(trainer: Trainer, exam_id: str, variant_id: str,
                                          mirror: bool) -> None:
    if mirror:
        need_mirror()
    prepared = trainer.prepare(exam_id, variant_id)
    ran = trainer.run(exam_id, variant_id, prepared.folder / "starter.py", "starter")
    outcome = grade(prepared.variant, ran.model, prepared.heldout)
    record(f"{exam_id}/{variant_id}/starter-as-is", seconds=round(ran.seconds, 1),
           score=outcome["score"], value=outcome.get("value"))
    assert outcome["status"] == "graded", outcome["messages"]
    assert ran.seconds < 120


@pytest.mark.parametrize("exam_id", ["tf-developer", "quick"])
def test_starters_have_the_real_exams_form(exam_id: str) -> None:
    for question in exam(exam_id).questions:
        for variant in question.variants:
            text = (EXAMS / exam_id / variant.starter).read_text(encoding="utf-8")
            assert "def solution_model():" in text
            assert 'if __name__ == "__main__":' in text and 'model.save("mymodel.h5")' in text
            assert fixed_blocks(EXAMS / exam_id / variant.starter), variant.starter
            assert "Lambda layers are not supported" in text


def test_references_keep_the_starters_fixed_blocks(tmp_path: Path) -> None:
    starters = {v.id: EXAMS / "tf-developer" / v.starter
                for q in exam("tf-developer").questions for v in q.variants}
    for reference in sorted(REFERENCE.glob("*.py")):
        variant_id = reference.stem.replace("_dense_only", "")
        solved = tmp_path / reference.name
        solved.write_text(solved_starter(starters[variant_id], reference), encoding="utf-8")
        assert fixed_blocks(solved) == fixed_blocks(starters[variant_id]), reference.name


@pytest.mark.parametrize("exam_id", ["tf-developer", "quick"])
def test_line_starters_hold_the_points_of_their_manifest_line(exam_id: str) -> None:
    """The grader's held-out ys come from the manifest's slope and intercept, the learner's from
    the starter's arrays: they must be the same line (the real 2021 exam's is y = x + 1)."""
    import ast

    lines = 0
    for question in exam(exam_id).questions:
        for variant in question.variants:
            if variant.data != "line":
                continue
            source = (EXAMS / exam_id / variant.starter).read_text(encoding="utf-8")
            arrays = {name: ast.literal_eval(values) for name, values in
                      re.findall(r"^\s*(xs|ys) = np\.array\((\[.*?\])", source, re.M)}
            params = variant.params
            assert arrays["xs"] == params["train_xs"], variant.id
            assert arrays["ys"] == [params["slope"] * x + params["intercept"] for x in arrays["xs"]]
            lines += 1
    assert lines >= 1
    if exam_id == "tf-developer":
        _, real = find(exam_id, "line_x_plus_1")
        assert (real.params["slope"], real.params["intercept"]) == (1.0, 1.0)
