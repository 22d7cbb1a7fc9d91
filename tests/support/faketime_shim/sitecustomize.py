"""Loaded by Python at start-up in a service run under libfaketime (see tests/support/faketime.py).

libfaketime 0.9.10 with FAKETIME_DONT_FAKE_MONOTONIC=1 answers Python's `time.sleep` (which waits
with clock_nanosleep on CLOCK_MONOTONIC) with EINVAL. The sleep here waits on a lock instead, which
libfaketime leaves alone, so the service's few short sleeps behave as they do without it.
"""

from __future__ import annotations

import threading
import time

_real_sleep = time.sleep


def _sleep(seconds: float) -> None:
    try:
        _real_sleep(seconds)
    except OSError:
        threading.Event().wait(seconds)


time.sleep = _sleep
