"""Prometheus metrics of ingestion: task duration and failures (recorded where tasks run), queue depth and
documents per state (read from the broker and the metadata store when scraped).

Each process has its own registry (built by the composition root, never at import): the API serves it at
`/metrics`; each Celery worker child serves its own on `celery.metrics_port` + its index.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from groundwork.platform.tasks.protocols import TaskHandler, TaskPayload

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class IngestionMetrics:
    """One process's ingestion metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.task_duration = Histogram(
            "groundwork_ingestion_task_duration_seconds",
            "Wall time of ingestion tasks run by this process",
            ["task"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.task_failures = Counter(
            "groundwork_ingestion_task_failures_total",
            "Ingestion tasks that raised in this process (each is retried or dead-letters its documents)",
            ["task"],
            registry=self.registry,
        )

    def observe(self, task: str, seconds: float, *, failed: bool) -> None:
        self.task_duration.labels(task=task).observe(seconds)
        if failed:
            self.task_failures.labels(task=task).inc()

    def instrument(self, handlers: Mapping[str, TaskHandler]) -> Mapping[str, TaskHandler]:
        """A live view of `handlers` whose handlers record duration and failures."""
        return _Instrumented(handlers, self)

    def add_collector(
        self,
        documents_by_state: Callable[[], Mapping[str, int]],
        queue_depth: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        """Gauges read at scrape time: documents per state and (scale-out) messages per queue."""
        self.registry.register(_StateCollector(documents_by_state, queue_depth))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Instrumented(Mapping[str, TaskHandler]):
    def __init__(self, handlers: Mapping[str, TaskHandler], metrics: IngestionMetrics) -> None:
        self._handlers = handlers
        self._metrics = metrics

    def __getitem__(self, name: str) -> TaskHandler:
        handler = self._handlers[name]

        def timed(payload: TaskPayload) -> None:
            started = time.perf_counter()
            failed = True
            try:
                handler(payload)
                failed = False
            finally:
                self._metrics.observe(name, time.perf_counter() - started, failed=failed)

        return timed

    def __iter__(self) -> Iterator[str]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)


class _StateCollector(Collector):
    def __init__(
        self,
        documents_by_state: Callable[[], Mapping[str, int]],
        queue_depth: Callable[[], Mapping[str, int]] | None,
    ) -> None:
        self._documents = documents_by_state
        self._queue = queue_depth

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        documents = GaugeMetricFamily(
            "groundwork_ingestion_documents", "Documents per ingestion state (all datastores)", labels=["state"]
        )
        for state, count in sorted(self._documents().items()):
            documents.add_metric([state], count)
        yield documents
        if self._queue is not None:
            depth = GaugeMetricFamily(
                "groundwork_ingestion_queue_depth",
                "Messages in the broker per queue (`unacked`: taken by a worker, not yet acknowledged)",
                labels=["queue"],
            )
            try:
                counts = self._queue()
            except Exception as exc:  # noqa: BLE001 - a scrape reports what it can; the broker may be down
                logger.warning("queue depth unavailable: %s", exc)
                counts = {}
            for queue, count in sorted(counts.items()):
                depth.add_metric([queue], count)
            yield depth
