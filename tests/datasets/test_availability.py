"""Whether an exam's data is here, answered from file checks alone: which data set each variant
lacks, where tfexam looked, the one thing to do, and an immediate refusal to start without it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.clock import ManualClock
from server.config import REPO_EXAMS, Settings
from server.datasets.availability import Where, exam_availability, refusal
from server.manifest import list_exams


@pytest.fixture
def exams():
    return list_exams(REPO_EXAMS)


def _mirror(root: Path, *files: str) -> Path:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("made by the test\n")
    return root


def test_an_empty_mirror_blocks_the_text_and_series_questions(exams, tmp_path: Path) -> None:
    where = Where(_mirror(tmp_path / "mirror"), tmp_path / "cache", tmp_path / "keras")
    started = time.perf_counter()
    check = exam_availability(exams["tf-developer"], where)
    assert time.perf_counter() - started < 1.0, "file checks only: no download is tried"
    assert not check.available
    assert check.blocked == {"Category4": ["sarcasm", "bbc-text"],
                             "Category5": ["sunspots", "daily-min-temperatures"]}
    sarcasm = next(m for m in check.missing if m.dataset == "sarcasm")
    assert sarcasm.variants == ["Category4/sarcasm"]
    assert sarcasm.looked_in[0] == str(tmp_path / "mirror" / "sarcasm")
    assert str(tmp_path / "cache" / "datasets" / "sarcasm") in sarcasm.looked_in
    assert "go online once" in sarcasm.fix.lower() and "sarcasm.json" in sarcasm.fix
    # Photos never block: they fall back to a labelled stand-in.
    assert "Category3" not in check.blocked
    assert set(check.standin) <= {"Category3/horses_or_humans", "Category3/rock_paper_scissors"}
    # Generated data needs nothing.
    assert exam_availability(exams["smoke"], where).available
    assert exam_availability(exams["smoke"], where).missing == []


def test_no_mirror_names_the_setting_and_mnist_counts_in_keras_cache(exams, tmp_path: Path) -> None:
    keras = tmp_path / "keras"
    where = Where(None, tmp_path / "cache", keras)
    mnist = next(m for m in exam_availability(exams["tf-developer"], where).missing
                 if m.dataset == "mnist")
    assert mnist.looked_in[0] == "no mirror (TFEXAM_DATASETS is not set)"
    assert mnist.looked_in[-1] == str(keras / "datasets" / "mnist.npz")
    assert "set TFEXAM_DATASETS to a mirror folder holding mnist/mnist.npz" in mnist.fix
    _mirror(keras / "datasets", "mnist.npz")
    assert "mnist" not in [m.dataset for m in exam_availability(exams["tf-developer"], where).missing]


def test_one_variant_per_question_is_enough(exams, tmp_path: Path) -> None:
    mirror = _mirror(tmp_path / "mirror", "sarcasm/sarcasm.json", "sunspots/Sunspots.csv",
                     "fashion-mnist/train-images-idx3-ubyte.gz",
                     "fashion-mnist/train-labels-idx1-ubyte.gz",
                     "fashion-mnist/t10k-images-idx3-ubyte.gz",
                     "fashion-mnist/t10k-labels-idx1-ubyte.gz")
    check = exam_availability(exams["tf-developer"], Where(mirror, tmp_path / "cache", tmp_path))
    assert check.available and check.blocked == {}
    assert {m.dataset for m in check.missing} >= {"bbc-text", "daily-min-temperatures"}
    assert "sarcasm" not in {m.dataset for m in check.missing}


def test_the_refusal_is_one_sentence_with_the_fix(exams, tmp_path: Path) -> None:
    where = Where(None, tmp_path / "cache", tmp_path)
    text = refusal(exams["tf-developer"], exam_availability(exams["tf-developer"], where), where)
    assert "Category4 needs sarcasm or bbc-text" in text
    assert "Category5 needs sunspots or daily-min-temperatures" in text
    assert "TFEXAM_DATASETS is not set" in text and str(tmp_path / "cache" / "datasets") in text
    assert text.rstrip().endswith("set TFEXAM_DATASETS to a mirror folder and restart tfexam.")
    assert "TFEXAM_OFFLINE" in text  # the tests run offline: the fix says to lift that first


def test_the_api_lists_availability_and_refuses_at_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    settings = Settings.from_env(home=tmp_path / "home", start_worker=False,
                                 datasets_mirror=empty, token=None)
    with TestClient(create_app(settings, ManualClock())) as client:
        listed = {e["id"]: e for e in client.get("/api/exams").json()}
        assert listed["smoke"]["available"] is True and listed["smoke"]["missing"] == []
        developer = listed["tf-developer"]
        assert developer["available"] is False
        assert {"dataset", "variants", "looked_in", "fix"} <= set(developer["missing"][0])
        started = time.perf_counter()
        answer = client.post("/api/sessions", json={"exam": "tf-developer",
                                                    "workspace": str(tmp_path / "ws")})
        assert time.perf_counter() - started < 3.0
        assert answer.status_code == 503
        assert "Category4 needs sarcasm or bbc-text" in answer.json()["detail"]
        assert not (tmp_path / "ws").exists(), "nothing is made for a start that cannot succeed"
        home = client.get("/").text
        assert 'data-available="false"' in home and "data missing" in home
