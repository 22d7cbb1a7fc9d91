"""The lifecycle in-process with a ManualClock: time is moved, never slept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from server.clock import ManualClock
from server.config import REPO_EXAMS, Settings
from server.services import Services
from server.sessions.service import BadWorkspace, UnknownExam
from server.sessions.status import session_status
from server.store.records import SubmissionRecord


@pytest.fixture
def services(tmp_path: Path):
    clock = ManualClock()
    built = Services(Settings.from_env(home=tmp_path / "home", start_worker=False), clock)
    yield built
    built.db.close()


def test_start_creates_the_project_folder(services: Services, tmp_path: Path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=0.1)
    project = Path(session.project_dir)
    assert (project / "Q1" / "starter.py").is_file()
    assert (project / "Q2" / "question.md").is_file()
    assert (project / "Q2" / "data" / "train.csv").is_file()
    assert "Q1" in (project / "README.md").read_text()
    marker = json.loads((project / ".tfexam" / "session.json").read_text())
    assert marker["session"] == session.id
    assert session.deadline - session.started_at == pytest.approx(6.0)
    heldout = services.settings.sessions_dir / session.id / "heldout"
    assert (heldout / "Q2.npz").is_file()
    assert not list(project.rglob("*.npz")), "held-out data must stay out of the project"


def test_refusals_are_sentences(services: Services, tmp_path: Path) -> None:
    with pytest.raises(UnknownExam, match="no exam called 'nope'"):
        services.sessions.create("nope", str(tmp_path / "ws"))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(BadWorkspace, match="not empty"):
        services.sessions.create("smoke", str(busy))
    assert (busy / "notes.txt").read_text() == "mine"


def test_sweep_submits_at_the_deadline(services: Services, tmp_path: Path) -> None:
    clock: ManualClock = services.clock  # type: ignore[assignment]
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=1)
    clock.advance(59.9)
    assert services.sessions.sweep() == []
    clock.advance(5.0)
    assert services.sessions.sweep() == [session.id]
    swept = services.sessions.get(session.id)
    assert swept.state == "submitted" and swept.submit_reason == "deadline"
    assert swept.submitted_at == swept.deadline  # stamped at the deadline, not at the sweep
    assert services.sessions.sweep() == []


def test_only_models_saved_before_the_cutoff_count(services: Services, tmp_path: Path) -> None:
    clock: ManualClock = services.clock  # type: ignore[assignment]
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    store = services.store

    def graded(saved_at: float, score: int) -> None:
        sub = store.add_submission(SubmissionRecord(
            0, session.id, "Q2", "p", "s", f"sha{saved_at}", "h5", 1, saved_at, saved_at, "save",
            "queued", 0, None), now=clock.now())
        store.save_result(sub.id, "graded", score, {"messages": [f"Score {score}/5"]}, clock.now())

    graded(session.started_at + 60, 3)
    graded(session.deadline + 5, 5)  # saved after the deadline (while the service was down)
    clock.advance(700)
    services.sessions.finish(session.id, reason="deadline")
    status = session_status(store, services.sessions.get(session.id), clock.now())
    q2 = next(q for q in status["questions"] if q["id"] == "Q2")
    assert q2["score"] == 3
    assert status["total"] == pytest.approx(100 * (2 * 3) / (5 * 3), abs=0.01)
    assert status["passed"] is False


def test_the_exam_strict_option_reaches_what_the_grader_reads(tmp_path: Path) -> None:
    """The grader knows only the variant stored with the session's question, so an exam-wide
    `strict = true` must be in each stored variant's scoring; without it, strict stays off."""
    exams = tmp_path / "exams"
    shutil.copytree(REPO_EXAMS / "smoke", exams / "smoke")
    manifest = exams / "smoke" / "manifest.toml"
    manifest.write_text(manifest.read_text().replace("pass_mark = 0.9\n",
                                                     "pass_mark = 0.9\nstrict = true\n", 1))
    shutil.copytree(REPO_EXAMS / "smoke", exams / "plain")
    plain = exams / "plain" / "manifest.toml"
    plain.write_text(plain.read_text().replace('id = "smoke"', 'id = "plain"', 1))
    built = Services(Settings.from_env(home=tmp_path / "home", exams_dir=exams,
                                       start_worker=False), ManualClock())
    try:
        for exam_id, strict in [("smoke", True), ("plain", False)]:
            session = built.sessions.create(exam_id, str(tmp_path / exam_id), minutes=1)
            stored = built.store.questions(session.id)
            assert len(stored) == 2
            assert [q.variant["scoring"]["strict"] for q in stored] == [strict, strict], exam_id
    finally:
        built.db.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # on purpose
def test_health_says_failed_when_a_part_s_thread_is_dead(services: Services) -> None:
    """The issue's bug: health said "watching" while the watcher was dead. A thread that dies
    (here: the sweeper, by an error no chore catches; the watcher, by its observer stopping)
    makes its part "failed" and the whole "degraded", not "ok"."""
    services.start()
    try:
        assert services.health()["status"] == "ok"

        def fatal() -> None:
            raise SystemExit("a chore that ends its thread")

        services.sweeper.chores.append(fatal)
        services.sweeper._thread.join(timeout=10)  # the next round of chores ends it
        assert not services.sweeper.alive
        services.watcher._observer.stop()
        services.watcher._observer.join(timeout=10)
        health = services.health()
        assert health["sweeper"]["state"] == "failed"
        assert health["watcher"]["state"] == "failed"
        assert health["status"] == "degraded"
    finally:
        services.stop()


def test_status_lists_a_model_saved_deep_in_a_windows_style_folder(services: Services,
                                                                   tmp_path: Path) -> None:
    """Issue 20's done-when, through the session's status (what the exam page, the CLI and the
    editor show): five levels deep under a folder named "C:", with the folder it belongs in."""
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=5)
    stray = Path(session.project_dir) / "Q1" / "C:" / "Study" / "x" / "y" / "mymodel.h5"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"\x89HDF\r\n\x1a\n")
    status = session_status(services.store, services.sessions.get(session.id), services.clock.now())
    [item] = status["misplaced"]
    assert item["path"] == "Q1/C:/Study/x/y/mymodel.h5"
    assert item["should_be"].startswith("Q1/mymodel.h5 (") and '"C:"' in item["should_be"]
