"""The README's terminal recipe, copied from the README itself and run as written in a learner's
shell (bash, tfexam on PATH as the README says, nothing else set), gets the session's Keras: in a
Keras 2 session the course's Keras 2 idioms run (`model.predict([10.0])`, which Keras 3 refuses),
even when the shell exports the other mode; in a Keras 3 session `tf.keras` is Keras 3."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.live_server import ROOT, LiveServer
from tests.support.timing import spent

pytestmark = pytest.mark.slow

# What the learner adds to the starter's solution_model(), after its fit: the course's idioms.
IDIOMS = {
    "2": ('    print("KERAS", type(model).__module__)\n'
          '    print("PREDICT", model.predict([10.0]).tolist())  # a list: Keras 2 only\n'),
    "3": ('    print("KERAS", type(model).__module__)\n'
          '    print("PREDICT", model.predict(np.array([10.0])).tolist())\n'),
}


def readme_recipe() -> list[str]:
    """The README's terminal block's lines up to the one that runs the starter, as written,
    without their comments (two spaces and a `#`)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"The same from a terminal:\n\n```\n(.*?)```", text, re.DOTALL)
    assert block, "the README's terminal recipe moved: update this test to find it"
    lines = [re.split(r"\s{2,}#", line)[0].strip() for line in block.group(1).splitlines()]
    starter = next(i for i, line in enumerate(lines) if "python starter.py" in line)
    return [line for line in lines[:starter + 1] if line]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, keras_home: Path):
    live = LiveServer(tmp_path_factory.mktemp("recipe-home")).start()
    yield live
    live.stop()


def learner_shell(home: Path, service: LiveServer, exported_legacy: str) -> dict[str, str]:
    """A fresh login's environment: HOME is the learner's, PATH has the repository's .venv/bin
    (the README's `export PATH=...`) before the system's, and TF_USE_LEGACY_KERAS is set to the
    mode the session does not run, as a learner's shell profile might."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TFEXAM_", "TF_", "VIRTUAL_"))}
    return {**env, "HOME": str(home), "PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),  # this checkout's code, whichever checkout .venv was made in
            "TFEXAM_URL": service.url, "TFEXAM_HOME": str(service.home),
            "TF_USE_LEGACY_KERAS": exported_legacy}


@pytest.mark.parametrize("keras", ["2", "3"])
def test_the_readmes_terminal_recipe_runs_in_the_sessions_keras(service: LiveServer, tmp_path: Path,
                                                                keras: str) -> None:
    recipe = readme_recipe()
    assert any(line.startswith("tfexam start ") for line in recipe), recipe
    assert recipe[-1].startswith("cd ~/") and recipe[-1].endswith("&& python starter.py"), recipe
    env = learner_shell(tmp_path, service, exported_legacy="0" if keras == "2" else "1")
    for line in recipe:
        if line == recipe[-1]:
            # The learner writes their part of solution_model() before running it.
            starter = tmp_path / line.split("&&")[0].split("~/", 1)[1].strip() / "starter.py"
            source = starter.read_text(encoding="utf-8")
            fit = re.search(r"^ +model\.fit\(.*\)\n", source, re.MULTILINE)
            assert fit, source
            starter.write_text(source[:fit.end()] + IDIOMS[keras] + source[fit.end():],
                               encoding="utf-8")
        if line.startswith("tfexam start ") and keras == "3":
            line += " --keras 3"  # the README's own comment on this line
        with spent("training"):
            done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True,
                                  text=True, timeout=600)
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    printed = dict(row.split(" ", 1) for row in done.stdout.splitlines()
                   if row.startswith(("KERAS ", "PREDICT ")))
    # tf_keras (Keras 2) and keras (Keras 3) keep their model classes under their own names.
    assert printed["KERAS"].startswith({"2": "tf_keras.", "3": "keras."}[keras]), done.stdout
    assert re.fullmatch(r"\[\[-?\d+(\.\d+)?(e-?\d+)?\]\]", printed["PREDICT"]), done.stdout
    assert (starter.parent / "mymodel.h5").is_file()


OWN_SCRIPT = """import tensorflow as tf
model = tf.keras.Sequential([tf.keras.Input(shape=[1]), tf.keras.layers.Dense(1)])
print("KERAS", type(model).__module__)
"""


def test_a_learners_own_script_gets_the_sessions_keras_and_doctor_says_so(
        service: LiveServer, tmp_path: Path) -> None:
    """Any script, by `tfexam run` or after sourcing `.tfexam/activate`; and `doctor` in the
    project names the Keras a plain `python` there gets, against the session's."""
    project = tmp_path / "exam2"
    started = service.post("/api/sessions", {"exam": "quick", "workspace": str(project),
                                             "keras": "2"})
    assert started.status_code == 201, started.text
    (project / "Category1" / "own.py").write_text(OWN_SCRIPT, encoding="utf-8")
    env = learner_shell(tmp_path, service, exported_legacy="0")
    del env["TFEXAM_URL"]  # inside the project the CLI finds its service from the project

    def shell(line: str) -> subprocess.CompletedProcess:
        with spent("training"):
            return subprocess.run(["bash", "-c", line], cwd=project, env=env, capture_output=True,
                                  text=True, timeout=600)

    for line in ("tfexam run Category1 own.py", ". .tfexam/activate && cd Category1 && python own.py"):
        done = shell(line)
        assert done.returncode == 0, f"{line}\n{done.stderr[-3000:]}"
        assert "KERAS tf_keras." in done.stdout, (line, done.stdout)
    plain = shell("cd Category1 && python own.py")
    assert "KERAS keras." in plain.stdout, plain.stdout  # the shell's own TF_USE_LEGACY_KERAS=0

    def doctor(line: str) -> str:
        done = shell(line)
        return " ".join(done.stdout.split())  # rows may fold onto a second line

    said = doctor("tfexam doctor")
    assert re.search(r"Keras of plain python warn Keras 3, but this session runs Keras 2 \(.*\): "
                     r"the starters select it themselves; run other scripts with 'tfexam run "
                     r"CategoryN script.py', or after '. .tfexam/activate'", said), said
    assert "Starters select the session's Keras ok 2 of 2 (Keras 2)" in said, said
    activated = doctor(". .tfexam/activate && tfexam doctor")
    assert "Keras of plain python ok Keras 2, as this session" in activated, activated
