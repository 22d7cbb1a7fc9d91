"""The bubblewrap command line, built from what the installed `bwrap` says it supports.

Why probe: bubblewrap grew options over the years (`--size` for a tmpfs in 0.7, `--disable-userns`
in 0.8), and a bwrap that meets an option it does not know refuses to start. Passing a newer option
unconditionally made every grade on Debian 11, Ubuntu 22.04 or RHEL 9 (bubblewrap 0.4–0.6) drop
silently to the fallback. So `probe()` reads `bwrap --version` and the option list of
`bwrap --help` once, `argv()` uses what is there, and `describe()` says what differs:
- no `--disable-userns`: the seccomp filter refuses new user namespaces instead (it refuses
  `unshare` and `setns`, `clone` with any namespace flag, and `clone3`, whose flags it cannot read);
  without a filter (an unknown architecture) a model could nest user namespaces, and the isolation
  says so.
- no `--size`: the private /tmp is a tmpfs of the kernel's default size (half the memory); what a
  model writes there counts toward its memory limit either way (sampled, or charged to its cgroup).

Also here: why bubblewrap may be refused where it is installed. Ubuntu 24.04 confines every
unprivileged user namespace with AppArmor (`kernel.apparmor_restrict_unprivileged_userns = 1`), so
bwrap run by an ordinary user cannot set up its sandbox; `userns_restriction_advice()` gives the
exact fix for the isolation's warning.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")  # where the kernel's settings are read; tests point it at a fake tree
SANDBOX_UID = 65534
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
             "/etc/localtime")
TOP_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Without any of these the sandbox cannot be built as described: such a bwrap is not used.
REQUIRED = ("--unshare-all", "--unshare-user", "--uid", "--gid", "--die-with-parent",
            "--new-session", "--cap-drop", "--ro-bind", "--symlink", "--proc", "--dev",
            "--tmpfs", "--chdir", "--seccomp")
APPARMOR_SETTING = "kernel.apparmor_restrict_unprivileged_userns"


@dataclass(frozen=True)
class Bubblewrap:
    """One installed bwrap: where it is, its version, and the options its `--help` lists."""

    path: str
    version: str                  # as `bwrap --version` prints it, e.g. "bubblewrap 0.4.1"
    options: frozenset[str]

    @property
    def disables_userns(self) -> bool:
        return "--disable-userns" in self.options

    @property
    def sizes_tmpfs(self) -> bool:
        return "--size" in self.options

    def missing(self) -> list[str]:
        return [option for option in REQUIRED if option not in self.options]

    def argv(self, job_dir: Path, tmp_bytes: int, read_only_roots: list[str],
             seccomp_fd: int | None, command: list[str]) -> list[str]:
        """The command that runs `command` in the sandbox (see sandbox.py for what it is)."""
        argv = [self.path, "--unshare-all", "--unshare-user"]
        if self.disables_userns:
            argv.append("--disable-userns")
        argv += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
                 "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                 "--ro-bind", "/usr", "/usr"]
        for top in TOP_DIRS:
            if os.path.islink(top):
                argv += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                argv += ["--ro-bind", top, top]
        for path in ETC_FILES:
            if os.path.exists(path):
                argv += ["--ro-bind", path, path]
        argv += ["--proc", "/proc", "--dev", "/dev"]
        if self.sizes_tmpfs:
            argv += ["--size", str(tmp_bytes)]
        argv += ["--tmpfs", "/tmp"]
        for root in read_only_roots:  # after the tmpfs, so a root under /tmp is not hidden
            argv += ["--ro-bind", root, root]
        argv += ["--ro-bind", str(job_dir), "/job", "--chdir", "/tmp"]
        if seccomp_fd is not None:
            argv += ["--seccomp", str(seccomp_fd)]
        return [*argv, "--", *command]

    def describe(self, seccomp_filter: bool) -> tuple[str, str | None]:
        """What this bwrap's sandbox holds back from a model, and a warning where it holds back
        less than bubblewrap 0.8 does (None when nothing is missing)."""
        if self.disables_userns:
            userns = "no nested user namespaces"
            warning = None
        elif seccomp_filter:
            userns = (f"no nested user namespaces (refused by the seccomp filter: {self.version} "
                      "has no --disable-userns)")
            warning = None
        else:
            userns = "nested user namespaces possible"
            warning = (f"{self.version} has no --disable-userns and this architecture has no "
                       "seccomp filter, so a model can create user namespaces inside its sandbox "
                       "(and reach kernel code that only a namespace's root may use); install "
                       "bubblewrap 0.8 or newer")
        tmp = ("a private /tmp" if self.sizes_tmpfs else
               f"a private /tmp (of the kernel's default size: {self.version} has no --size; "
               "what is written there counts toward the memory limit)")
        return f"{userns}, {tmp}", warning


_OPTION = re.compile(r"^\s+(--[a-z0-9][a-z0-9-]*)", re.MULTILINE)


def probe(path: str | None = None) -> Bubblewrap | str:
    """The bwrap on PATH (or at `path`), or why there is none that can be used."""
    found = path or shutil.which("bwrap")
    if found is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        version = subprocess.run([found, "--version"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
        helped = subprocess.run([found, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as error:
        return f"bwrap could not be run ({error})"
    found_bwrap = Bubblewrap(found, version or "bubblewrap",
                             frozenset(_OPTION.findall(helped.stdout + helped.stderr)))
    missing = found_bwrap.missing()
    if missing:
        return f"{found_bwrap.version} at {found} lacks {', '.join(missing)}"
    return found_bwrap


def apparmor_restricts_userns(proc: Path | None = None) -> bool:
    """Whether AppArmor confines unprivileged user namespaces here (Ubuntu 24.04 and later)."""
    setting = (proc or PROC) / "sys/kernel/apparmor_restrict_unprivileged_userns"
    try:
        return setting.read_text().strip() not in ("", "0")
    except OSError:
        return False


def userns_restriction_advice(bwrap_path: str, proc: Path | None = None) -> str | None:
    """The cause and the exact fix, when AppArmor's restriction is what stops an ordinary user's
    bwrap (root is not restricted); None otherwise."""
    if os.geteuid() == 0 or not apparmor_restricts_userns(proc):
        return None
    return (f"AppArmor restricts unprivileged user namespaces on this machine ({APPARMOR_SETTING} "
            f"= 1, as on Ubuntu 24.04), and bubblewrap needs them (to allow them for bwrap alone, "
            f"write the profile `abi <abi/4.0>, include <tunables/global> profile bwrap "
            f"{bwrap_path} flags=(unconfined) {{ userns, }}` (one rule a line) to "
            f"/etc/apparmor.d/bwrap and load it with `sudo apparmor_parser -r "
            f"/etc/apparmor.d/bwrap`; or lift the restriction for every program with "
            f"`sudo sysctl -w {APPARMOR_SETTING}=0`)")
