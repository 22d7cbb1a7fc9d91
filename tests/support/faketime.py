"""Run a service whose wall clock a test moves: libfaketime (Debian `faketime`), reading the
offset from a control file at every call.

libfaketime fakes CLOCK_MONOTONIC (and BOOTTIME) too by default, shifting them by the same offset
as the wall. A real change of the system clock (date -s, an NTP step) moves only CLOCK_REALTIME,
so FAKETIME_DONT_FAKE_MONOTONIC=1 moves what a real change moves and nothing else. Under that
setting libfaketime 0.9.10 breaks Python's time.sleep; the shim folder's sitecustomize mends it.
"""

from __future__ import annotations

from pathlib import Path

LIBFAKETIME = next((p for p in (Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
                                Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"),
                                Path("/usr/lib/faketime/libfaketime.so.1")) if p.exists()), None)
SHIM = Path(__file__).resolve().parent / "faketime_shim"


def faked_env(control: Path) -> dict[str, str]:
    """The environment of a process whose wall clock follows `control` ("+0", "-1h", ...)."""
    assert LIBFAKETIME is not None
    return {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(control),
            "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "PYTHONPATH": str(SHIM)}
