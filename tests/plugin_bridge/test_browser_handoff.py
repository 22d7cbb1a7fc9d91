"""The browser's one-time address goes through a file only this user can read."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from plugin_bridge.browser_handoff import CODE_LIFETIME, handoff_page


def test_the_page_is_private_escaped_and_old_ones_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o700)
    old = folder / "open-0000.html"
    old.write_text("stale")
    os.utime(old, (time.time() - CODE_LIFETIME - 5,) * 2)
    page = handoff_page('http://127.0.0.1:8765/sessions/s?code=a"b<c', folder)
    assert not old.exists()
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    text = page.read_text()
    assert 'content="0;url=http://127.0.0.1:8765/sessions/s?code=a&quot;b&lt;c"' in text
    assert page.name.startswith("open-") and "code" not in page.name
    assert handoff_page("http://x/", folder) != page  # a new name each time
