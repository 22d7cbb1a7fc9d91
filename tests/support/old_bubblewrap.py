"""Where the tests find an older bubblewrap (Debian 11's 0.4.1, without --disable-userns and
--size): `.ci/old-bubblewrap.sh` fetches and unpacks it into a cache, and CI exports its path as
TFEXAM_OLD_BWRAP. Missing, the tests that need it fail under CI and are skipped elsewhere with the
command that brings it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CACHED = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / (
    "tfexam-ci/bubblewrap-bullseye/usr/bin/bwrap")


def old_bwrap_dir() -> Path:
    """A folder holding only the older `bwrap`, to put first on PATH."""
    found = Path(os.environ.get("TFEXAM_OLD_BWRAP") or CACHED)
    if not os.access(found, os.X_OK):
        why = f"no older bubblewrap at {found}: run .ci/old-bubblewrap.sh"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return found.parent
