"""The exam template format: one `manifest.toml` per folder under `exams/`, validated here.

Templates are data so that a new exam, or a new variant of a question, is a folder and not code.
Validation is strict (unknown keys are refused) because a typo in a threshold would silently make
an exam unfair.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI (a dependency on 3.10 only)
    import tomli as tomllib

Task = Literal["regression", "classification", "series"]

MODEL_FILE_FORMATS = {".h5": "h5", ".keras": "keras"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scoring(Strict):
    """How a metric value becomes 0-5.

    `bands`: `thresholds[k-1]` is what score k needs (at least it when higher is better, at most it
    when lower is better). `exam_mae_formula`: the real exam's `min(5, max(0, ceil(17 - 100*MAE)))`.
    """

    kind: Literal["bands", "exam_mae_formula"] = "bands"
    higher_is_better: bool = True
    thresholds: list[float] = Field(default_factory=list)
    no_model_check: bool = Field(
        default=False,
        description="series: warn when the forecast is no better than a forecast without a model "
        "(the training mean, or 1.5 x the MAE of repeating the last value)",
    )
    strict: bool = Field(
        default=False,
        description="cap a forecast that earned the no-model warning at 1; set from the exam's "
        "`strict` option when a session starts",
    )

    @model_validator(mode="after")
    def _check(self) -> Scoring:
        if self.kind == "bands":
            if len(self.thresholds) != 5:
                raise ValueError("bands need exactly five thresholds, one per score 1..5")
            ordered = sorted(self.thresholds, reverse=not self.higher_is_better)
            if list(self.thresholds) != ordered:
                raise ValueError("thresholds must get stricter from score 1 to score 5")
        return self


class Variant(Strict):
    id: str
    title: str
    starter: str
    question: str
    data: str
    task: Task
    input_shape: list[int | None]
    output_shape: list[int | None]
    final_activation: str | None = None
    metric: str
    scoring: Scoring
    params: dict[str, object] = Field(default_factory=dict)
    skills: list[str] = Field(default_factory=list)
    study: list[str] = Field(default_factory=list)


class Question(Strict):
    id: str
    title: str
    weight: float = Field(gt=0)
    model_file: str = "mymodel.h5"
    variants: list[Variant] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError("a question id is its folder name: letters, digits and _ only")
        return value

    @field_validator("model_file")
    @classmethod
    def _model_file(cls, value: str) -> str:
        if Path(value).suffix not in MODEL_FILE_FORMATS:
            raise ValueError("model_file must end in .h5 or .keras")
        return value

    @property
    def model_stem(self) -> str:
        return Path(self.model_file).stem


class Exam(Strict):
    id: str
    title: str
    summary: str = ""
    duration_minutes: float = Field(gt=0)
    pass_mark: float = Field(gt=0, le=1, description="fraction of the weighted maximum")
    strict: bool = Field(
        default=False,
        description="stricter than the real exam: a series forecast no better than a forecast "
        "without a model scores at most 1 (the real exam's formula alone, with a warning, otherwise)",
    )
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Exam:
        ids = [q.id for q in self.questions]
        if len(ids) != len(set(ids)):
            raise ValueError("question ids must be unique")
        return self

    def scored_variant(self, variant: Variant) -> dict[str, object]:
        """The variant as a session stores it: the exam-wide `strict` option folded into its
        scoring, so the grader needs nothing but the variant."""
        data = variant.model_dump()
        if self.strict:
            data["scoring"]["strict"] = True
        return data

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


class TemplateError(Exception):
    """A template that cannot be used; the message names the file and the problem."""


def load_exam(folder: Path) -> Exam:
    manifest = folder / "manifest.toml"
    try:
        raw = tomllib.loads(manifest.read_text(encoding="utf-8"))
        exam = Exam.model_validate(raw)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as error:
        raise TemplateError(f"{manifest}: {error}") from error
    if exam.id != folder.name:
        raise TemplateError(f"{manifest}: id {exam.id!r} must equal the folder name {folder.name!r}")
    for question in exam.questions:
        for variant in question.variants:
            for relative in (variant.starter, variant.question):
                if not (folder / relative).is_file():
                    raise TemplateError(f"{manifest}: {question.id}/{variant.id}: no file {relative}")
    return exam


def list_exams(exams_dir: Path) -> dict[str, Exam]:
    """Every valid template; a broken one is skipped here and reported by `tfexam exams --check`."""
    found: dict[str, Exam] = {}
    for folder in sorted(p for p in exams_dir.iterdir() if (p / "manifest.toml").is_file()):
        try:
            found[folder.name] = load_exam(folder)
        except TemplateError:
            continue
    return found
