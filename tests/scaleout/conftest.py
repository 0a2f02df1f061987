"""Scale-out fixtures: real Redis, real PostgreSQL, real `groundwork worker` processes.

Fast tests use the shared Redis at 127.0.0.1:6379 in a database number of their own (flushed once per
session); chaos tests start their own `redis-server` on another port so they can kill and restart it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from groundwork.platform.config import (
    CeleryConfig,
    DatabaseConfig,
    GenerationConfig,
    IngestionConfig,
    Settings,
    settings_environment,
)
from tests.conftest import REPO

SHARED_REDIS = os.environ.get("GROUNDWORK_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
PYTHON = sys.executable


def celery_settings(
    data_dir: Path, database_url: str, broker_url: str, *, batch_size: int = 8, **celery: Any
) -> Settings:
    return Settings(
        data_dir=data_dir,
        database=DatabaseConfig(url=database_url, pool_size=3),
        ingestion=IngestionConfig(queue="celery", batch_size=batch_size, max_attempts=3),
        celery=CeleryConfig(broker_url=broker_url, **celery),
        generation=GenerationConfig(backend="none"),
        embedding={"torch_threads": 1},  # type: ignore[arg-type]
        log_level="WARNING",
    )


def emptied_redis(url: str) -> str:
    """`url` after emptying its database; fails the test if Redis is not reachable there."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {url}: {exc} (scripts/services.sh starts it)")
    client.flushdb()
    client.close()
    return url


@pytest.fixture(scope="session")
def shared_redis_url() -> str:
    return emptied_redis(SHARED_REDIS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A `redis-server` of the test's own, without persistence (a restart loses every message)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (Debian: apt-get install redis-server)")
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail("own redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


class Worker:
    """One `groundwork worker` process (main process + its prefork children)."""

    def __init__(self, env: dict[str, str], name: str, log: Path, harness: bool) -> None:
        self.env, self.name, self.log, self.harness = env, name, log, harness
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        module = "tests.scaleout.worker_harness" if self.harness else "groundwork.platform.cli.main"
        command = [PYTHON, "-m", module, "worker", "--hostname", f"{self.name}@%h"]
        if not self.harness:
            command = [str(Path(PYTHON).with_name("groundwork")), "worker", "--hostname", f"{self.name}@%h"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env={**os.environ, **self.env}, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def children(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        for child in worker.children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        worker.kill()


def start_workers(
    started: list[Worker], settings: Settings, count: int, log_dir: Path, *, harness: bool = False
) -> list[Worker]:
    env = settings_environment(settings) | {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    for index in range(count):
        worker = Worker(env, f"w{index}", log_dir / f"worker{index}.log", harness)
        worker.start()
        started.append(worker)
    return started
