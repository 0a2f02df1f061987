"""`TaskQueue` on Celery: producers send tasks by name to Redis; `groundwork worker` processes run them."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError

from groundwork.platform.config import CeleryConfig
from groundwork.platform.errors import InvalidRequestError, QueueUnavailableError
from groundwork.platform.tasks.celery_app import QUEUES, ROUTES, max_countdown
from groundwork.platform.tasks.protocols import TaskPayload

logger = logging.getLogger(__name__)


class CeleryTaskQueue:
    """Sends tasks to the broker. `pending()` is the broker's view: messages waiting plus those taken and
    not yet acknowledged (running, or held back by a countdown)."""

    def __init__(self, app: Celery, config: CeleryConfig) -> None:
        self.app = app
        self._config = config

    def submit(self, name: str, payload: TaskPayload, *, countdown: float | None = None) -> None:
        queue = ROUTES.get(name)
        if queue is None:
            raise InvalidRequestError(f"unknown task {name!r}")
        options: dict[str, Any] = {"queue": queue}
        if countdown:
            options["countdown"] = min(countdown, max_countdown(self._config))
        try:
            self.app.send_task(name, kwargs={"payload": dict(payload)}, **options)
        except OperationalError as exc:
            raise QueueUnavailableError(f"the task broker is unreachable: {exc}") from exc

    def depth(self) -> dict[str, int]:
        """Messages waiting per queue, plus `unacked` (taken by a worker, not yet acknowledged)."""
        try:
            with self.app.connection_for_write() as connection:
                client: Any = connection.default_channel.client
                counts = {queue: int(client.llen(queue)) for queue in QUEUES}
                counts["unacked"] = int(client.hlen("unacked"))
        except (OperationalError, OSError) as exc:
            raise QueueUnavailableError(f"the task broker is unreachable: {exc}") from exc
        return counts

    def pending(self) -> int:
        return sum(self.depth().values())

    def wait_idle(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.pending():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.5)
        return True

    def close(self) -> None:
        self.app.close()
