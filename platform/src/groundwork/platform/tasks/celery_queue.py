"""`TaskQueue` on Celery: producers send tasks by name to Redis; `groundwork worker` processes run them."""

from __future__ import annotations

import base64
import json
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

    def queued_document_ids(self, limit: int = 100_000) -> set[str] | None:
        """Ids of the documents that some message in the broker names (waiting, or taken and not yet
        acknowledged, delayed retries included); None when the broker holds more than `limit` messages or
        cannot be read. The reaper re-enqueues only `queued` documents that no message names."""
        try:
            with self.app.connection_for_write() as connection:
                client: Any = connection.default_channel.client
                if sum(int(client.llen(q)) for q in QUEUES) + int(client.hlen("unacked")) > limit:
                    return None
                raw = [m for q in QUEUES for m in client.lrange(q, 0, -1)]
                raw += [json.dumps(json.loads(v)[0]).encode() for v in client.hvals("unacked")]
        except (OperationalError, OSError, ValueError, IndexError) as exc:
            logger.warning("cannot list the broker's messages: %s", exc)
            return None
        ids: set[str] = set()
        for item in raw:
            try:
                message = json.loads(item)
                body = message["body"]
                if message.get("properties", {}).get("body_encoding") == "base64":
                    body = base64.b64decode(body)
                payload = json.loads(body)[1].get("payload", {})
                ids.update(str(i) for i in payload.get("document_ids", []))
            except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                continue  # not one of ours
        return ids

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
