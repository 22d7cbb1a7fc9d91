"""Write the lock files in requirements/ from pyproject.toml: every package pinned, with hashes.

The same saved model must get the same score next month, so the grader's TensorFlow, Keras and
tf_keras, the service's libraries and the installer itself are pinned, and `make` installs exactly
these files (`--require-hashes`). An upgrade is a deliberate change: run `make lock` (which keeps
every pin the files already hold: uv prefers the versions in its output file) or
`make lock UPGRADE="--upgrade-package tensorflow"`, then `make test`, whose calibration tests
grade the reference solutions with what the lock now installs (tests/tools/test_lock.py checks
that the environment is the lock's).

The files are universal (one file for Linux, macOS and Windows, Python 3.10 to 3.13; markers
choose per interpreter) and come from PyPI itself (`--no-config`), so a machine's mirror settings
never leak into them; installs still honour those settings (tools/uv_install.py):
- service.txt: what `make serve` installs (the service, the grader, the exam's environment);
- test.txt: that plus the test tools (`make test`), the same versions (service.txt is compiled
  with test.txt as its constraints);
- light.txt: the service without TensorFlow and the unit-test tools, for the non-TensorFlow tests
  on the oldest and newest Python (`make test-pythons`);
- uv.txt: the installer itself, as uv.in names it (a deliberate edit there, then `make lock`).
light.in, the light environment's requirements, is written here from pyproject.toml.

Usage: python tools/lock.py UV [uv pip compile options, e.g. --upgrade-package NAME]
It needs the package index (PyPI); it runs with the standard library only (3.11+: tomllib).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "requirements"
OLDEST_PYTHON = "3.10"
INDEX = "https://pypi.org/simple"
# Left out of the light environment: TensorFlow and what only the grader or learners' scripts
# import (the service never imports them), and the test tools the unit tests do not run.
HEAVY = {"tensorflow", "tf-keras", "h5py", "scipy", "pandas"}
NOT_FOR_UNIT_TESTS = {"playwright", "mypy", "ruff"}
HEADER = "# Written by tools/lock.py (`make lock`); do not edit by hand.\n"


def name_of(requirement: str) -> str:
    """The normalised project name of a requirement string such as `tf_keras>=2.16`."""
    name = requirement.split(";")[0]
    for stop in "<>=!~[ ":
        name = name.split(stop)[0]
    return name.strip().lower().replace("_", "-")


def light_requirements() -> list[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [r for r in project["dependencies"] if name_of(r) not in HEAVY]
    wanted += [r for r in project["optional-dependencies"]["test"]
               if name_of(r) not in NOT_FOR_UNIT_TESTS]
    return wanted


def compile_lock(uv: str, sources: list[str], output: Path, extra: list[str]) -> None:
    command = [uv, "pip", "compile", *sources, "--universal", "--python-version", OLDEST_PYTHON,
               "--generate-hashes", "--only-binary", ":all:", "--no-config", "--index-url", INDEX,
               "--no-python-downloads", "--quiet", "--custom-compile-command", "make lock",
               "-o", str(output), *extra]
    print("   ", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    uv, extra = argv[1], argv[2:]
    FOLDER.mkdir(exist_ok=True)
    test = "requirements/test.txt"
    compile_lock(uv, ["pyproject.toml", "--extra", "test"], ROOT / test, extra)
    compile_lock(uv, ["pyproject.toml", "-c", test], FOLDER / "service.txt", extra)
    (FOLDER / "light.in").write_text(
        HEADER + "# The light environment (make test-pythons): pyproject.toml's dependencies "
        "without TensorFlow.\n" + "\n".join(light_requirements()) + "\n", encoding="utf-8")
    compile_lock(uv, ["requirements/light.in", "-c", test], FOLDER / "light.txt", extra)
    compile_lock(uv, ["requirements/uv.in"], FOLDER / "uv.txt", extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
