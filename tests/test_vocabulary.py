"""The shared vocabulary: members are the strings already stored and sent, and only verdicts about
the model itself are reusable by content hash."""

from __future__ import annotations

import json

from server.vocabulary import ResultStatus, SessionState, SubmissionState, is_verdict


def test_members_are_the_wire_strings() -> None:
    assert SessionState.RUNNING == "running"
    assert json.dumps({"state": SubmissionState.SUPERSEDED}) == '{"state": "superseded"}'
    assert f"{SubmissionState.QUEUED}" == "queued"


def test_only_verdicts_about_the_model_are_reusable() -> None:
    for status in ("graded", "contract_error", "refused", "load_error", "timeout", "memory"):
        assert is_verdict(status), status
    for status in ("crash", "interrupted", "infrastructure", "no-such-status"):
        assert not is_verdict(status), status
    assert not ResultStatus.CRASH.is_verdict
