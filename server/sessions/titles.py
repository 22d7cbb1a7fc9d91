"""An exam's title as a session shows it: a title that names a length says the session's own.

"Quick exam: two questions in 20 minutes" must not head a 10-minute practice, in the exam page's
heading, the tab's title, status, the report, the history or the CLI. Every one of them reads the
title from the session's status (or the report built from it), which passes it through here.
"""

from __future__ import annotations

import re

LENGTH_IN_TITLE = re.compile(r"\b(\d+(?:\.\d+)?)[ -]minutes?\b")


def length_text(minutes: float) -> str:
    return f"{minutes:g} minute" + ("" if minutes == 1 else "s")


def title_for_length(title: str, minutes: float) -> str:
    """`title` with any length in minutes it names replaced by the session's `minutes`."""
    def session_length(match: re.Match[str]) -> str:
        if float(match.group(1)) == minutes:
            return match.group(0)
        if "-" in match.group(0):  # "a 20-minute drill": an adjective stays one
            return f"{minutes:g}-minute"
        return length_text(minutes)

    return LENGTH_IN_TITLE.sub(session_length, title)
