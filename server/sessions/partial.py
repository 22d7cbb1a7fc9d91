"""A session's folders while it is being created: built aside, renamed in whole, or undone.

Renaming a folder is atomic on one file system, so the learner's project folder and the held-out
data either appear complete or not at all; a creation killed half-way leaves only the partial
folders and its intent record, which start-up removes (`server/sessions/leftovers.py`).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from server.access_token import write_private
from server.workspace.materialise import WorkspaceNotEmpty


@dataclass
class Partial:
    session: str
    project_final: Path
    project_partial: Path
    home_final: Path
    home_partial: Path
    _record: Path | None = None
    _renamed: list[Path] = field(default_factory=list)
    _existed_empty: bool = False

    def begin(self, intents: Path) -> None:
        """Write the intent record first: a kill from here on is cleaned up at start-up."""
        intents.mkdir(parents=True, exist_ok=True)
        self._record = intents / f"{self.session}.json"
        write_private(self._record, json.dumps({
            "session": self.session,
            "project_final": str(self.project_final),
            "project_partial": str(self.project_partial),
            "home_final": str(self.home_final),
            "home_partial": str(self.home_partial),
        }))
        self.project_final.parent.mkdir(parents=True, exist_ok=True)
        self.home_partial.mkdir(parents=True)
        self.project_partial.mkdir()

    def rename_in(self) -> None:
        os.replace(self.home_partial, self.home_final)
        self._renamed.append(self.home_final)
        self._existed_empty = self.project_final.is_dir()
        try:
            # Onto a missing or empty folder only: rename(2) refuses a folder that holds files.
            os.rename(self.project_partial, self.project_final)
        except OSError as why:
            if self.project_final.exists() and any(self.project_final.iterdir()):
                raise WorkspaceNotEmpty(
                    f"The folder {self.project_final} is no longer empty; choose a new or empty "
                    "folder so that nothing in it is overwritten.") from why
            raise
        self._renamed.append(self.project_final)

    def undo(self) -> None:
        """Remove every folder this creation made, partial or renamed in; keep the learner's."""
        for path in (self.project_partial, self.home_partial, *self._renamed):
            shutil.rmtree(path, ignore_errors=True)
        if self._existed_empty and self.project_final in self._renamed:
            self.project_final.mkdir(exist_ok=True)  # it was the learner's empty folder
        self.done()

    def done(self) -> None:
        if self._record is not None:
            self._record.unlink(missing_ok=True)
            self._record = None
