"""One Jinja2 environment for the pages, with the report's formatting filters, so a time or a
size reads the same on the exam page, the history and the report."""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment
from markupsafe import Markup

from server.report.html import template_environment
from server.sessions.titles import title_for_length

TEMPLATES = Path(__file__).resolve().parent / "templates"

STATE_TEXT = {"waiting": "Waiting", "grading": "Grading", "graded": "Graded", "error": "Error",
              "none": "No model yet"}


def _json_script(value: Any) -> Markup:
    """Data for the page's script inside <script type="application/json">: '<' escaped so no
    string in it can close the tag."""
    text = json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def score_band(score: int | None) -> str:
    """The card's colour: only a full 5/5 is green; 0 is red, never the colour of a pass."""
    if score is None:
        return "none"
    return "full" if score >= 5 else ("zero" if score <= 0 else "partial")


def clock_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def exam_title_for(title: str, exam_minutes: float | None, chosen_minutes: float) -> str:
    """The exam's title with the length actually chosen (see `server.sessions.titles`)."""
    if exam_minutes is not None and chosen_minutes != exam_minutes:
        return title_for_length(title, chosen_minutes)
    return title


@lru_cache(maxsize=1)
def environment() -> Environment:
    return template_environment(
        TEMPLATES, json_script=_json_script, clock=clock_text, band=score_band,
        state_text=lambda s: STATE_TEXT.get(s, s))


def render_page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def move_on_page(path: str, query: list[tuple[str, str]]) -> str:
    """The page a `?code=` address answers with: it moves the browser on to the same address
    without the code. A page of its own, not a 303: a browser sent here from a private file
    (`tfexam open`) started the navigation cross-site and would not send a SameSite=Strict cookie
    along a redirect of it; the page's own move is same-site."""
    rest = urlencode([(k, v) for k, v in query if k != "code"])
    clean = html.escape(path + (f"?{rest}" if rest else ""), quote=True)
    return (f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url='
            f'{clean}"><title>tfexam</title><p><a href="{clean}">Continue</a></p>\n')


MOVE_ON_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
