"""Status and report as terminal text: the CLI's rendering of the service's JSON."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

NO_SCORE = "–"
VERDICT = {True: "PASSED", False: "NOT PASSED", None: "grading still running"}
IN_PROGRESS = "in progress (the exam is still running: the verdict comes when it is submitted)"


def verdict_text(report: dict[str, Any]) -> str:
    """The report's verdict in words: a running exam has none yet, and "grading still running"
    only when something is being graded."""
    if report.get("state") == "running":
        return IN_PROGRESS
    return VERDICT[report.get("passed")]


def clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"



def short_id(question_id: str) -> str:
    """`Category3` → `C3`, for one-line displays; other ids stay as they are."""
    match = re.fullmatch(r"Category(\d+)", question_id)
    return f"C{match.group(1)}" if match else question_id


def question_mark(question: dict[str, Any]) -> str:
    """A question in a word: its score, or what it is doing, or – when there is nothing yet."""
    if question["state"] in ("waiting", "grading"):
        return str(question["state"])
    if question.get("score") is not None:
        return f"{question['score']}/5"
    return "error" if question["state"] == "error" else NO_SCORE


def time_line(status: dict[str, Any]) -> str:
    """One short line for status bars and prompts:
    `3:12:05 left · C1 5/5 · C2 4/5 · C3 – · C4 grading · C5 –`."""
    parts = [f"{short_id(q['id'])} {question_mark(q)}" for q in status["questions"]]
    if status["state"] == "running":
        head = f"{clock(status['remaining_seconds'])} left"
    else:
        head = f"submitted · {status['total']:.1f}% · {VERDICT[status.get('passed')]}"
    # A save the record could not take is said on the one line too, until one is recorded.
    parts += [f"{short_id(u['question'])} SAVE NOT RECORDED ({u['reason']})"
              for u in status.get("unrecorded_saves") or []]
    return " · ".join([head, *parts])


def render_status(status: dict[str, Any], own_folder: Path | None = None) -> str:
    """`own_folder`: a joined project's folder on this machine, which is the learner's project;
    the status names the central service's copy of it, on another machine."""
    lines = [f"{status['exam_title']} — session {status['session']} ({status['state']})"]
    if status["state"] == "running":
        lines.append(f"time left {clock(status['remaining_seconds'])} "
                     f"(deadline {status['deadline']})")
    lines.append(f"project {own_folder or status['project_dir']}")
    if status.get("project") == "missing":
        lines.append("  the project folder is missing: restore it so saves are seen again")
    for unrecorded in status.get("unrecorded_saves") or []:
        lines.append(f"  NOT RECORDED: {unrecorded['message']}")
    for q in status["questions"]:
        score = "-" if q["score"] is None else f"{q['score']}/5"
        lines.append(f"  {q['id']:<10} {score:>4}  {q['state']:<8} {q['message']}")
    for item in status.get("misplaced") or []:
        lines.append(f"  {item.get('path')} is not graded there: move it to {item.get('should_be')}")
    verdict = {True: "PASSED", False: "NOT PASSED", None: "—"}[status["passed"]]
    lines.append(f"total {status['total']:.1f}% (pass mark {status['pass_mark']:.0f}%)  "
                 f"{verdict if status['state'] == 'submitted' else ''}".rstrip())
    return "\n".join(lines)


def render_summary(report: dict[str, Any]) -> str:
    """The report's first lines: the verdict, the total and each question's score."""
    lines = [f"{report['exam']['title']} — {verdict_text(report)}",
             f"total {report['total']:.1f}% against a pass mark of {report['pass_mark']:.0f}%"]
    for q in report["questions"]:
        value = "" if q.get("value") is None else f" ({q['metric']} = {q['value']:.4g})"
        lines.append(f"  {q['id']:<10} {q['score']}/5{value}")
    return "\n".join(lines)


def render_report(report: dict[str, Any]) -> str:
    lines = [f"{report['exam']['title']} — {verdict_text(report)}",
             f"total {report['total']:.1f}% against a pass mark of {report['pass_mark']:.0f}%", ""]
    for q in report["questions"]:
        value = "" if q["value"] is None else f"{q['metric']} = {q['value']:.4g}; "
        lines.append(f"{q['id']} {q['title']} ({q['variant']['title']}): {q['score']}/5")
        lines.append(f"  {value}bands: {q['bands']}")
        if q["model"]:
            m = q["model"]
            lines.append(f"  model {m['file']} ({m['format']}, sha256 {m['sha256'][:12]}, "
                         f"{m['size_bytes']} bytes, saved {m['saved_at']}); "
                         f"{q['submissions']} submission(s)")
        lines.append(f"  data: {q['data'].get('title')} ({q['data'].get('source')}"
                     f"{'' if q['data'].get('complete', True) else ', partial'})")
        lines += [f"  {m}" for m in q["messages"]]
        lines += [f"  study next: {s}" for s in q["study"]]
        lines.append("")
    return "\n".join(lines)
