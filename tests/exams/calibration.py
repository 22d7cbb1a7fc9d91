"""Shared machinery of the calibration tests: prepare a variant's data as a session would, run a
script (a reference solution or the starter itself) in the materialised question folder, and grade
the saved model with the real grading code.

Each script is trained once per test run, in whichever worker needs it first (`Trainer.run` keeps
the model in the run's `RunCache`), because training is the slow part.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.datasets.base import PrepareContext, Provenance
from server.datasets.registry import preparer
from server.manifest import MODEL_FILE_FORMATS, Exam, Question, Variant, load_exam
from server.workspace.keras_env import DEFAULT_KERAS, learner_env
from tests.support.run_cache import RunCache
from tests.support.timing import spent

ROOT = Path(__file__).resolve().parents[2]
EXAMS = ROOT / "exams"
REFERENCE = Path(__file__).resolve().parent / "reference"
TRAIN_LIMIT_SECONDS = 600


def exam(exam_id: str) -> Exam:
    return load_exam(EXAMS / exam_id)


def find(exam_id: str, variant_id: str) -> tuple[Question, Variant]:
    for question in exam(exam_id).questions:
        for variant in question.variants:
            if variant.id == variant_id:
                return question, variant
    raise KeyError(variant_id)


@dataclass
class Prepared:
    question: Question
    variant: Variant
    folder: Path
    heldout: Path
    provenance: Provenance


@dataclass
class Trained:
    model: Path
    seconds: float
    output: str


@dataclass
class Trainer:
    """One scratch home per test run: prepared folders, a shared data cache, a Keras home."""

    root: Path
    keras_home: Path
    cache: RunCache
    prepared: dict[tuple[str, str], Prepared] = field(default_factory=dict)
    trained: dict[tuple[str, str, str], Trained] = field(default_factory=dict)

    def prepare(self, exam_id: str, variant_id: str, seed: int = 1) -> Prepared:
        key = (exam_id, variant_id)
        if key not in self.prepared:
            question, variant = find(exam_id, variant_id)
            folder = self.root / exam_id / variant_id / question.id
            mirror = os.environ.get("TFEXAM_DATASETS")
            ctx = PrepareContext(
                question_dir=folder,
                heldout_path=self.root / exam_id / variant_id / "heldout" / f"{question.id}.npz",
                params=dict(variant.params), seed=seed, cache_dir=self.root / "cache",
                mirror=Path(mirror) if mirror else None, keras_home=self.keras_home,
            )
            prepare = preparer(variant.data)
            assert prepare is not None, variant.data
            provenance = prepare(ctx)
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(EXAMS / exam_id / variant.starter, folder / "starter.py")
            self.prepared[key] = Prepared(question, variant, folder, ctx.heldout_path, provenance)
        return self.prepared[key]

    def env(self, keras: str = DEFAULT_KERAS) -> dict[str, str]:
        """The learner's environment: the session's Keras mode as the project's .env sets it."""
        return {**os.environ, "KERAS_HOME": str(self.keras_home), "TF_CPP_MIN_LOG_LEVEL": "2",
                "CUDA_VISIBLE_DEVICES": "-1", "PYTHONHASHSEED": "0", **learner_env(keras),
                "HOME": str(self.learner_home())}

    def learner_home(self) -> Path:
        """tf_keras (Keras 2) ignores KERAS_HOME and reads ~/.keras: the learner's scripts get a
        home of the run's own whose .keras is the primed Keras home, so no test touches ~/.keras."""
        home = self.root / "learner-home"
        link = home / ".keras"
        if not link.exists():
            home.mkdir(parents=True, exist_ok=True)
            link.symlink_to(self.keras_home, target_is_directory=True)
        return home

    def run_reference(self, exam_id: str, variant_id: str, solution: str, label: str,
                      keras: str = DEFAULT_KERAS, edit: Callable[[str], str] | None = None) -> Trained:
        """Run the variant's starter with `reference/<solution>.py` as its learner's part
        (`edit` may rewrite the spliced script, e.g. fewer epochs for a quick run)."""
        prepared = self.prepare(exam_id, variant_id)
        script = prepared.folder / f"{label}.py"
        solved = solved_starter(prepared.folder / "starter.py", REFERENCE / f"{solution}.py")
        script.write_text(edit(solved) if edit else solved, encoding="utf-8")
        return self.run(exam_id, variant_id, script, label, keras)

    def launch(self, exam_id: str, variant_id: str, script: Path, label: str, keras: str,
               timeout: float) -> subprocess.CompletedProcess[str]:
        """Run `script` as `python <label>.py` in the question folder, as a learner would, in the
        Keras mode `keras` ("2" = tf_keras, the session default), with no model file left from an
        earlier run. Whether it had to succeed is the caller's to judge: some idioms must fail."""
        prepared = self.prepare(exam_id, variant_id)
        target = prepared.folder / f"{label}.py"
        if script.resolve() != target.resolve():
            shutil.copyfile(script, target)
        (prepared.folder / prepared.question.model_file).unlink(missing_ok=True)
        with spent("training"):
            return subprocess.run([sys.executable, target.name], cwd=prepared.folder, env=self.env(keras),
                                  capture_output=True, text=True, timeout=timeout)

    def run(self, exam_id: str, variant_id: str, script: Path, label: str,
            keras: str = DEFAULT_KERAS) -> Trained:
        """`launch` a training script, which must succeed and save the model. A script is trained
        once per run whichever worker asks first (`RunCache`, by the script's text, the data
        it reads and the Keras mode); its training time is the one measured then."""
        key = (exam_id, variant_id, label)
        if key not in self.trained:
            prepared = self.prepare(exam_id, variant_id)
            data = prepared.folder / "data"

            def train(entry: Path) -> None:
                model = prepared.folder / prepared.question.model_file
                started = time.perf_counter()
                done = self.launch(exam_id, variant_id, script, label, keras,
                                   timeout=TRAIN_LIMIT_SECONDS + 120)
                seconds = time.perf_counter() - started
                assert done.returncode == 0, (f"{label} failed:\n{done.stdout[-3000:]}\n"
                                              f"{done.stderr[-3000:]}")
                assert model.is_file(), f"{label} saved no {model.name}"
                model.replace(entry / model.name)
                (entry / "run.json").write_text(json.dumps(
                    {"seconds": seconds, "output": done.stdout[-2000:]}), encoding="utf-8")
                record(f"{exam_id}/{variant_id}/{label}", seconds=round(seconds, 1), keras=keras)

            entry = self.cache.once([exam_id, variant_id, keras, script.read_bytes(),
                                     *([data] if data.is_dir() else [])], train)
            run = json.loads((entry / "run.json").read_text(encoding="utf-8"))
            self.trained[key] = Trained(entry / prepared.question.model_file, run["seconds"],
                                        run["output"])
        return self.trained[key]


