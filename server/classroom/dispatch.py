"""The service's side of classroom grading: hand each queued submission's key to the broker.

It stands where the local mode's grading supervisor stands (`start`, `notify`, `stop`, `health`),
but grades nothing itself. The submissions table stays the queue of record and works as an outbox:
a submission is stored first and published after, and `published_at` marks what went out. So a
service killed between the two publishes at its next look (PrairieLearn's users lost jobs exactly
there), and whatever a restart of the service, the broker or a worker loses is found again:
- queued and never published: published;
- "grading" longer than the lease (the most a job may take, see broker.hard_limit, plus a margin;
  `TFEXAM_GRADING_LEASE` sets it) since its last claim: its worker vanished. With RabbitMQ the
  broker has usually handed the job on already (a dropped connection returns its unacknowledged
  job); with Redis only the lease does, well before Redis's visibility timeout. Published again,
  and graded again by whichever worker takes it (the store keeps one result per submission, so
  a job that after all finished is stored once);
- queued though published more than a lease ago: its message was lost; published again.
Unlike the local supervisor it does not queue "grading" jobs again at start-up: in classroom mode
workers keep grading while the service restarts.

Each job is published with its rank: how many of the same learner's jobs are queued or grading
ahead of it (see broker.priority), so a burst of one learner's saves waits behind other learners'
first jobs rather than in front of them.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import sqlalchemy as sa

from server.classroom.broker import MARGIN_SECONDS, hard_limit, make_app, publish
from server.clock import Clock
from server.config import Settings
from server.store import Store, StoreUnavailable
from server.store.tables import submissions

log = logging.getLogger(__name__)

LOOK_SECONDS = 1.0  # a look for jobs to publish even without a wake-up


class Dispatcher:
    def __init__(self, settings: Settings, store: Store, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.app = make_app(settings)
        self.lease = settings.grading_lease or hard_limit(settings) + MARGIN_SECONDS
        self.published = 0
        self.error: str | None = None
        self.state = "stopped"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.state = "starting"
        self._thread = threading.Thread(target=self._run, name="dispatcher", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def publish_due(self) -> int:
        """One look: publish every job that is due; returns how many went out."""
        now = self.clock.now()
        sent = 0
        for submission_id in self.store.to_publish(stale_before=now - self.lease):
            publish(self.app, self.settings, submission_id, self.rank(submission_id))
            self.store.mark_published(submission_id, self.clock.now())
            sent += 1
        return sent

    def rank(self, submission_id: int) -> int:
        """How many of the same learner's jobs are queued or grading ahead of this one."""
        s = submissions
        mine = sa.select(s.c.session_id).where(s.c.id == submission_id).scalar_subquery()
        row = self.store.db.query_one(
            sa.select(sa.func.count()).where(s.c.session_id == mine, s.c.id < submission_id,
                                             s.c.state.in_(("queued", "grading"))))
        return int(row[0]) if row else 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.published += self.publish_due()
                self.error = None
                self.state = "ready"
            except StoreUnavailable as error:
                self._failed(f"the store: {error}")
            except Exception as error:  # the broker (kombu's errors vary by transport)
                self._failed(f"the broker: {type(error).__name__}: {error}")
            self._wake.wait(LOOK_SECONDS)
            self._wake.clear()

    def _failed(self, why: str) -> None:
        if self.error != why:
            log.warning("grading jobs cannot be handed to the workers just now (%s); trying "
                        "again", why)
        self.error, self.state = why, "degraded"

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.state = "stopped"

    def health(self) -> dict[str, Any]:
        broker = self.app.connection_for_write().as_uri()  # without its password
        return {"state": self.state, "mode": "classroom", "broker": broker,
                "queued": self.store.queue_length(), "published": self.published,
                "lease_seconds": self.lease, "error": self.error, "store_error": None}
