"""The instance lock on Windows, whose `msvcrt` does not exist here: the platform is FAKED.

`msvcrt.locking(fd, mode, n)` locks n bytes from the file's current position and raises OSError
when another holder has them; Windows then refuses reads of that range too. The stand-in below
gives the same answers with Linux's open-file-description record locks (which, like Windows'
locks, conflict between two descriptors of one process), and refuses a lock that covers the
address the holder wrote, as Windows would make that address unreadable to a second service. So
this checks tfexam's side of the Windows path (which byte is locked, where the address is
written, the release), not Windows itself.
"""

from __future__ import annotations

import fcntl
import os
import struct
import sys
import types
from pathlib import Path

import pytest

from server import instance_lock
from server.instance_lock import AlreadyRunning, InstanceLock


def _fake_msvcrt() -> types.ModuleType:
    module = types.ModuleType("msvcrt")
    module.LK_NBLCK, module.LK_UNLCK = 2, 0  # type: ignore[attr-defined]

    def locking(fd: int, mode: int, nbytes: int) -> None:
        start = os.lseek(fd, 0, os.SEEK_CUR)
        if mode == module.LK_NBLCK and start < os.fstat(fd).st_size:  # type: ignore[attr-defined]
            raise AssertionError("a locked range over the address: Windows would hide it")
        kind = fcntl.F_WRLCK if mode == module.LK_NBLCK else fcntl.F_UNLCK  # type: ignore[attr-defined]
        request = struct.pack("hhqqi4x", kind, os.SEEK_SET, start, nbytes, 0)
        try:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, request)
        except OSError as error:
            raise PermissionError(13, "Permission denied") from error

    module.locking = locking  # type: ignore[attr-defined]
    return module


@pytest.fixture
def faked_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instance_lock, "WINDOWS", True)
    monkeypatch.setitem(sys.modules, "msvcrt", _fake_msvcrt())
    monkeypatch.setitem(sys.modules, "fcntl", None)  # the Windows path must not need it


def test_windows_path_names_the_holder_and_is_free_again_once_released(
        tmp_path: Path, faked_windows: None) -> None:
    first = InstanceLock(tmp_path)
    first.acquire("http://127.0.0.1:1111/")
    with pytest.raises(AlreadyRunning, match=r"already running .* at http://127.0.0.1:1111/"):
        InstanceLock(tmp_path).acquire("http://127.0.0.1:2222/")
    first.release()
    second = InstanceLock(tmp_path)
    second.acquire("http://127.0.0.1:2222/")
    assert b"2222" in (tmp_path / "service.lock").read_bytes()
    second.release()

