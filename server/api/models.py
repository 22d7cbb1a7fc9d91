"""Request and response bodies of the REST API, as the OpenAPI page at /docs shows them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from server.workspace.keras_env import DEFAULT_KERAS, KerasMode


class StartSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exam: str = Field(description="exam id, as listed by GET /api/exams")
    workspace: str = Field(description="folder to create the project in; new or empty")
    minutes: float | None = Field(
        default=None, gt=0, description="practice length; the exam's own duration when omitted")
    keras: KerasMode = Field(
        default=DEFAULT_KERAS, description='the Keras the learner\'s scripts run in: "2" '
        '(tf.keras = tf_keras, as in the real exam) or "3"')


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


class MissingData(BaseModel):
    dataset: str = Field(description="catalogue name of the data set, e.g. sarcasm")
    variants: list[str] = Field(description="the variants that need it, as Question/variant")
    looked_in: list[str] = Field(description="every place tfexam looked, in order")
    fix: str = Field(description="the one thing to do")


class ExamSummary(BaseModel):
    id: str
    title: str
    summary: str
    duration_minutes: float
    pass_mark: float
    questions: list[QuestionSummary]
    available: bool = Field(
        description="every question has a variant whose data is on this machine (or a stand-in)")
    missing: list[MissingData] = Field(
        description="data sets some variants lack here (checked on disk only, never downloaded)")


class Problem(BaseModel):
    detail: str
