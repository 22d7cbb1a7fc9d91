"""Request and response bodies of the REST API, as the OpenAPI page at /docs shows them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StartSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exam: str = Field(description="exam id, as listed by GET /api/exams")
    workspace: str = Field(description="folder to create the project in; new or empty")
    minutes: float | None = Field(
        default=None, gt=0, description="practice length; the exam's own duration when omitted")


class SessionStarted(BaseModel):
    session: str
    exam: str
    project_dir: str
    started_at: str
    deadline: str
    remaining_seconds: float


class QuestionSummary(BaseModel):
    id: str
    title: str
    weight: float
    variants: list[str]


class ExamSummary(BaseModel):
    id: str
    title: str
    summary: str
    duration_minutes: float
    pass_mark: float
    questions: list[QuestionSummary]


class Problem(BaseModel):
    detail: str
