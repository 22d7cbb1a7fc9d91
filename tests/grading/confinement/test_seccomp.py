"""The seccomp filter's tables against libseccomp's, where libseccomp's `scmp_sys_resolver` is
installed (Debian package `seccomp`; CI installs it): a wrong number would refuse the wrong call
and let the dangerous one through, silently."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from server.grading.confinement import seccomp

ARCHES = {"x86_64": "x86_64", "aarch64": "aarch64"}  # our name: libseccomp's


@pytest.fixture(scope="module")
def resolver() -> str:
    found = shutil.which("scmp_sys_resolver")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("scmp_sys_resolver is missing (Debian package seccomp)")
        pytest.skip("scmp_sys_resolver is not installed (Debian package seccomp)")
    return found


def _libseccomps(resolver: str, machine: str, names: tuple[str, ...] | list[str]
                 ) -> dict[str, int]:
    """The number libseccomp gives each name on `machine`; negative where it knows none."""
    return {name: int(subprocess.run([resolver, "-a", ARCHES[machine], name], capture_output=True,
                                     text=True, check=True).stdout.split()[-1])
            for name in names}


@pytest.mark.parametrize("machine", sorted(ARCHES))
def test_the_syscall_numbers_are_libseccomps(machine: str, resolver: str) -> None:
    _, numbers = seccomp._TABLES[machine]
    names = sorted(numbers)
    known = {name: number for name, number in _libseccomps(resolver, machine, names).items()
             if number >= 0}
    # Only calls newer than this libseccomp are left unchecked (it prints a negative number).
    assert len(known) >= len(names) - 3, sorted(set(names) - set(known))
    wrong = {name: (numbers[name], known[name]) for name in known if numbers[name] != known[name]}
    assert not wrong, wrong
    assert all(number <= seccomp.REVIEWED_UP_TO for number in numbers.values())


@pytest.mark.parametrize("machine", sorted(ARCHES))
def test_every_denied_call_this_architecture_has_is_in_its_table(machine: str,
                                                                 resolver: str) -> None:
    """A denied name missing from an architecture's table would pass there unnoticed."""
    _, numbers = seccomp._TABLES[machine]
    exists = {name for name, number in _libseccomps(resolver, machine, seccomp.DENIED).items()
              if number >= 0}
    assert sorted(exists - set(numbers)) == []
