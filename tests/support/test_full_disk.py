"""The full-disk helper fills a small tmpfs while another writer takes space from it too, as the
service does while a test fills its home."""

from __future__ import annotations

import errno
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.support.full_disk import fill


@pytest.fixture
def small_disk(tmp_path: Path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(disk)],
            capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_disk_filled_while_another_writer_writes_ends_full(small_disk: Path) -> None:
    """The other writer writes 4 MB of the 16 in 64 KB pieces, as a log would, and is writing
    already when the filling starts."""
    writing = threading.Event()

    def another_writer() -> None:
        with open(small_disk / "log", "wb", buffering=0) as log:
            for _ in range(64):
                try:
                    log.write(b"x" * 65536)
                except OSError as error:  # the disk is full for it too: what a service meets
                    assert error.errno == errno.ENOSPC
                writing.set()
                time.sleep(0.001)

    writer = threading.Thread(target=another_writer)
    writer.start()
    try:
        assert writing.wait(timeout=60)
        filler = fill(small_disk, leave_bytes=4096)
    finally:
        writer.join(timeout=60)
    stat = os.statvfs(small_disk)
    assert stat.f_bavail * stat.f_frsize <= 4096 + 65536
    assert filler.stat().st_size > 8 * 1024 * 1024  # the other writer took 4 MB at most
