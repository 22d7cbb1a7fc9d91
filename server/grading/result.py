"""The one Result of a graded submission, rendered as JSON, HTML and CLI text elsewhere."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal[
    "graded",          # evaluated; score from the metric
    "contract_error",  # loaded, but the shapes or final activation differ from the question's
    "refused",         # Lambda layer or custom object: the grader will not run it
    "load_error",      # not a model file it can open
    "evaluation_error",
    "timeout",
    "memory",
    "crash",
]


class Result(BaseModel):
    session: str
    question: str
    submission: int
    status: Status
    score: int = Field(ge=0, le=5)
    metric: str
    value: float | None = None
    bands: str = ""
    messages: list[str] = Field(default_factory=list)
    sha256: str
    format: str
    size_bytes: int
    source_path: str
    saved_at: float
    keras: str | None = None
    duration_seconds: float
    model: dict[str, Any] = Field(default_factory=dict)
    diagnostics: dict[str, Any] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)

    def cli_text(self) -> str:
        value = "" if self.value is None else f" ({self.metric} = {self.value:.4g})"
        lines = [f"{self.question}: {self.score}/5{value} [{self.status}]"]
        lines += [f"  {m}" for m in self.messages]
        return "\n".join(lines)
