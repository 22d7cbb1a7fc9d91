"""The lock files: every package pinned with hashes, in agreement with pyproject.toml and with each
other, and the environment the tests run in is the lock's, so the calibration tests grade with
exactly what `make` installs (an upgrade is a change of the lock, checked by the whole suite)."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+?)(?:\s*;\s*(.+?))?\s*\\?$")


@dataclass
class Pin:
    name: str
    version: str
    marker: str | None
    hashes: list[str] = field(default_factory=list)

    def applies(self) -> bool:
        return self.marker is None or Marker(self.marker).evaluate()


def pins(lock: str) -> list[Pin]:
    found: list[Pin] = []
    for line in (LOCKS / lock).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found.append(Pin(canonicalize_name(match[1]), match[2], match[3]))
        elif line.strip().startswith("--hash=sha256:"):
            found[-1].hashes.append(line.strip().split(":", 1)[1].rstrip(" \\"))
        else:
            assert not line or line.startswith((" ", "#")), f"{lock}: unexpected line {line!r}"
    return found


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.mark.parametrize("lock", ["service.txt", "test.txt", "light.txt", "uv.txt"])
def test_every_package_is_pinned_with_its_hashes(lock: str) -> None:
    locked = pins(lock)
    assert locked, lock
    for pin in locked:
        assert pin.hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in pin.hashes), pin


@pytest.mark.parametrize(("lock", "extras"), [("service.txt", ()), ("test.txt", ("test",))])
def test_the_lock_satisfies_pyproject_for_every_python(lock: str, extras: tuple[str, ...]) -> None:
    """A dependency added or tightened in pyproject.toml without `make lock` fails here."""
    project = pyproject()
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [Requirement(r) for extra in extras for r in project["optional-dependencies"][extra]]
    locked = pins(lock)
    for minor in (10, 11, 12, 13):
        for requirement in wanted:
            if requirement.marker and not requirement.marker.evaluate(where(minor)):
                continue
            versions = [p.version for p in locked if p.name == canonicalize_name(requirement.name)
                        and (p.marker is None or Marker(p.marker).evaluate(where(minor)))]
            assert len(versions) == 1, (lock, minor, requirement, versions)
            assert requirement.specifier.contains(versions[0], prereleases=True), (
                f"{lock} pins {requirement.name}=={versions[0]} on 3.{minor}, outside "
                f"pyproject's {requirement}: run make lock")


def where(minor: int) -> dict[str, str]:
    """Marker values of Linux with Python 3.<minor>."""
    return {"python_version": f"3.{minor}", "python_full_version": f"3.{minor}.0",
            "sys_platform": "linux", "platform_system": "Linux",
            "platform_python_implementation": "CPython"}


def versions_on(lock: list[Pin], minor: int) -> dict[str, str]:
    return {p.name: p.version for p in lock
            if p.marker is None or Marker(p.marker).evaluate(where(minor))}


def test_the_service_and_light_locks_are_the_test_locks_versions() -> None:
    """On every Python, a package in the service or light lock has the test lock's version (the
    markers may differ: a package only one Python's versions need there)."""
    test = pins("test.txt")
    for lock in ("service.txt", "light.txt"):
        for minor in (10, 11, 12, 13):
            expected = versions_on(test, minor)
            for name, version in versions_on(pins(lock), minor).items():
                assert expected.get(name) == version, (lock, minor, name, version)
    names = {p.name for p in pins("service.txt")}
    assert {"tensorflow", "tf-keras", "keras", "pandas", "urllib3", "scipy", "numpy", "pillow"} <= names
    assert not names & {"pytest", "playwright", "ruff", "mypy", "pytest-xdist"}, "test tools leak"
    assert not {p.name for p in pins("light.txt")} & {"tensorflow", "tf-keras", "keras", "h5py"}


def test_this_environment_is_the_locks() -> None:
    """What the suite (and its calibration of the reference solutions) runs with is what `make`
    installs: every locked package that is installed here has the locked version."""
    differing = []
    for pin in pins("test.txt"):
        if not pin.applies():
            continue
        try:
            installed = importlib.metadata.version(pin.name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if canonicalize_name(installed) != canonicalize_name(pin.version):
            differing.append(f"{pin.name} {installed} (lock: {pin.version})")
    assert not differing, f"not the lock's versions: {differing}; run make (it installs the lock)"
    assert importlib.metadata.version("pytest") == next(
        p.version for p in pins("test.txt") if p.name == "pytest" and p.applies())


def test_the_makefile_installs_from_the_locks() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "LOCK := requirements/service.txt" in makefile
    assert re.search(r"uv_install\.py .*--no-deps -r \$\(LOCK\) -e \.", makefile)
    assert re.search(r"uv_install\.py .*--no-deps -r \$\(TEST_LOCK\)", makefile)
    assert "--require-hashes -r requirements/uv.txt" in makefile
    assert '".[test]"' not in makefile, "the learner's install must not carry the test tools"
