"""A whole tf-developer session is drawn offline: one variant per category, MNIST skipped with
its reason, the photo question labelled as the offline stand-in, held-out data outside the
learner's folder, and the helper for the text question next to its starter."""

from __future__ import annotations

from pathlib import Path

from server.workspace.draw import draw_and_prepare
from server.workspace.materialise import write_project
from tests.exams.calibration import EXAMS, exam
from tests.exams.conftest import need_mirror


def test_offline_draw_of_the_full_exam(tmp_path: Path, keras_home: Path) -> None:
    need_mirror()
    import os

    tf_developer = exam("tf-developer")
    project, heldout = tmp_path / "project", tmp_path / "home" / "heldout"
    seen: dict[str, set[str]] = {}
    told_why = 0
    for seed in range(6):
        target = project / str(seed)
        drawn = draw_and_prepare(tf_developer, target, heldout / str(seed), seed, tmp_path / "cache",
                                 Path(os.environ["TFEXAM_DATASETS"]), keras_home)
        assert [d.question.id for d in drawn] == [f"Category{i}" for i in range(1, 6)]
        for d in drawn:
            seen.setdefault(d.question.id, set()).add(d.variant.id)
            assert d.heldout_path.is_file() and not d.heldout_path.is_relative_to(target)
        by_id = {d.question.id: d for d in drawn}
        assert by_id["Category2"].variant.id == "fashion_mnist"
        skipped = by_id["Category2"].provenance.skipped
        assert all(s["variant"] == "mnist" and "MNIST is not available offline" in s["reason"]
                   for s in skipped)
        photo = by_id["Category3"].provenance
        assert photo.source == "standin" and "offline stand-in" in photo.title
        write_project(EXAMS / "tf-developer", tf_developer, target, drawn,
                      {"id": "s", "deadline": 0.0}, "http://127.0.0.1:1")
        if by_id["Category4"].variant.id in ("sarcasm", "bbc_news"):
            assert (target / "Category4" / "data" / "encoding.json").is_file()
        readme = (target / "README.md").read_text()
        assert "offline stand-in" in readme
        for skip in skipped:  # the learner is told why a variant was not drawn
            assert f"variant {skip['variant']} was not drawn: MNIST is not available" in readme
            told_why += 1
        assert (keras_home / "datasets" / "fashion-mnist" / "train-images-idx3-ubyte.gz").exists()
    every = {q.id: {v.id for v in q.variants} for q in tf_developer.questions}
    assert all(v == every[k] for k, v in seen.items() if k != "Category2"), seen
    assert told_why > 0
