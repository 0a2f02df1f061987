"""The Celery application of scale-out mode: broker, queues, delivery guarantees and retry timing.

Delivery: `acks_late` + `task_reject_on_worker_lost` + prefetch 1, so a message is acknowledged only after
its task ran, and a worker that dies mid-task hands its message back (or Redis redelivers it after the
visibility timeout). Every task may therefore run more than once; the pipeline is idempotent by (tenant,
document, content hash). Every countdown is capped below the visibility timeout (`retry_countdown`): Redis
keeps a delayed message in its unacked set, and one delayed past the timeout would be redelivered early as a
duplicate.
"""

from __future__ import annotations

import random
from typing import Any

from celery import Celery

from groundwork.platform.config import CeleryConfig
from groundwork.platform.tasks import names

INGEST_QUEUE = "ingest"
"""Parse, chunk, embed and commit: runs in parallel on every worker; the index commit inside a task takes
the datastore's write lock (one writer per datastore index at a time)."""
QUEUES = (INGEST_QUEUE,)
ROUTES = {names.PROCESS_BATCH: INGEST_QUEUE}
COUNTDOWN_SHARE = 0.8
"""A countdown never exceeds this share of the visibility timeout (the rest is the task's own run time)."""


def max_countdown(config: CeleryConfig) -> float:
    """The longest countdown any message may carry: below the visibility timeout, whatever the settings."""
    return float(min(config.max_retry_countdown_seconds, COUNTDOWN_SHARE * config.visibility_timeout_seconds))


def retry_countdown(config: CeleryConfig, attempt: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter for retry `attempt` (1-based), capped by `max_countdown`."""
    generator = rng or random.Random()
    base = config.retry_backoff_seconds * 2.0 ** max(0, attempt - 1)
    capped = min(base, max_countdown(config))
    return min(capped * generator.uniform(0.5, 1.0), max_countdown(config))


def celery_settings(config: CeleryConfig) -> dict[str, Any]:
    """The Celery configuration (public so tests can check the guarantees)."""
    return {
        "broker_url": config.broker_url,
        "broker_transport_options": {"visibility_timeout": config.visibility_timeout_seconds},
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_default_queue": INGEST_QUEUE,
        "task_routes": {name: {"queue": queue} for name, queue in ROUTES.items()},
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
    }


def create_celery_app(config: CeleryConfig, *, name: str = "groundwork") -> Celery:
    """A Celery app for producers (the API) and workers; tasks are registered by `groundwork.platform.worker`."""
    app = Celery(name, set_as_current=False)
    app.conf.update(celery_settings(config))
    return app
