"""Each question's task and score bands on the exam page, from the exam's own template.

The learner's `CategoryN/question.md` is a copy they may edit or delete; the page reads the
template the session was drawn from (the variant's `question` file under the exams folder), so the
task and its bands shown beside the score are the ones the grader applies. Markdown is rendered
with raw HTML turned off: a template's text is shown, never run.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup

from server.store.records import QuestionRecord, SessionRecord


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


@lru_cache(maxsize=64)
def _rendered(path: str, mtime_ns: int) -> Markup:
    text = Path(path).read_text(encoding="utf-8")
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):  # the card already has the question's title
        text = "\n".join(lines[1:])
    return Markup(_markdown().render(text))


def question_html(exams_dir: Path, session: SessionRecord, question: QuestionRecord) -> Markup | None:
    """The variant's question text as HTML, or None when its template is gone."""
    relative = question.variant.get("question")
    if not relative:
        return None
    exam_dir = (exams_dir / session.exam_id).resolve()
    path = (exam_dir / str(relative)).resolve()
    if exam_dir not in path.parents:
        return None
    try:
        return _rendered(str(path), path.stat().st_mtime_ns)
    except (OSError, UnicodeDecodeError):
        return None
