"""Plain records read from the store; rows (column name → value) become these so no caller depends
on column order or on the database behind the store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.workspace.keras_env import DEFAULT_KERAS


@dataclass(frozen=True)
class SessionRecord:
    id: str
    exam_id: str
    exam_title: str
    project_dir: str
    started_at: float
    deadline: float
    state: str
    submitted_at: float | None
    submit_reason: str | None
    seed: int
    pass_mark: float
    duration_minutes: float
    keras: str = DEFAULT_KERAS  # the Keras the learner's scripts run in: "2" (tf_keras, the exam's) or "3"

    @property
    def cutoff(self) -> float:
        """Model files saved after this moment do not count (the deadline, or an earlier finish)."""
        if self.submitted_at is None:
            return self.deadline
        return min(self.deadline, self.submitted_at)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SessionRecord:
        return cls(**dict(row))


@dataclass(frozen=True)
class QuestionRecord:
    session_id: str
    question_id: str
    position: int
    title: str
    weight: float
    model_file: str
    variant: dict[str, Any]
    data: dict[str, Any]
    heldout_path: str
    waiting_since: float | None
    late_note: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> QuestionRecord:
        values = dict(row)
        values["variant"] = json.loads(values.pop("variant_json"))
        values["data"] = json.loads(values.pop("data_json"))
        return cls(**values)


@dataclass(frozen=True)
class SubmissionRecord:
    id: int
    session_id: str
    question_id: str
    source_path: str
    snapshot_path: str
    sha256: str
    format: str
    size_bytes: int
    saved_at: float
    detected_at: float
    trigger: str
    state: str
    attempts: int
    grading_started_at: float | None
    superseded_by: int | None = None
    published_at: float | None = None  # classroom mode: when its job was last handed over

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SubmissionRecord:
        return cls(**dict(row))


@dataclass(frozen=True)
class ResultRecord:
    submission_id: int
    session_id: str
    question_id: str
    status: str
    score: int
    payload: dict[str, Any]
    created_at: float

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ResultRecord:
        values = dict(row)
        values["payload"] = json.loads(values.pop("payload_json"))
        return cls(**values)


@dataclass(frozen=True)
class EventRecord:
    id: int
    session_id: str
    kind: str
    payload: dict[str, Any]
    created_at: float

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EventRecord:
        values = dict(row)
        values["payload"] = json.loads(values.pop("payload_json"))
        return cls(**values)
