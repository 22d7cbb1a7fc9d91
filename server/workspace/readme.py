"""The README a learner finds at the top of the project folder: the rules, in the exam's words."""

from __future__ import annotations

from server.clock import iso
from server.manifest import Exam
from server.workspace.draw import Drawn
from server.workspace.keras_env import DEFAULT_KERAS, describe, learner_env


def learner_readme(exam: Exam, drawn: list[Drawn], session: dict[str, object]) -> str:
    total_weight = sum(d.question.weight for d in drawn)
    keras = str(session.get("keras", DEFAULT_KERAS))
    lines = [
        f"# {exam.title}",
        "",
        exam.summary,
        "",
        f"Session `{session['id']}`. Deadline: **{iso(float(session['deadline']))}** "  # type: ignore[arg-type]
        "(UTC); the service submits the exam for you when time runs out.",
        "",
        "## How this exam works",
        "- Each folder is one question: read `question.md`, complete `starter.py`, run it.",
        "- Running a starter saves `mymodel.h5` in its folder (run it from that folder, or save",
        "  `mymodel.keras` or a SavedModel folder `mymodel/` there). The service notices the save",
        "  and grades it in the background; `tfexam status` or the browser shows the score 0-5.",
        "- `tfexam submit CategoryN --wait` is the real exam's *Submit and Test* button.",
        "- Resubmit as often as you like: the **latest** model saved before the deadline counts.",
        "- A question with no model scores 0. Do not change the `DO NOT CHANGE` blocks; keep the",
        "  input and output shapes exactly as stated (the grader is strict, as the real one was);",
        "  Lambda layers are not supported by the grader.",
        f"- Keras: scripts run in {describe(keras)}. The project's",
        "  `.env` sets it (VS Code and PyCharm read it), and each starter's first lines set it",
        "  however it is run (keep them). For a script of your own: `tfexam run CategoryN",
        "  script.py`, or first `. .tfexam/activate` (Windows: `.tfexam\\activate.bat`), i.e.",
        f"  `export {' '.join(f'{k}={v}' for k, v in learner_env(keras).items())}`.",
        f"- Pass mark: {exam.pass_mark:.0%} of the weighted maximum. The real exam never published",
        "  its pass mark; candidates estimated about 90 %, so this mock uses that as its default.",
        "",
        "## Questions",
        "",
        "| folder | question | weight | data |",
        "|---|---|---|---|",
    ]
    for d in drawn:
        share = d.question.weight / total_weight
        source = d.provenance.source + ("" if d.provenance.complete else ", partial")
        lines.append(
            f"| `{d.question.id}` | {d.question.title}: {d.variant.title} | {share:.0%} "
            f"| {d.provenance.title} ({source}) |"
        )
    for d in drawn:
        for skip in d.provenance.skipped:
            lines.append(f"- `{d.question.id}`: variant {skip['variant']} was not drawn: "
                         f"{skip['reason']}")
        if d.provenance.source == "standin":
            lines.append(f"- `{d.question.id}`: the photos are an **offline stand-in** "
                         f"({d.provenance.note})")
    lines.append("")
    return "\n".join(lines)
