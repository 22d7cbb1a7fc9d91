"""Fixtures of the confinement tests that more than one module uses."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def cgroup2(tmp_path: Path):
    """(the cgroup2 mount, a fresh cgroup of the test's in it, the domain controller to use)."""
    from server.grading.confinement.sandbox_cgroup import _mounts

    root = _mounts().get("v2")
    if root is None or os.geteuid() != 0:
        pytest.skip("no cgroup2 hierarchy this test may write (root is needed)")
    available = (root / "cgroup.controllers").read_text().split()
    controller = next((c for c in ("memory", "hugetlb", "io", "rdma", "misc") if c in available),
                      None)
    if controller is None:
        pytest.skip("no domain controller in this machine's cgroup2 hierarchy")
    # One test at a time across pytest-xdist's workers: they share the machine's hierarchy.
    lock = open(Path(tempfile.gettempdir()) / "tfexam-cgroup2-tests.lock", "w")  # noqa: SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)
    enabled_here = controller not in (root / "cgroup.subtree_control").read_text().split()
    if enabled_here:  # the root cgroup may, processes or not: the rule binds the levels below
        try:
            (root / "cgroup.subtree_control").write_text(f"+{controller}")
        except OSError as error:  # a container's cgroup namespace: its root holds processes
            lock.close()
            pytest.skip(f"{controller} cannot be handed down from {root} here ({error})")
    own = root / f"tfexam-test-{os.getpid()}-{tmp_path.name[-12:]}"
    own.mkdir()
    yield root, own, controller
    for folder in sorted(own.rglob("*"), key=lambda p: -len(p.parts)):
        if folder.is_dir():
            for pid in (folder / "cgroup.procs").read_text().split():
                (root / "cgroup.procs").write_text(pid)
            folder.rmdir()
    for pid in (own / "cgroup.procs").read_text().split():
        (root / "cgroup.procs").write_text(pid)
    own.rmdir()
    if enabled_here:
        with contextlib.suppress(OSError):
            (root / "cgroup.subtree_control").write_text(f"-{controller}")
    lock.close()
