"""The Celery application both sides share: how grading jobs travel and how they are delivered.

Only a submission's id travels; the model's bytes stay in the snapshot the service wrote under its
home, which the service and every worker reach at the same path (one machine, or a shared volume:
NFS, or a compose volume). The database says which file, for which question, with which held-out
data; a message is small, carries nothing a learner wrote, and can be published again at no cost.

Delivery, chosen from what a lost job costs:
- `task_acks_late` + `task_reject_on_worker_lost`: a message is acknowledged only after its job
  ran; a pool process killed mid-job puts the job back on the queue at once (without the second,
  Celery marks such a job failed for good).
- `worker_prefetch_multiplier = 1` and one process per worker by default: a worker holds one job
  and never sits on others' jobs while it grades (each process has its own warm sandbox).
- Time limits travel with each message (`apply_async(time_limit=…)`) from the service's settings:
  limits set only on a worker are silently overridden by the publisher's.
- RabbitMQ (production): durable queue, persistent messages (Celery's defaults), and publisher
  confirms: a publish returns once the broker has the message (for a persistent message on a
  durable queue: on disk), so the outbox marks a job published only when a broker restart can no
  longer lose it. A worker whose connection drops (its main process killed) has its
  unacknowledged job handed to another worker at once.
- Redis: the same messages, kept across a restart only if Redis persists them (`appendonly yes`,
  `appendfsync always`); an unacknowledged message comes back only after `visibility_timeout`,
  which must be longer than the longest a job can take (its hard time limit) or a job still
  running would be handed to a second worker. It is set here to twice the hard limit; the
  service's lease (see dispatch.py) publishes the job of a vanished worker again long before
  Redis would.
- Fairness, in two parts. The store keeps at most one queued job per learner and question (a
  newer save supersedes a queued one; its message is skipped when it arrives). And each message
  carries a priority from its rank: how many of the same learner's jobs are queued or grading
  ahead of it. A learner's first pending job goes out at the top level, their second one level
  lower, and so on (four levels), so one learner saving every question at once does not make
  another learner's single save wait behind all of them: a worker takes the highest level first
  (first come, first served within a level). One queue with priorities rather than a queue per
  exam: workers are started with their queues named, while exams and sittings come and go, and
  queues taken in turn would not stop one learner's burst within an exam from delaying the
  rest of that exam.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from server.config import Settings
from server.grading.trusted.supervisor import RETRIES  # tries of tfexam's own failures, per job

TASK = "tfexam.grade"
QUEUE = "tfexam-grading"
MARGIN_SECONDS = 30.0
PRIORITY_LEVELS = 4  # a learner's 1st, 2nd, 3rd, and 4th or later pending job


def is_redis(broker_url: str) -> bool:
    return broker_url.startswith(("redis://", "rediss://"))


def priority(broker_url: str, rank: int) -> int:
    """The message priority of a job with `rank` of its learner's jobs ahead of it, in the
    broker's own scale. RabbitMQ (a queue with `x-max-priority`): a higher number goes first.
    Redis: Celery keeps one list per priority step (0, 3, 6, 9) and takes them from 0 up, so a
    lower number goes first."""
    level = min(max(rank, 0), PRIORITY_LEVELS - 1)
    if is_redis(broker_url):
        return level * 3
    return PRIORITY_LEVELS - 1 - level


def hard_limit(settings: Settings) -> float:
    """The most one job may take in a worker: every try at its sandbox limit, plus set-up."""
    return settings.job_time_limit * (RETRIES + 1) + MARGIN_SECONDS


def make_app(settings: Settings) -> Celery:
    if not settings.broker_url:
        raise ValueError("classroom mode needs a broker: set TFEXAM_BROKER_URL "
                         "(amqp://… for RabbitMQ, redis://… for Redis)")
    app = Celery("tfexam", broker=settings.broker_url, set_as_current=False)
    transport: dict[str, Any] = {}
    if is_redis(settings.broker_url):
        transport["visibility_timeout"] = int(hard_limit(settings) * 2)
    else:
        transport["confirm_publish"] = True
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=1,
        task_default_queue=QUEUE,
        # RabbitMQ: the queue is declared with x-max-priority (a queue declared without it by
        # an earlier version must be deleted once: `rabbitmqctl delete_queue tfexam-grading`).
        task_queue_max_priority=PRIORITY_LEVELS - 1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # results go to the store, once, not to a result backend
        task_default_delivery_mode="persistent",
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a restarted broker is waited for, for good
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # A pool process opens the store and probes the sandbox before it says it is up: on a
        # busy machine that takes longer than Celery's 4 s default, which would kill it.
        worker_proc_alive_timeout=120,
    )
    return app


def publish(app: Celery, settings: Settings, submission_id: int, rank: int = 0) -> None:
    """Hand one job to the workers: its key, the limits of this service's settings, and the
    priority of its rank (how many of the same learner's jobs are ahead of it)."""
    limit = hard_limit(settings)
    app.send_task(TASK, args=[submission_id], queue=QUEUE, time_limit=limit,
                  soft_time_limit=limit - MARGIN_SECONDS / 2,
                  priority=priority(settings.broker_url or "", rank))
