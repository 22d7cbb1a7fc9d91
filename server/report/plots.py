"""The report's plots, drawn on the server as inline SVG.

Drawn here rather than in the browser so the downloaded report is one file that needs no
script, no network and no CDN, and prints as it looks. Only the object-oriented matplotlib API is
used (no pyplot): its global figure state is not safe across the server's request threads.
"""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (the backend must be chosen first)

from server.report.formatting import parse_iso  # noqa: E402

matplotlib.rcParams.update({
    "svg.fonttype": "none",      # text stays text: small, selectable, readable when zoomed
    "svg.hashsalt": "tfexam",    # stable ids, so the same report renders the same bytes
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

INK = "#1f2933"
BLUE = "#1f5fae"
ORANGE = "#c45a00"
RED = "#b42318"
GREEN = "#1e7b34"
GREY = "#8a96a3"
PASS_COLOURS = ("#1f5fae", "#c45a00", "#6b3fa0", "#1e7b34", "#9c2a5b", "#4d5b69")

_ID = re.compile(r'\bid="([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")
_HREF = re.compile(r'href="#([^"]+)"')


def _svg(fig: Figure, name: str, label: str) -> str:
    """Serialise for inlining: no XML prolog, no metadata, ids unique within the page, sized by
    CSS, and announced to screen readers as one image with a description."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text)  # HTML5 knows SVG's namespaces
    text = _ID.sub(lambda m: f'id="{name}-{m.group(1)}"', text)
    text = _URL.sub(lambda m: f"url(#{name}-{m.group(1)})", text)
    text = _HREF.sub(lambda m: f'href="#{name}-{m.group(1)}"', text)
    text = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"',
                  lambda m: f'<svg{m.group(1)}', text, count=1)
    safe_label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return text.replace("<svg", f'<svg role="img" aria-label="{safe_label}" class="plot-svg"', 1)


def _figure(width: float = 5.6, height: float = 2.6) -> Figure:
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def score_history(question: dict[str, Any], started_at: str | None,
                  deadline: str | None = None) -> str | None:
    """Score of every submission against minutes into the exam: shows whether the learner
    converged, and which save the report counted."""
    history = question.get("history") or []
    start = parse_iso(started_at)
    if not history or start is None:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    xs, ys, errors_x = [], [], []
    for entry in history:
        at = parse_iso(entry.get("saved_at"))
        if at is None:
            continue
        minutes = (at - start) / 60.0
        if entry.get("score") is None:
            continue
        if entry.get("status") not in (None, "graded"):
            errors_x.append(minutes)
        xs.append(minutes)
        ys.append(entry["score"])
    if xs:
        ax.step(xs, ys, where="post", color=BLUE, linewidth=1.5, alpha=0.6)
        ax.plot(xs, ys, "o", color=BLUE, label="graded save")
    if errors_x:
        ax.plot(errors_x, [0] * len(errors_x), "x", color=RED, markersize=9, mew=2,
                label="error (scores 0)")
    end = parse_iso(deadline)
    if end is not None:
        ax.axvline((end - start) / 60.0, color=GREY, linestyle="--", linewidth=1, label="deadline")
    ax.set_ylim(-0.4, 5.4)
    ax.set_yticks(range(6))
    ax.set_xlim(left=0)
    ax.set_xlabel("minutes into the exam")
    ax.set_ylabel("score")
    ax.grid(axis="y", color="#e4e7eb")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    qid = question.get("id", "question")
    return _svg(fig, f"{qid}-history".lower(), f"Score of each submission of {qid} over time")


def confusion_matrix(diagnostics: dict[str, Any], name: str) -> str | None:
    """Counts per true and predicted class: which classes the model confuses, which the single
    accuracy number hides."""
    matrix = diagnostics.get("confusion_matrix")
    if not matrix:
        return None
    names = diagnostics.get("class_names") or [str(i) for i in range(len(matrix))]
    size = len(matrix)
    side = min(6.5, 2.4 + 0.45 * size)
    fig = _figure(side + 0.8, side)
    ax = fig.add_subplot()
    peak = max((max(row) for row in matrix), default=0) or 1
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=peak)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            ax.text(j, i, str(count), ha="center", va="center", fontsize=9 if size <= 10 else 7,
                    color="white" if count > peak * 0.55 else INK)
    ax.set_xticks(range(size), names[:size], rotation=45 if size > 4 else 0,
                  ha="right" if size > 4 else "center")
    ax.set_yticks(range(size), names[:size])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.colorbar(image, ax=ax, shrink=0.8, label="examples")
    return _svg(fig, f"{name}-confusion".lower(), "Confusion matrix: true class against predicted")


def forecast(diagnostics: dict[str, Any], name: str) -> str | None:
    """The validation series and the model's one-step forecasts: lag, bias and missed peaks show
    at a glance where the MAE comes from."""
    time = diagnostics.get("time") or []
    actual = diagnostics.get("actual") or []
    predicted = diagnostics.get("forecast") or []
    if not time or not actual:
        return None
    fig = _figure(6.4, 2.8)
    ax = fig.add_subplot()
    ax.plot(time[:len(actual)], actual, color=INK, linewidth=1.1, label="actual")
    if predicted:
        ax.plot(time[:len(predicted)], predicted, color=ORANGE, linewidth=1.1, label="forecast")
    ax.set_xlabel("time step")
    ax.set_ylabel("normalised value")
    ax.grid(color="#eef0f2")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return _svg(fig, f"{name}-forecast".lower(), "Forecast against actual values on the validation "
                "series")


def regression(diagnostics: dict[str, Any], name: str) -> str | None:
    """Expected against predicted on held-out inputs: a slope or offset error is plain to see."""
    points = diagnostics.get("points") or []
    if not points:
        return None
    fig = _figure(4.8, 2.6)
    ax = fig.add_subplot()
    ordered = sorted(points, key=lambda p: p["x"])
    xs = [p["x"] for p in ordered]
    ax.plot(xs, [p["expected"] for p in ordered], "-o", color=INK, markersize=4, label="expected")
    ax.plot(xs, [p["predicted"] for p in ordered], "--s", color=ORANGE, markersize=4,
            label="predicted")
    ax.set_xlabel("input x")
    ax.set_ylabel("y")
    ax.grid(color="#eef0f2")
    ax.legend(loc="best", fontsize=8, frameon=False)
    return _svg(fig, f"{name}-regression".lower(), "Expected against predicted on held-out inputs")


def diagnostics_plot(diagnostics: dict[str, Any] | None, name: str) -> str | None:
    if not diagnostics:
        return None
    kind = diagnostics.get("kind")
    if kind == "classification":
        return confusion_matrix(diagnostics, name)
    if kind == "series":
        return forecast(diagnostics, name)
    if kind == "regression":
        return regression(diagnostics, name)
    return None


def trend(attempts: list[dict[str, Any]]) -> str | None:
    """Weighted total of every submitted attempt, per exam, against its pass mark: is practice
    paying off? `attempts` are session statuses, in any order."""
    done = [a for a in attempts if a.get("state") == "submitted" and parse_iso(a.get("started_at"))]
    if not done:
        return None
    done.sort(key=lambda a: parse_iso(a["started_at"]) or 0)
    fig = _figure(6.4, 2.8)
    ax = fig.add_subplot()
    exams: dict[str, list[dict[str, Any]]] = {}
    for attempt in done:
        exams.setdefault(attempt.get("exam_title") or attempt.get("exam") or "exam", []).append(
            attempt)
    marks = set()
    for index, (title, runs) in enumerate(exams.items()):
        colour = PASS_COLOURS[index % len(PASS_COLOURS)]
        xs = list(range(1, len(runs) + 1))
        ax.plot(xs, [r.get("total") or 0 for r in runs], "-o", color=colour, label=title)
        for x, run in zip(xs, runs, strict=True):
            if run.get("passed"):
                ax.plot([x], [run.get("total") or 0], "o", markersize=11, markerfacecolor="none",
                        markeredgecolor=GREEN, mew=1.6)
        marks.add(run_mark(runs))
    for mark in sorted(m for m in marks if m is not None):
        ax.axhline(mark, color=RED, linestyle="--", linewidth=1)
        ax.text(0.55, mark + 1.5, f"pass mark {mark:g} %", color=RED, fontsize=8)
    longest = max(len(r) for r in exams.values())
    ax.set_xlim(0.5, longest + 0.5)
    ax.set_xticks(range(1, longest + 1))
    ax.set_ylim(0, 105)
    ax.set_xlabel("attempt")
    ax.set_ylabel("weighted total (%)")
    ax.grid(axis="y", color="#eef0f2")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return _svg(fig, "trend", "Weighted total of each attempt, per exam, against the pass mark")


def run_mark(runs: list[dict[str, Any]]) -> float | None:
    """An exam's pass mark (the latest attempt's, should the template have changed)."""
    return runs[-1].get("pass_mark") if runs else None
