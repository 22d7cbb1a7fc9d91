"""The standalone report: verdict, per question facts, plots, and not one external reference."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from server.report.build import build_report
from server.report.html import render_report
from server.services import Services
from server.store.records import SessionRecord


class _References(HTMLParser):
    """Every src/href and stylesheet link of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "data") and value is not None:
                self.found.append((tag, name, value))


def _report(services: Services, session: SessionRecord) -> dict:
    return build_report(services.store, session, services.clock.now())


def test_standalone_file_references_nothing_outside_itself(services, graded_session) -> None:
    html = render_report(_report(services, graded_session))
    parser = _References()
    parser.feed(html)
    outside = [r for r in parser.found if not r[2].startswith(("#", "data:"))]
    assert outside == [], outside
    assert not re.search(r"https?://", html)
    assert "<script" not in html and "<link" not in html
    assert "@media print" in html
    assert html.count("<svg") == 4  # a history and a diagnostic plot for each question


def test_report_shows_verdict_bands_model_data_and_study(services, graded_session) -> None:
    report = _report(services, graded_session)
    html = render_report(report)
    assert report["passed"] is False
    assert "NOT PASSED" in html
    assert f"{report['total']:.2f} %" in html and "90 %" in html
    q2 = next(q for q in report["questions"] if q["id"] == "Q2")
    assert q2["model"]["sha256"][:12] in html and "17.2 kB" in html
    assert "Confusion matrix" in html and ">scissors<" not in html
    assert "Three Gaussian blobs" in html and "generated for this session" in html
    assert "Multi-class classification" in html  # the skills the variant exercised
    assert "Add a hidden layer" in html  # study advice for a question under 5
    assert 'data-testid="study-Q1"' not in html  # none for a 5/5


def test_partial_and_stand_in_data_are_flagged(services, graded_session) -> None:
    report = _report(services, graded_session)
    report["questions"][1]["data"].update(source="standin", complete=False)
    html = render_report(report)
    assert "offline stand-in" in html and ">partial<" in html


def test_pending_grading_is_said_and_the_site_page_refreshes(services, graded_session) -> None:
    report = _report(services, graded_session)
    report.update(passed=None, grading_pending=True)
    report["questions"][0]["history"][-1].update(status="grading")
    page = render_report(report, site=True, refresh_seconds=3)
    assert 'http-equiv="refresh" content="3"' in page
    assert "GRADING" in page and "Grading is still running for Q1" in page
    standalone = render_report(report)
    assert "http-equiv" not in standalone and "Download the report again" in standalone


def test_errors_lead_the_study_advice(services, graded_session) -> None:
    report = _report(services, graded_session)
    none = {**report["questions"][1], "score": 0, "status": "none", "history": [], "model": None}
    from server.report.build import study_next

    advice = study_next({"study": ["Train longer."]}, 0, "contract_error")
    assert advice[0].startswith("Match the exact input and output shapes") and advice[1] == "Train longer."
    assert study_next({"study": ["x"]}, 5, "graded") == []
    html = render_report({**report, "questions": [none]})
    assert "No model was counted" in html


def test_the_graders_keras_is_said_against_the_sessions(services, graded_session) -> None:
    """A Keras 2 session once read "Graded with Keras 3.15.1": true of the loader, and read as a
    contradiction of the session's Keras."""
    from server.report.formatting import grader_keras

    html = render_report(_report(services, graded_session))
    assert "Graded with" not in html
    assert "your scripts ran Keras 2 (tf_keras), as in the real exam" in html
    assert grader_keras("Keras 3.15.1", "2") == (
        "read for grading by Keras 3.15.1, which also reads files saved by Keras 2; your scripts "
        "ran Keras 2 (tf_keras), as in the real exam")
    assert grader_keras("tf_keras 2.19.0 (Keras 2)", "3") == (
        "read for grading by tf_keras 2.19.0 (Keras 2), because Keras 3 could not read it; your "
        "scripts ran Keras 3")
    assert grader_keras("Keras 3.15.1", "3") == (
        "read for grading by Keras 3.15.1; your scripts ran Keras 3")
    assert grader_keras(None, "2") is None
