"""The record of classroom sittings and the learners who joined them.

A learner's token is kept only as its SHA-256: a copy of the database does not let anyone act as
a learner. A learner is one session of the ordinary kind, so everything the local mode does for a
session (intake, grading, the clock, the report) serves a classroom learner unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.store import Database
from server.store.tables import learners, sittings


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Sitting:
    id: str
    exam_id: str
    title: str
    join_code: str
    opens_at: float
    closes_at: float
    minutes: float
    created_at: float


@dataclass(frozen=True)
class Learner:
    id: str
    sitting_id: str
    name: str
    session_id: str
    joined_at: float


def _sitting(row: Any) -> Sitting | None:
    return Sitting(**dict(row._mapping)) if row is not None else None


def _learner(row: Any) -> Learner | None:
    if row is None:
        return None
    values = dict(row._mapping)
    values.pop("token_sha256", None)
    return Learner(**values)


class Roster:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_sitting(self, sitting: Sitting) -> None:
        with self.db.transaction() as conn:
            conn.execute(sa.insert(sittings).values(**sitting.__dict__))

    def sitting(self, sitting_id: str) -> Sitting | None:
        return _sitting(self.db.query_one(sa.select(sittings).where(sittings.c.id == sitting_id)))

    def sitting_by_code(self, code: str) -> Sitting | None:
        return _sitting(self.db.query_one(sa.select(sittings)
                                          .where(sittings.c.join_code == code)))

    def sittings(self) -> list[Sitting]:
        rows = self.db.query(sa.select(sittings).order_by(sittings.c.created_at.desc()))
        return [s for s in map(_sitting, rows) if s]

    def add_learner(self, learner: Learner, token: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(sa.insert(learners).values(**learner.__dict__,
                                                    token_sha256=token_hash(token)))

    def learner_by_token(self, token: str) -> Learner | None:
        return _learner(self.db.query_one(
            sa.select(learners).where(learners.c.token_sha256 == token_hash(token))))

    def token_digest_of_session(self, session_id: str) -> str | None:
        """The SHA-256 of the token of the learner who sits `session_id` (what `/api/hello`
        proves it knows), or None."""
        row = self.db.query_one(sa.select(learners.c.token_sha256)
                                .where(learners.c.session_id == session_id))
        return str(row[0]) if row is not None else None

    def learner_of_session(self, session_id: str) -> Learner | None:
        return _learner(self.db.query_one(
            sa.select(learners).where(learners.c.session_id == session_id)))

    def learners(self, sitting_id: str) -> list[Learner]:
        rows = self.db.query(sa.select(learners).where(learners.c.sitting_id == sitting_id)
                             .order_by(learners.c.joined_at))
        return [learner for learner in map(_learner, rows) if learner]
