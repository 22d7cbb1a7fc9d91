"""A result's 95 % interval is shown beside its metric (with "borderline" when a band edge lies
inside it), and a no-model warning is on the result and on the study list even at 5/5."""

from __future__ import annotations

from server.report.build import build_report
from server.report.html import render_report
from server.store.records import SubmissionRecord

WARNING = "This forecast is no better than a forecast without a model: MAE 0.1268 is not below …"


def test_interval_borderline_and_warning_reach_the_report(services, tmp_path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    now = services.clock.now()
    sub = services.store.add_submission(SubmissionRecord(
        0, session.id, "Q2", f"{session.project_dir}/Q2/mymodel.h5", "snap", "a" * 64, "h5", 1000,
        now, now, "save", "queued", 0, None), now=now)
    services.store.save_result(sub.id, "graded", 5, {
        "status": "graded", "messages": ["Score 5/5."], "value": 0.91, "warnings": [WARNING],
        "interval": [0.874, 0.937], "borderline": True, "diagnostics": {}, "model": {}}, now)
    report = build_report(services.store, services.sessions.get(session.id), now)
    q2 = next(q for q in report["questions"] if q["id"] == "Q2")
    assert q2["interval"] == [0.874, 0.937] and q2["borderline"] is True
    assert q2["warnings"] == [WARNING] and q2["study"][0] == WARNING
    html = render_report(report)
    assert 'data-testid="interval-Q2"' in html and "0.874 – 0.937" in html and "borderline" in html
    assert 'data-testid="study-Q2"' in html and WARNING.split(":")[0] in html
