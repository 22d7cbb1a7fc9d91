"""The bubblewrap command line follows what the installed bwrap supports (real binaries: the one
installed here, 0.8 or newer, and Debian 11's 0.4.1), and AppArmor's restriction of user
namespaces is read from the kernel's setting (here from a fake /proc tree: this kernel has no
AppArmor, so /proc/sys/kernel/apparmor_restrict_unprivileged_userns does not exist)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server.grading.confinement import bubblewrap
from server.grading.confinement.bubblewrap import Bubblewrap
from tests.support.old_bubblewrap import old_bwrap_dir


def _probed(path: str) -> Bubblewrap:
    found = bubblewrap.probe(path)
    assert isinstance(found, Bubblewrap), found
    return found


def test_the_command_line_has_only_what_the_bwrap_knows(tmp_path: Path) -> None:
    old = _probed(str(old_bwrap_dir() / "bwrap"))
    assert old.version == "bubblewrap 0.4.1"
    assert not old.disables_userns and not old.sizes_tmpfs and old.missing() == []
    argv = old.argv(tmp_path, 2**20, [], 9, ["true"])
    assert "--disable-userns" not in argv and "--size" not in argv
    assert argv[:3] == [old.path, "--unshare-all", "--unshare-user"]
    assert argv[-4:] == ["--seccomp", "9", "--", "true"]
    held_back, warning = old.describe(seccomp_filter=True)
    assert "refused by the seccomp filter: bubblewrap 0.4.1 has no --disable-userns" in held_back
    assert "has no --size" in held_back and warning is None
    held_back, warning = old.describe(seccomp_filter=False)
    assert held_back.startswith("nested user namespaces possible") and "0.8 or newer" in warning

    installed = shutil.which("bwrap")
    if installed is None:
        pytest.skip("no bwrap installed")
    new = _probed(installed)
    if new.disables_userns:  # 0.8 or newer, as Debian 12 installs
        argv = new.argv(tmp_path, 2**20, [], None, ["true"])
        assert argv[3] == "--disable-userns"
        assert argv[argv.index("--tmpfs") - 2:argv.index("--tmpfs")] == ["--size", str(2**20)]
        assert new.describe(seccomp_filter=False) == ("no nested user namespaces, a private /tmp",
                                                       None)


def test_a_missing_bwrap_is_said(tmp_path: Path) -> None:
    assert bubblewrap.probe(str(tmp_path / "bwrap")).startswith("bwrap could not be run")


@pytest.mark.parametrize(("setting", "restricted"), [("1\n", True), ("0\n", False), (None, False)])
def test_apparmors_restriction_is_read_from_the_kernels_setting(
        tmp_path: Path, setting: str | None, restricted: bool) -> None:
    kernel = tmp_path / "proc/sys/kernel"
    kernel.mkdir(parents=True)
    if setting is not None:
        (kernel / "apparmor_restrict_unprivileged_userns").write_text(setting)
    assert bubblewrap.apparmor_restricts_userns(tmp_path / "proc") is restricted
