"""Hand the browser its one-time address through a file only this user can read.

A browser's command line is visible to every user of the machine (`ps`), so even a one-time code
there could be used by someone quicker than the browser. Instead the browser is given
`file:///…/open-XXXX.html`, a page (mode 0600, in a 0700 folder of the user's cache) that moves on
to the address with the code at once; the file name tells nobody anything. Files older than
CODE_LIFETIME are removed on the next open (their codes are dead by then anyway).
"""

from __future__ import annotations

import html
import os
import secrets
import time
from pathlib import Path

CODE_LIFETIME = 120.0  # the service's (server/api/identity.py CODE_SECONDS)


def handoff_folder() -> Path:
    """The user's own cache folder for these pages, made private if it is not."""
    try:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("tfexam"))
    except ImportError:
        base = Path.home() / ".cache" / "tfexam"
    folder = base / "open"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def handoff_page(address: str, folder: Path | None = None) -> Path:
    """A private page that sends the browser on to `address`; returns its path."""
    folder = folder or handoff_folder()
    now = time.time()
    for old in folder.glob("open-*.html"):
        try:
            if now - old.stat().st_mtime > CODE_LIFETIME:
                old.unlink()
        except OSError:
            pass
    target = html.escape(address, quote=True)
    page = (f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url='
            f'{target}"><title>tfexam</title><p><a href="{target}">Open the exam page</a></p>\n')
    path = folder / f"open-{secrets.token_hex(8)}.html"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(page)
    return path
