"""All or nothing: what a session creation cut short leaves behind is removed at start-up.

A session is built beside its final place (the project in a hidden `.NAME.tfexam-ID.partial`
folder next to the chosen one, the held-out data in `sessions/.ID.partial`) and renamed in only
when whole. Before building, the creation writes an intent record under `<home>/creating/`
naming both partial folders; it is removed once the session is stored. A record found at
start-up means the creation was killed: its partial folders, and final ones not in the store,
are removed. Snapshot folders that no submission refers to (a copy cut short) go too.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from server.config import Settings
from server.store import Store

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"


def intents_dir(settings: Settings) -> Path:
    return settings.home / "creating"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def clean_leftovers(settings: Settings, store: Store) -> list[str]:
    """Remove what interrupted creations and copies left; returns what was removed."""
    removed: list[str] = []
    folder = intents_dir(settings)
    # Private files are written to a temporary name and renamed: a kill can leave the temporary.
    for temporary in [*folder.glob(".*.tmp"), *settings.home.glob(".token.*.tmp")]:
        temporary.unlink(missing_ok=True)
        removed.append(str(temporary))
    for record in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            intent = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record.unlink(missing_ok=True)
            continue
        if store.session(str(intent.get("session"))) is None:
            for key in ("project_partial", "home_partial", "home_final"):
                if intent.get(key) and Path(intent[key]).exists():
                    _remove(Path(intent[key]))
                    removed.append(intent[key])
            final = Path(intent.get("project_final", ""))
            # The chosen folder is removed only if it is what the creation renamed in (its marker
            # names this session); a learner's own folder is never touched.
            marker = final / ".tfexam" / "session.json"
            try:
                ours = json.loads(marker.read_text(encoding="utf-8")).get("session") == intent[
                    "session"]
            except (OSError, ValueError):
                ours = False
            if ours:
                _remove(final)
                removed.append(str(final))
        record.unlink(missing_ok=True)
    sessions = settings.sessions_dir
    if sessions.is_dir():
        for partial in sessions.glob(f".*{PARTIAL_SUFFIX}"):
            _remove(partial)
            removed.append(str(partial))
        referenced = {Path(s).parent for s in _snapshot_paths(store)}
        for snapshot in sessions.glob("*/snapshots/*"):
            if snapshot not in referenced:
                _remove(snapshot)
                removed.append(str(snapshot))
    if removed:
        log.info("removed what interrupted work left behind: %s", removed)
    return removed


def _snapshot_paths(store: Store) -> list[str]:
    return store.snapshot_paths()
