"""The plots are inline SVG that a page can hold several of, and that reference nothing outside."""

from __future__ import annotations

import re

from server.report import plots

SERIES = {"kind": "series", "split_time": 100, "window": 30, "time": list(range(100, 160)),
          "actual": [i / 60 for i in range(60)], "forecast": [i / 60 + 0.05 for i in range(60)]}
HISTORY = {"id": "Q2", "history": [
    {"submission": 1, "saved_at": "2027-01-15T08:01:00.000Z", "score": 0, "status": "load_error"},
    {"submission": 2, "saved_at": "2027-01-15T08:05:00.000Z", "score": 3, "status": "graded"},
    {"submission": 3, "saved_at": "2027-01-15T08:09:30.000Z", "score": 5, "status": "graded"}]}


def _external(svg: str) -> list[str]:
    return re.findall(r"(?:https?:)?//[\w.-]+\.\w+", svg)


def test_each_plot_is_inline_svg_with_a_description() -> None:
    drawn = [
        plots.score_history(HISTORY, "2027-01-15T08:00:00.000Z", "2027-01-15T08:10:00.000Z"),
        plots.confusion_matrix({"class_names": ["cat", "dog"], "confusion_matrix": [[40, 10],
                                                                                   [5, 45]]}, "Q3"),
        plots.forecast(SERIES, "Q5"),
        plots.regression({"points": [{"x": 1.0, "expected": 1.0, "predicted": 1.2}]}, "Q1"),
        plots.trend([{"state": "submitted", "started_at": "2027-01-15T08:00:00.000Z", "total": 62.5,
                      "pass_mark": 90.0, "exam_title": "smoke", "passed": False},
                     {"state": "submitted", "started_at": "2027-01-16T08:00:00.000Z", "total": 93.0,
                      "pass_mark": 90.0, "exam_title": "smoke", "passed": True}]),
    ]
    for svg in drawn:
        assert svg is not None and svg.startswith("<svg")
        assert 'role="img"' in svg and "aria-label=" in svg
        assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<metadata>" not in svg
        assert _external(svg) == [], _external(svg)
        assert " width=" not in svg.split(">", 1)[0], "CSS sizes the plot, not fixed points"


def test_ids_are_prefixed_so_two_plots_can_share_a_page() -> None:
    first = plots.forecast(SERIES, "Q4") or ""
    second = plots.forecast(SERIES, "Q5") or ""
    ids_first = set(re.findall(r'id="([^"]+)"', first))
    ids_second = set(re.findall(r'id="([^"]+)"', second))
    assert ids_first and not ids_first & ids_second
    for ref in re.findall(r"url\(#([^)]+)\)", second) + re.findall(r'href="#([^"]+)"', second):
        assert ref in ids_second, f"dangling reference #{ref}"


def test_text_stays_text_and_the_same_input_draws_the_same_bytes() -> None:
    matrix = {"class_names": ["rock", "paper", "scissors"],
              "confusion_matrix": [[30, 2, 1], [3, 28, 2], [0, 1, 33]]}
    svg = plots.confusion_matrix(matrix, "Q3") or ""
    assert ">scissors<" in svg and ">28<" in svg
    assert svg == plots.confusion_matrix(matrix, "Q3")


def test_nothing_to_draw_gives_none() -> None:
    assert plots.score_history({"id": "Q1", "history": []}, "2027-01-15T08:00:00.000Z") is None
    assert plots.diagnostics_plot({}, "Q1") is None
    assert plots.diagnostics_plot({"kind": "unknown"}, "Q1") is None
    assert plots.trend([{"state": "running", "started_at": "2027-01-15T08:00:00.000Z"}]) is None
