"""A real GCS emulator (`gcp-storage-emulator`, in memory) started once per session on a free port; the
tests talk to it with the real google-cloud-storage client."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import storage

from groundwork.platform.config import DatabaseConfig, StorageConfig
from groundwork.platform.services import Services, build_services
from groundwork.platform.storage.gcs import make_gcs_client
from tests.conftest import make_settings

EMULATOR = Path(sys.executable).with_name("gcp-storage-emulator")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[str]:
    """The emulator's base URL, e.g. `http://127.0.0.1:40123`."""
    port = _free_port()
    process = subprocess.Popen(
        [str(EMULATOR), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"gcp-storage-emulator exited with {process.returncode}: {stderr}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("gcp-storage-emulator did not start listening within 30 s")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def emulator_env(gcs_emulator: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """`STORAGE_EMULATOR_HOST` set for one test: google-cloud-storage then talks to the emulator by itself."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    return gcs_emulator


@pytest.fixture
def gcs_client(gcs_emulator: str) -> storage.Client:
    return make_gcs_client(StorageConfig(emulator_host=gcs_emulator))


def new_bucket(client: storage.Client) -> str:
    """A fresh, empty bucket; tests never share one."""
    name = f"gw-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(name)
    return name


@pytest.fixture
def gcs_services(
    tmp_path: Path, gcs_emulator: str, gcs_client: storage.Client, database_url: str
) -> Iterator[Services]:
    """Services whose blob store is a bucket on the emulator (and whose `gs://` sources are read there), on
    SQLite and on PostgreSQL."""
    storage_config = StorageConfig(
        backend="gcs", gcs_bucket=new_bucket(gcs_client), gcs_prefix="groundwork", emulator_host=gcs_emulator
    )
    settings = make_settings(tmp_path / "data", storage=storage_config, database=DatabaseConfig(url=database_url))
    built = build_services(settings, owner="pytest")
    try:
        yield built
    finally:
        built.close()