FIXED_END = "# END OF THE CODE YOU MUST NOT CHANGE"
LEARNER_END = "    return model"


def solved_starter(starter: Path, solution: Path) -> str:
    """A reference holds only what a learner writes: it replaces what follows the starter's last
    fixed block in solution_model(), up to `return model`. The starter's fixed blocks, data code and
    save line are used as they are, so a reference cannot drift from what the learner gets."""
    lines = starter.read_text(encoding="utf-8").splitlines()
    learner_end = lines.index(LEARNER_END)
    fixed_end = max(i for i in range(learner_end) if FIXED_END in lines[i])
    body = [f"    {line}" if line.strip() else "" for line in
            solution.read_text(encoding="utf-8").splitlines()]
    return "\n".join([*lines[:fixed_end + 1], *body, *lines[learner_end:]]) + "\n"


def job(variant: Variant, model: Path, heldout: Path):
    """The same fields as `server.grading.trusted.scorer.GradingJob.of` takes from the store."""
    from server.grading.trusted.scorer import GradingJob

    data = variant.model_dump()
    return GradingJob(model, MODEL_FILE_FORMATS[model.suffix], data["task"], data["input_shape"],
                      data["output_shape"], data.get("final_activation"), data["metric"],
                      data["scoring"], heldout)


def grade(variant: Variant, model: Path, heldout: Path) -> dict[str, Any]:
    """Grade as the service does: in a warm sandbox, scored by the trusted side."""
    from server.grading.trusted.local import shared_grader

    with spent("grading"):
        return shared_grader().grade(job(variant, model, heldout)).model_dump(mode="json")


MEASUREMENTS = Path(os.environ.get("TFEXAM_CALIBRATION_LOG", ROOT / ".pytest_cache" / "calibration.jsonl"))


def record(what: str, **figures: Any) -> None:
    """Measured figures (training seconds, scores) go to a log, so they can be reported."""
    MEASUREMENTS.parent.mkdir(parents=True, exist_ok=True)
    with open(MEASUREMENTS, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"what": what, **figures}) + "\n")
    print(what, figures)
