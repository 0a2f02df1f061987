"""Work done after Slack got its acknowledgement: answers run here, in tasks this object keeps (so none is
garbage-collected mid-flight), at most `max_pending` at once, and are awaited or cancelled on shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class BackgroundJobs:
    def __init__(self, max_pending: int) -> None:
        self._max = max_pending
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def submit(self, job: Coroutine[Any, Any, None], *, name: str, essential: bool = True) -> bool:
        """Start `job`; False (and `job` closed unstarted) when closed or, for an `essential` job, when
        `max_pending` jobs are running. Light jobs (`essential=False`, e.g. "busy" replies) always start."""
        if self._closed or (essential and len(self._tasks) >= self._max):
            job.close()
            return False
        task = asyncio.get_running_loop().create_task(self._run(job, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    @staticmethod
    async def _run(job: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await job
        except asyncio.CancelledError:
            logger.info("Slack job %s cancelled at shutdown", name)
            raise
        except Exception:
            logger.exception("Slack job %s failed", name)

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no job runs (True), or `timeout` seconds (False)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._tasks:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True

    async def close(self, grace_seconds: float) -> None:
        """Refuse new jobs, give running ones `grace_seconds`, then cancel the rest."""
        self._closed = True
        if not await self.wait_idle(grace_seconds):
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
