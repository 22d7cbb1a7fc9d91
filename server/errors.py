"""One error hierarchy for what the learner (or the machine) can cause, mapped to HTTP once.

Every error a request can meet that is not a bug derives from `TfexamError`, carries its HTTP
status, and its message is the one sentence the learner reads (Starlette's HTTPException idea).
`server/api/errors.py` has a single handler for the whole family.
"""

from __future__ import annotations


class TfexamError(Exception):
    """A refusal or failure with a sentence that says what to do; `status` is its HTTP status."""

    status = 400
