"""Which Keras a learner's script gets, seen from the CLI: the session's (from the project's `.env`)
and the one a plain `python` would give (probed without importing TensorFlow).

`tfexam run` runs a script with the project's `.env` applied; `doctor` compares the two. The
`.env` is written by the service for every session (it is what VS Code reads), so the CLI needs no
rule of its own for what a Keras mode means: it applies the file's variables as they are.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ENV_FILE = ".env"
LEGACY = "TF_USE_LEGACY_KERAS"
TRUE_VALUES = ("true", "True", "1")  # what TensorFlow >= 2.16 reads as "use tf_keras"
PROBE_TIMEOUT = 60

# Run by the probed interpreter: versions from package metadata and the variable as it sees it,
# nothing imported that takes time (TensorFlow takes seconds and a gigabyte).
PROBE = """
import importlib.metadata as m, json, os, sys
def version(*names):
    for name in names:
        try:
            return m.version(name)
        except m.PackageNotFoundError:
            pass
print(json.dumps({"python": sys.version.split()[0], "executable": sys.executable,
    "tensorflow": version("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"),
    "keras": version("keras"), "tf_keras": version("tf_keras", "tf-keras"),
    "legacy": os.environ.get("TF_USE_LEGACY_KERAS")}))
"""


def project_env(root: Path) -> dict[str, str]:
    """The variables of the project's `.env` (`NAME=value` lines; comments and blanks skipped)."""
    try:
        text = (root / ENV_FILE).read_text(encoding="utf-8")
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name and not name.startswith("#"):
            found[name.strip()] = value.strip().strip("'\"")
    return found


def session_keras(env: dict[str, str]) -> str | None:
    """The Keras major version the project's variables select ("2" or "3"), if they say."""
    if LEGACY not in env:
        return None
    return "2" if env[LEGACY] in TRUE_VALUES else "3"


@dataclass(frozen=True)
class PlainPython:
    """What a plain `python` run here gives: its path, and the Keras `tf.keras` is there."""

    command: str | None
    keras: str | None  # "2" or "3"; None when tf.keras is unusable there
    detail: str


def plain_python(env: dict[str, str] | None = None) -> PlainPython:
    """Probe the `python` (else `python3`) on PATH with the current environment, as a learner
    typing `python starter.py` in this terminal would run it."""
    command = shutil.which("python") or shutil.which("python3")
    if command is None:
        return PlainPython(None, None, "no python or python3 on PATH")
    try:
        done = subprocess.run([command, "-c", PROBE], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT, env=env, check=False)
        facts = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError) as why:
        return PlainPython(command, None, f"{command} could not be asked ({why})")
    return PlainPython(command, *tf_keras_of(facts))


def tf_keras_of(facts: dict[str, str | None]) -> tuple[str | None, str]:
    """TensorFlow's own rule (2.16 and later): `tf.keras` is tf_keras (Keras 2) when
    TF_USE_LEGACY_KERAS is true, else the installed keras package; before 2.16 it is Keras 2."""
    where = f"{facts.get('executable')} (Python {facts.get('python')})"
    tf, keras, tf_keras = facts.get("tensorflow"), facts.get("keras"), facts.get("tf_keras")
    legacy = facts.get("legacy")
    said = f"{LEGACY}={legacy}" if legacy is not None else f"{LEGACY} unset"
    if not tf:
        return None, f"{where} has no TensorFlow"
    major, minor = (int(part) for part in (tf.split(".") + ["0"])[:2])
    if (major, minor) < (2, 16):
        return "2", f"{where}: TensorFlow {tf}, whose tf.keras is Keras 2"
    if legacy in TRUE_VALUES:
        if not tf_keras:
            return None, f"{where}: {said} but tf_keras is not installed there"
        return "2", f"{where}: TensorFlow {tf}, {said}: tf.keras is tf_keras {tf_keras} (Keras 2)"
    if not keras:
        return None, f"{where}: TensorFlow {tf}, {said}, and no keras package"
    return keras.split(".")[0], f"{where}: TensorFlow {tf}, {said}: tf.keras is Keras {keras}"
