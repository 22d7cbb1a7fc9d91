"""The one Result of a graded submission, rendered as JSON, HTML and CLI text elsewhere, and the
`Outcome` of one grading job, which becomes it.

Every path through grading ends in an `Outcome` built by one of its constructors (a failure is
still a result): a verdict about the model (graded, refused, contract, load, evaluation, a limit)
or a failure of tfexam's own (`retry=True`), which the supervisor tries again before storing it
with a status that is never reused by content hash (`ResultStatus.is_verdict`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from server.vocabulary import ResultStatus

Status = ResultStatus


class Result(BaseModel):
    session: str
    question: str
    submission: int
    status: ResultStatus
    score: int = Field(ge=0, le=5)
    metric: str
    value: float | None = None
    bands: str = ""
    messages: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)  # e.g. no better than a forecast without a model
    interval: list[float] | None = None  # 95 % interval of the metric over the held-out set
    borderline: bool = False  # a band edge lies inside the interval
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
    isolation: dict[str, Any] = Field(default_factory=dict)

    def cli_text(self) -> str:
        value = "" if self.value is None else f" ({self.metric} = {self.value:.4g})"
        lines = [f"{self.question}: {self.score}/5{value} [{self.status}]"]
        lines += [f"  {m}" for m in self.messages]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


TFEXAM_COULD_NOT = "tfexam could not grade this: {what}. Press Submit and Test to try again."


class Outcome(BaseModel):
    """What one grading job came to, before it is stored as a Result."""

    status: ResultStatus
    score: int = Field(default=0, ge=0, le=5)
    value: float | None = None
    messages: list[str] = Field(default_factory=list)
    keras: str | None = None
    model: dict[str, Any] = Field(default_factory=dict)
    diagnostics: dict[str, Any] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    peak_memory_mb: float | None = None
    warnings: list[str] = Field(default_factory=list)
    interval: list[float] | None = None
    borderline: bool = False
    retry: bool = False  # tfexam's own failure: worth another attempt

    @classmethod
    def graded(cls, score: int, value: float, messages: list[str], **facts: Any) -> Outcome:
        return cls(status=ResultStatus.GRADED, score=score, value=value, messages=messages, **facts)

    @classmethod
    def verdict(cls, status: ResultStatus, messages: list[str], **facts: Any) -> Outcome:
        """The model's file was refused, could not be opened, broke the contract or the
        evaluation: score 0 with the sentences that say why."""
        return cls(status=status, messages=messages, **facts)

    @classmethod
    def timeout(cls, limit_seconds: float, detail: str, **facts: Any) -> Outcome:
        return cls(status=ResultStatus.TIMEOUT, messages=[
            f"Grading stopped at the time limit ({limit_seconds:g} s{'; ' + detail if detail else ''}): "
            "loading the model and predicting on the held-out data took longer. Make the model "
            "smaller (fewer or narrower layers), save and submit again."], **facts)

    @classmethod
    def memory(cls, used_mb: float, limit_mb: float, **facts: Any) -> Outcome:
        return cls(status=ResultStatus.MEMORY, peak_memory_mb=round(used_mb, 1), messages=[
            f"Grading stopped at the memory limit: the model used {used_mb:.0f} MB, the limit is "
            f"{limit_mb:g} MB (TFEXAM_JOB_MEMORY_MB). Make the model smaller (fewer parameters or "
            "smaller layers), save and submit again."], **facts)

    @classmethod
    def tfexam_failure(cls, what: str, status: ResultStatus = ResultStatus.INFRASTRUCTURE,
                       **facts: Any) -> Outcome:
        """Not the model's doing (as far as tfexam can tell): retried, then stored as such."""
        return cls(status=status, messages=[TFEXAM_COULD_NOT.format(what=what)], retry=True,
                   **facts)
