"""`tfexam exams --check`: every template's manifest, starters and data, checked before a learner
meets a broken exam. Data that cannot be had here is reported, not failed: an offline machine is
a normal place to run this, and the session simply draws another variant.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from server.config import Settings
from server.datasets.base import DatasetUnavailable, PrepareContext
from server.datasets.registry import preparer
from server.manifest import Exam, TemplateError, load_exam

IMPORT_SCRIPT = """
import importlib.util, sys, os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
failed = 0
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("starter", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        assert callable(getattr(module, "solution_model", None)), "no solution_model()"
    except Exception as error:
        failed += 1
        print(f"IMPORT FAILED {path}: {type(error).__name__}: {error}")
sys.exit(1 if failed else 0)
"""


def starter_problems(path: Path) -> list[str]:
    """The real exam's form: solution_model() and a __main__ block that saves the model."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError as error:
        return [f"{path}: syntax error: {error}"]
    problems = []
    if not any(isinstance(n, ast.FunctionDef) and n.name == "solution_model" for n in tree.body):
        problems.append(f"{path}: no solution_model() function")
    main_blocks = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(
        n.test)]
    if not main_blocks or ".save(" not in ast.unparse(main_blocks[0]):
        problems.append(f"{path}: no `if __name__ == '__main__':` block that saves the model")
    if "DO NOT CHANGE" not in path.read_text(encoding="utf-8"):
        problems.append(f"{path}: no DO NOT CHANGE block")
    return problems


def say(line: str) -> None:
    """Each line as soon as it is known (a pipe or a log too): the check takes minutes."""
    print(line, flush=True)


def _data_lines(exam: Exam, settings: Settings) -> Iterator[str]:
    """One line per variant's data, each as soon as it is prepared (a data set may take tens of
    seconds), after a line that says which one is being prepared."""
    count = sum(len(q.variants) for q in exam.questions)
    done = 0
    with tempfile.TemporaryDirectory() as scratch:
        for question in exam.questions:
            for variant in question.variants:
                prepare = preparer(variant.data)
                label = f"  {question.id}/{variant.id} data {variant.data!r}: "
                done += 1
                if prepare is None:
                    yield label + "MISSING: no preparer of that name"
                    continue
                say(f"  [{done}/{count}] preparing {variant.data!r} for {question.id}/{variant.id}...")
                began = time.monotonic()
                ctx = PrepareContext(
                    question_dir=Path(scratch) / question.id / variant.id,
                    heldout_path=Path(scratch) / f"{question.id}-{variant.id}.npz",
                    params=dict(variant.params), seed=0, cache_dir=settings.cache_dir,
                    mirror=settings.datasets_mirror, keras_home=Path(scratch) / "keras",
                )
                try:
                    provenance = prepare(ctx)
                except DatasetUnavailable as why:
                    yield label + f"not available here: {why}"
                    continue
                completeness = "complete" if provenance.complete else "PARTIAL"
                line = label + (f"ok ({provenance.source}, {completeness}, "
                                f"{time.monotonic() - began:.0f} s) {provenance.location}")
                if provenance.source == "standin" or not provenance.complete:
                    line += f"\n    note: {provenance.note.splitlines()[0][:300]}"
                yield line


def check_all(exams_dir: Path | None = None, import_starters: bool = True) -> int:
    settings = Settings.from_env(**({"exams_dir": exams_dir} if exams_dir else {}))
    failures = 0
    starters: list[Path] = []
    for folder in sorted(p for p in settings.exams_dir.iterdir() if p.is_dir()
                         and (p / "manifest.toml").is_file()):
        try:
            exam = load_exam(folder)
        except TemplateError as error:
            say(f"{folder.name}: INVALID MANIFEST\n  {error}")
            failures += 1
            continue
        say(f"{exam.id}: manifest ok ({len(exam.questions)} questions, "
              f"{exam.duration_minutes:g} min, pass mark {exam.pass_mark:.0%})")
        for question in exam.questions:
            for variant in question.variants:
                path = folder / variant.starter
                starters.append(path)
                for problem in starter_problems(path):
                    say(f"  STARTER: {problem}")
                    failures += 1
        for line in _data_lines(exam, settings):
            say(line)
    if import_starters and starters:
        say(f"importing the {len(starters)} starters with TensorFlow (a minute or so; --quick "
            "skips this)...")
        done = subprocess.run([sys.executable, "-c", IMPORT_SCRIPT, *map(str, starters)],
                              capture_output=True, text=True)
        print(done.stdout, end="")
        if done.returncode:
            failures += 1
        else:
            say(f"starters import: ok ({len(starters)})")
    say("check: " + ("ok" if failures == 0 else f"{failures} problem(s)"))
    return 1 if failures else 0
