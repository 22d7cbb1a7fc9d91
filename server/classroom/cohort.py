"""The cohort of one sitting as the instructor sees it: every learner's time left and each
question's state and score, failed and stuck gradings named (never hidden), the distribution of
scores per question, and the same as CSV rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

from server.classroom.roster import Roster, Sitting
from server.services import Services
from server.sessions.status import session_status

STUCK_SECONDS = 300.0  # queued or grading this long after the save: shown as stuck


def _learner_rows(services: Services, roster: Roster, sitting: Sitting) -> list[dict[str, Any]]:
    now = services.clock.now()
    rows = []
    for learner in roster.learners(sitting.id):
        session = services.store.session(learner.session_id)
        if session is None:
            continue
        status = session_status(services.store, session, now)
        questions = []
        for q in status["questions"]:
            latest = services.store.latest_submission(session.id, q["id"])
            waiting = latest is not None and latest.state in ("queued", "grading")
            questions.append({
                "id": q["id"], "state": q["state"], "score": q["score"], "message": q["message"],
                "submissions": q["submissions"],
                "failed": q["state"] == "error",
                "stuck": bool(waiting and latest and now - latest.detected_at > STUCK_SECONDS),
            })
        rows.append({"learner": learner.id, "name": learner.name, "session": session.id,
                     "joined_at": status["started_at"], "state": session.state,
                     "remaining_seconds": status["remaining_seconds"], "total": status["total"],
                     "passed": status["passed"], "questions": questions})
    return rows


def cohort(services: Services, roster: Roster, sitting: Sitting) -> dict[str, Any]:
    learners = _learner_rows(services, roster, sitting)
    distributions: dict[str, Counter[int]] = {}
    for row in learners:
        for q in row["questions"]:
            if q["score"] is not None:
                distributions.setdefault(q["id"], Counter())[int(q["score"])] += 1
    return {
        "joined": len(learners),
        "running": sum(1 for r in learners if r["state"] == "running"),
        "learners": learners,
        "distributions": {qid: {str(score): counts[score] for score in range(6)}
                          for qid, counts in sorted(distributions.items())},
        "failed": [{"learner": r["name"], "question": q["id"], "message": q["message"]}
                   for r in learners for q in r["questions"] if q["failed"]],
        "stuck": [{"learner": r["name"], "question": q["id"]}
                  for r in learners for q in r["questions"] if q["stuck"]],
    }


def cohort_rows(services: Services, roster: Roster, sitting: Sitting) -> list[list[Any]]:
    learners = _learner_rows(services, roster, sitting)
    question_ids = [q.question_id for q in services.store.questions(learners[0]["session"])
                    ] if learners else []
    rows: list[list[Any]] = [["learner", "name", "session", "joined_at", "state", "total",
                              "passed", *[f"{qid}_score" for qid in question_ids],
                              *[f"{qid}_state" for qid in question_ids]]]
    for r in learners:
        by_id = {q["id"]: q for q in r["questions"]}
        rows.append([r["learner"], r["name"], r["session"], r["joined_at"], r["state"], r["total"],
                     r["passed"],
                     *[by_id.get(qid, {}).get("score") for qid in question_ids],
                     *[by_id.get(qid, {}).get("state") for qid in question_ids]])
    return rows
