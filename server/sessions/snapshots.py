"""Snapshots are kept only while they are needed: the latest submission of each question (the one
a Submit and Test or a restart may grade again) and those still queued or being graded. Every
other snapshot is deleted as soon as it is not needed, so the home folder holds at most a few
models per question, each within the question's size limit."""

from __future__ import annotations

import shutil
from pathlib import Path

from server.store import Store
from server.vocabulary import SubmissionState


def prune(store: Store, sessions_dir: Path, session_id: str, question_id: str) -> int:
    """Delete the snapshots of the question that are no longer needed; returns how many."""
    subs = store.submissions(session_id, question_id)
    live = [s for s in subs if s.state != SubmissionState.SUPERSEDED]
    keep = {s.id for s in subs if s.state in (SubmissionState.QUEUED, SubmissionState.GRADING)}
    if live:
        keep.add(live[-1].id)
    root = (sessions_dir / session_id / "snapshots").resolve()
    removed = 0
    for sub in subs:
        if sub.id in keep or not sub.snapshot_path:
            continue
        folder = Path(sub.snapshot_path).parent
        if folder.resolve().parent != root or not folder.exists():
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed
