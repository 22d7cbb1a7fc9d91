"""The report as HTML: one self-contained document (CSS and SVG inline, no script, no external
reference), served inside the site and downloaded as a file that still works years later offline.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from server.clock import iso
from server.report import plots
from server.report.formatting import (
    data_flags,
    elapsed,
    human_size,
    local_time,
    metric_value,
    score_text,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"

STATUS_TEXT = {
    "graded": "graded",
    "none": "no model submitted",
    "contract_error": "error: shapes or final activation differ",
    "refused": "error: refused (Lambda layer or custom object)",
    "load_error": "error: cannot load the file",
    "evaluation_error": "error: predictions could not be scored",
    "timeout": "error: grading ran out of time",
    "memory": "error: grading ran out of memory",
    "crash": "error: the grader crashed",
    "queued": "queued",
    "grading": "grading…",
    "superseded": "replaced by a newer save",
}
TRIGGER_TEXT = {"save": "saved", "button": "Submit and Test", "final-scan": "found at finish",
                "startup-scan": "found at start-up"}
SOURCE_TEXT = {
    "generated": "generated for this session",
    "mirror": "local mirror of the official files",
    "system": "system copy of the official files",
    "cache": "cached copy of the official files",
    "download": "downloaded from the official URL",
    "standin": "offline stand-in (the official data could not be had here)",
}
REASON_TEXT = {"learner": "finished by you", "deadline": "submitted by the clock at the deadline",
               "startup": "the deadline passed while the service was down"}
DIAGNOSTIC_CAPTIONS = {
    "classification": "Confusion matrix on the held-out data: rows are true classes, columns the "
                      "model's predictions.",
    "series": "Forecast against actual on the validation part of the series.",
    "regression": "Expected against predicted on held-out inputs.",
}


def _skill(value: Any) -> str:
    """Skills and study items are sentences, or {area, skill} pairs in richer manifests."""
    if isinstance(value, dict):
        area = value.get("area") or value.get("section")
        text = value.get("skill") or value.get("title") or value.get("text") or ""
        return f"{area}: {text}" if area else str(text)
    return str(value)


def template_environment(folder: Path, **extra_filters: Any) -> Environment:
    """A Jinja environment with the filters the pages and the report share, so both render a
    time, a size or a data source the same way."""
    env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update({
        "local": local_time,
        "elapsed": elapsed,
        "size": human_size,
        "metric": metric_value,
        "score": score_text,
        "flags": data_flags,
        "status_text": lambda s: STATUS_TEXT.get(s, s or "—"),
        "source_text": lambda s: SOURCE_TEXT.get(s, s or "—"),
        **extra_filters,
    })
    return env


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return template_environment(
        TEMPLATES, skill=_skill, trigger_text=lambda s: TRIGGER_TEXT.get(s, s or "—"))


@lru_cache(maxsize=1)
def report_css() -> str:
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


@lru_cache(maxsize=128)
def _cached_plot(kind: str, payload: str) -> str | None:
    """Plots cost a fifth of a second each and a pending report refreshes every few seconds:
    the same inputs always draw the same SVG, so keep them."""
    args = json.loads(payload)
    if kind == "history":
        return plots.score_history(*args)
    return plots.diagnostics_plot(*args)


def question_plots(report: dict[str, Any], question: dict[str, Any]) -> dict[str, Any]:
    history = _cached_plot("history", json.dumps(
        [{"id": question["id"], "history": question.get("history") or []},
         report.get("started_at"), report.get("deadline")], sort_keys=True))
    diagnostics = question.get("diagnostics") or {}
    drawn = _cached_plot("diagnostics", json.dumps([diagnostics, question["id"]], sort_keys=True))
    return {
        "history": Markup(history) if history else None,
        "diagnostics": Markup(drawn) if drawn else None,
        "caption": DIAGNOSTIC_CAPTIONS.get(diagnostics.get("kind", ""), ""),
    }


def verdict(report: dict[str, Any]) -> dict[str, str]:
    """Pass/fail only once it is final; never a verdict while grading or the exam still runs."""
    if report.get("state") == "running":
        return {"css": "pending", "word": "IN PROGRESS",
                "explain": "The exam is still running; the verdict comes when it is submitted."}
    if report.get("passed") is None:
        return {"css": "pending", "word": "GRADING…",
                "explain": "Models saved in time are still being graded."}
    if report["passed"]:
        return {"css": "pass", "word": "PASSED",
                "explain": "The weighted total reached the pass mark."}
    gap = report["pass_mark"] - report["total"]
    return {"css": "fail", "word": "NOT PASSED",
            "explain": f"{gap:.2f} percentage points short of the pass mark."}


def render_report(report: dict[str, Any], *, site: bool = False, refresh_seconds: int | None = None
                  ) -> str:
    """`site` adds the navigation and export links of the running service; without it the
    document references nothing outside itself."""
    total_weight = sum(q["weight"] for q in report["questions"])
    pending = [q["id"] for q in report["questions"]
               if any(h["status"] in ("queued", "grading") and h["counted_in_time"]
                      for h in q.get("history") or [])]
    return _environment().get_template("report.html").render(
        report=report,
        css=Markup(report_css()),
        site=site,
        refresh_seconds=refresh_seconds,
        verdict=verdict(report),
        reason_text=REASON_TEXT.get(report.get("submit_reason") or "", report.get("submit_reason")),
        pending_questions=pending or ["some questions"],
        total_weight=total_weight,
        plots={q["id"]: question_plots(report, q) for q in report["questions"]},
        generated=iso(time.time()),
    )
