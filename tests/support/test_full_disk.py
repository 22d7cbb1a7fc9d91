"""The full-disk helper fills a small tmpfs while another writer takes space from it too, as the
service does while a test fills its home."""

from __future__ import annotations

import errno
import os
import subprocess
import threading
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
    stop = threading.Event()
    full_for_the_writer = threading.Event()

    def another_writer() -> None:  # a service's log, say: small writes, flushed each time
        with open(small_disk / "log", "wb", buffering=0) as log:
            while not stop.is_set():
                try:
                    log.write(b"x" * 65536)
                except OSError as error:
                    assert error.errno == errno.ENOSPC
                    full_for_the_writer.set()

    writer = threading.Thread(target=another_writer)
    writer.start()
    try:
        filler = fill(small_disk, leave_bytes=4096)
    finally:
        stop.set()
        writer.join(timeout=30)
    stat = os.statvfs(small_disk)
    assert stat.f_bavail * stat.f_frsize <= 4096 + 65536
    assert filler.stat().st_size > 1024 * 1024  # it took its share, racing the writer
