"""Status and report as terminal text: the CLI's rendering of the service's JSON."""

from __future__ import annotations

from typing import Any


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def render_status(status: dict[str, Any]) -> str:
    lines = [f"{status['exam_title']} — session {status['session']} ({status['state']})"]
    if status["state"] == "running":
        lines.append(f"time left {_clock(status['remaining_seconds'])} "
                     f"(deadline {status['deadline']})")
    lines.append(f"project {status['project_dir']}")
    for q in status["questions"]:
        score = "-" if q["score"] is None else f"{q['score']}/5"
        lines.append(f"  {q['id']:<10} {score:>4}  {q['state']:<8} {q['message']}")
    verdict = {True: "PASSED", False: "NOT PASSED", None: "—"}[status["passed"]]
    lines.append(f"total {status['total']:.1f}% (pass mark {status['pass_mark']:.0f}%)  "
                 f"{verdict if status['state'] == 'submitted' else ''}".rstrip())
    return "\n".join(lines)


def render_report(report: dict[str, Any]) -> str:
    verdict = {True: "PASSED", False: "NOT PASSED", None: "grading still running"}[
        report["passed"]]
    lines = [f"{report['exam']['title']} — {verdict}",
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
