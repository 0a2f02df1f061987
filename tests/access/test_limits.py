"""Limits that protect the service: request bodies (413 before the body is read), per-key rate limits (429 with
Retry-After) and the bounded generation queue (503 with Retry-After, nothing started)."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from groundwork.platform.api.app import create_app
from groundwork.platform.config import AccessConfig, ApiConfig, GenerationConfig
from groundwork.serving.testing import ScriptedChatServer

from ..conftest import OPERATOR, admin_key, api_client, make_settings
from .helpers import bearer, upload, wait_job


@pytest.fixture
def small_body_server(tmp_path: Path) -> Iterator[int]:
    """The API on a real socket with a 4 KiB body limit; yields its port."""
    settings = make_settings(tmp_path / "data", api=ApiConfig(max_request_bytes=4096))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


def read_reply(connection: socket.socket) -> str:
    reply = b""
    while chunk := connection.recv(4096):  # the server closes the connection after a 413
        reply += chunk
    return reply.decode()


def test_a_declared_oversized_body_is_refused_before_it_is_sent(small_body_server: int) -> None:
    """The server answers 413 to the headers alone, while the client has sent no byte of the body."""
    with socket.create_connection(("127.0.0.1", small_body_server), timeout=10) as connection:
        connection.sendall(
            b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n"
        )
        reply = read_reply(connection)
    assert reply.startswith("HTTP/1.1 413"), reply
    assert '"code": "request_too_large"' in reply


def test_a_streamed_oversized_body_is_refused_once_it_passes_the_limit(small_body_server: int) -> None:
    """A chunked body (no Content-Length): the 413 arrives while the client is still sending, soon after the
    limit, so the server never buffers the rest."""
    sent = 0
    with socket.create_connection(("127.0.0.1", small_body_server), timeout=10) as connection:
        connection.sendall(
            b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b" " * 1024
        while sent < 10 * 1024 * 1024:
            readable, _, _ = select.select([connection], [], [], 0.02)
            if readable:
                break
            try:
                connection.sendall(b"400\r\n" + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        reply = read_reply(connection)
    assert reply.startswith("HTTP/1.1 413"), reply
    assert '"code": "request_too_large"' in reply
    assert sent < 1024 * 1024, f"the client could send {sent} bytes before the 413"


def test_rate_limits_are_per_key_with_retry_after(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", access=AccessConfig(rate_limit_per_minute=60, rate_limit_burst=3))
    with api_client(settings) as client:
        identities = client.app.state.services.identities  # type: ignore[attr-defined]
        for name in ("ana", "other"):
            identities.create_user(OPERATOR, name)
        ana, other = (identities.create_key(OPERATOR, name).token for name in ("ana", "other"))
        statuses = [client.get("/v1/me", headers=bearer(ana)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/v1/me", headers=bearer(ana))
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert client.get("/v1/me", headers=bearer(other)).status_code == 200  # another key is unaffected


def test_a_full_generation_queue_is_refused_with_503_and_retry_after(tmp_path: Path) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow_model(_messages: list[dict[str, object]]) -> str:
        started.set()
        release.wait(60)
        return "Backups run nightly [1]."

    model = ScriptedChatServer(slow_model)
    settings = make_settings(
        tmp_path / "data",
        generation=GenerationConfig(backend="remote", base_url=model.url, max_concurrent=1, max_waiting=0),
    )
    try:
        with api_client(settings) as client:
            client.post("/v1/datastores", json={"name": "ops"})
            text = "# Backups\n\nBackups of the metadata database run nightly at 02:00 UTC and are kept 30 days."
            wait_job(client, upload(client, "ops", "backups.md", text)["job"]["id"])
            question = {"question": "When do backups run?", "datastore_ids": ["ops"]}
            first: dict[str, int] = {}
            holder = threading.Thread(
                target=lambda: first.update(status=client.post("/v1/answer", json=question).status_code)
            )
            holder.start()
            assert started.wait(60), "the first answer reached the model"
            for body in (question, {**question, "stream": True}):
                refused = client.post("/v1/answer", json=body)
                assert refused.status_code == 503, refused.text
                assert refused.json()["error"]["code"] == "overloaded"
                assert int(refused.headers["Retry-After"]) >= 1
            chat = {"model": "ops", "messages": [{"role": "user", "content": "When do backups run?"}]}
            assert client.post("/v1/chat/completions", json=chat).status_code == 503
            assert len(model.requests) == 1, "a refused request never reached the model"
            release.set()
            holder.join(60)
            assert first["status"] == 200
            assert client.post("/v1/answer", json=question).status_code == 200  # the slot is free again
    finally:
        release.set()
        model.close()


def test_admin_key_file_is_private(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    with TestClient(create_app(settings)):
        mode = settings.bootstrap_key_file().stat().st_mode & 0o777
        assert mode == 0o600
        assert admin_key(settings).startswith("gw_")
