"""One service per home folder.

Two services on one home would both watch every project and both grade every save. The first
takes an exclusive lock on `<home>/service.lock` and writes its address there; a second one
finds the lock held, reads the address and stops with a sentence naming it. The system drops the
lock when its holder dies (even by kill -9), so a lock left by a killed service is simply taken
over: there is no pid to check and no stale state to clean.

The lock is `fcntl.flock` on Linux and macOS, and `msvcrt.locking` of one byte far past the
address on Windows (a locked range cannot be read there, so the address stays outside it). Each
module is imported only on its own system: the service must import on all three.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

LOCK_FILE = "service.lock"
WINDOWS = sys.platform == "win32"
WINDOWS_LOCK_OFFSET = 2**30  # the byte locked on Windows: beyond anything the file holds


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock without waiting; False when another process holds it."""
    if WINDOWS:
        import msvcrt

        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if WINDOWS:
        import msvcrt

        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        os.lseek(fd, 0, os.SEEK_SET)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


class AlreadyRunning(Exception):
    """Another service holds this home; the message names its address."""


class InstanceLock:
    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_FILE
        self._fd: int | None = None

    def _holder(self, fd: int) -> dict[str, object]:
        # The holder writes its address right after locking; give it a moment to do so.
        for _ in range(20):
            os.lseek(fd, 0, os.SEEK_SET)
            raw = os.read(fd, 4096)
            if raw.strip():
                try:
                    return dict(json.loads(raw))
                except ValueError:
                    pass
            time.sleep(0.05)
        return {}

    def acquire(self, address: str) -> None:
        """Hold the home for this process, or raise AlreadyRunning naming the running service."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # close-on-exec: never inherited
        if not _try_lock(fd):
            holder = self._holder(fd)
            os.close(fd)
            where = holder.get("url") or "an address it has not written yet"
            pid = f" (process {holder['pid']})" if holder.get("pid") else ""
            raise AlreadyRunning(
                f"A tfexam service is already running for {self.path.parent} at {where}{pid}: "
                "open that address, or stop that service before starting another one here."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"url": address, "pid": os.getpid()}).encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None
