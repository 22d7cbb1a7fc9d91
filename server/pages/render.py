"""One Jinja2 environment for the pages, with the report's formatting filters, so a time or a
size reads the same on the exam page, the history and the report."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from server.report.formatting import (
    data_flags,
    elapsed,
    human_size,
    local_time,
    metric_value,
    score_text,
)
from server.report.html import SOURCE_TEXT, STATUS_TEXT

TEMPLATES = Path(__file__).resolve().parent / "templates"

STATE_TEXT = {"waiting": "Waiting", "grading": "Grading", "graded": "Graded", "error": "Error",
              "none": "No model yet"}


def _json_script(value: Any) -> Markup:
    """Data for the page's script inside <script type="application/json">: '<' escaped so no
    string in it can close the tag."""
    text = json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update({
        "local": local_time,
        "elapsed": elapsed,
        "size": human_size,
        "metric": metric_value,
        "score": score_text,
        "flags": data_flags,
        "json_script": _json_script,
        "clock": _clock,
        "state_text": lambda s: STATE_TEXT.get(s, s),
        "status_text": lambda s: STATUS_TEXT.get(s, s or "—"),
        "source_text": lambda s: SOURCE_TEXT.get(s, s or "—"),
    })
    return env


def render_page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
