"""`groundwork worker`: a Celery worker that runs the ingestion pipeline (scale-out mode).

The Celery task is thin: it looks up this process's handlers (`groundwork.ingestion.tasks.make_handlers`,
the same ones the in-process queue runs), calls the one for its name, and turns an error that escaped the
handler into a retry with exponential backoff and jitter. Per-document outcomes (retry with backoff,
dead-letter after `ingestion.max_attempts`) are recorded by the pipeline in the metadata store.

Each worker child process builds its own services (embedding model, metadata pool, index manager in
shared mode) when it starts, runs a reaper thread that re-enqueues documents left in flight past
`celery.stale_after_seconds`, and, on Linux, asks the kernel to kill it if the main process dies, so a killed
worker leaves no orphan holding a message.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init, worker_process_shutdown, worker_shutting_down

from groundwork.platform.config import Settings
from groundwork.platform.services import Services, build_services
from groundwork.platform.tasks import names
from groundwork.platform.tasks.celery_app import INGEST_QUEUE, create_celery_app, retry_countdown
from groundwork.platform.tasks.celery_queue import CeleryTaskQueue

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class _ProcessState:
    """What one worker child process holds (built after the fork)."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def get(self, settings: Settings) -> Services:
        with self.lock:
            if self.services is None:
                self.services = build_services(settings, owner="groundwork worker", recover=False)
            return self.services


def _die_with_parent() -> None:
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError as exc:
        logger.warning("could not tie the worker child to its parent: %s", exc)


def _reap_forever(settings: Settings, state: _ProcessState) -> None:
    """Re-enqueue documents whose message was lost. A `queued` document is stale after
    `stale_after_seconds` if no message in the broker names it; one that is named is waiting its turn
    and is left alone (re-enqueueing it would only add duplicate work). When the broker's messages cannot
    be listed (too many), a `queued` document counts as stale only after the visibility timeout. Either way
    no document waits longer than the visibility timeout + 5 minutes without a retry."""
    config = settings.celery
    while not state.stop.wait(config.reaper_interval_seconds):
        services = state.services
        if services is None or not isinstance(services.queue, CeleryTaskQueue):
            continue
        try:
            named = services.queue.queued_document_ids()
            queued_after = (
                config.stale_after_seconds
                if named is not None
                else max(config.stale_after_seconds, config.visibility_timeout_seconds)
            )
            services.documents.requeue_stale(
                config.stale_after_seconds, queued_older_than_seconds=queued_after, has_message=named or ()
            )
        except Exception:
            logger.exception("reaper pass failed; trying again in %.0fs", config.reaper_interval_seconds)


def _bound_shutdown(grace: float) -> None:
    """Celery's warm shutdown (SIGTERM) waits for the running task however long it takes; after `grace`
    seconds less a margin, turn it into a cold shutdown (SIGQUIT): children are terminated and their messages,
    acknowledged only after a task ran (`acks_late`), go back to the broker for another worker."""

    def on_shutting_down(how: str | None = None, **_: Any) -> None:
        if how == "Cold":
            return
        delay = max(1.0, grace - 3.0)
        logger.info("warm shutdown: the running task has %.0fs before it is handed back", delay)
        timer = threading.Timer(delay, os.kill, args=(os.getpid(), signal.SIGQUIT))
        timer.daemon = True
        timer.start()

    worker_shutting_down.connect(on_shutting_down, weak=False)


def create_worker_app(settings: Settings) -> Celery:
    """The worker's Celery app with the ingestion task registered and per-process set-up wired."""
    app = create_celery_app(settings.celery)
    app.conf.worker_proc_alive_timeout = 300.0  # a child loads the embedding model before it reports up
    state = _ProcessState()

    def init_process(**_: Any) -> None:
        _die_with_parent()
        state.get(settings)
        if settings.celery.metrics_port:
            from billiard.process import current_process
            from prometheus_client import start_http_server

            index = int(getattr(current_process(), "index", 0) or 0)
            start_http_server(settings.celery.metrics_port + index, registry=state.get(settings).metrics.registry)
        threading.Thread(target=_reap_forever, args=(settings, state), name="groundwork-reaper", daemon=True).start()
        logger.info("worker process ready (model loaded, reaper every %.0fs)", settings.celery.reaper_interval_seconds)

    def shutdown_process(**_: Any) -> None:
        state.stop.set()
        if state.services is not None:
            state.services.close()

    worker_process_init.connect(init_process, weak=False)
    worker_process_shutdown.connect(shutdown_process, weak=False)

    @app.task(name=names.PROCESS_BATCH, bind=True, max_retries=settings.celery.task_max_retries)  # type: ignore[untyped-decorator]
    def process_batch(self: Task, payload: dict[str, Any]) -> None:
        services = state.get(settings)
        handler = services.handlers[names.PROCESS_BATCH]
        started = time.perf_counter()
        failed = True
        try:
            handler(payload)
            failed = False
        except Exception as exc:
            retries = int(self.request.retries)
            countdown = retry_countdown(settings.celery, retries + 1)
            logger.warning("task %s failed (retry %d in %.1fs): %s", names.PROCESS_BATCH, retries + 1, countdown, exc)
            raise self.retry(exc=exc, countdown=countdown) from exc
        finally:
            services.metrics.observe(names.PROCESS_BATCH, time.perf_counter() - started, failed=failed)

    return app


def run_worker(
    settings: Settings,
    *,
    concurrency: int | None = None,
    queues: list[str] | None = None,
    hostname: str | None = None,
    loglevel: str | None = None,
) -> None:
    """Run a worker in this process until it is stopped (SIGTERM: finish the running task, or hand it back
    after `api.shutdown_grace_seconds`, then exit)."""
    app = create_worker_app(settings)
    _bound_shutdown(settings.api.shutdown_grace_seconds)
    argv = [
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency or settings.celery.concurrency}",
        f"--queues={','.join(queues or [INGEST_QUEUE])}",
        f"--loglevel={loglevel or settings.log_level}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv=argv)
