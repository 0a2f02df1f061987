"""The `groundwork` command as a user runs it: direct on a data directory, and against a running server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

GROUNDWORK = str(Path(sys.executable).with_name("groundwork"))

pytestmark = pytest.mark.slow


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([GROUNDWORK, *args], env=env, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"groundwork {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GROUNDWORK_DATA_DIR": str(tmp_path / "data"),
        "GROUNDWORK_LOG_LEVEL": "WARNING",
        "GROUNDWORK_GENERATION__BACKEND": "none",
        "HF_HUB_OFFLINE": "1",
    }


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "guides").mkdir(parents=True)
    (folder / "guides" / "deploy.md").write_text("# Deploy\n\nRoll out with `kubectl apply -f groundwork.yaml`.\n")
    (folder / "guides" / "backup.md").write_text("# Backup\n\nThe nightly backup copies the SQLite file to GCS.\n")
    (folder / "notes.txt").write_text("Retention of audit logs is 400 days.\n")
    (folder / "draft.md").write_text("# Draft\n\nnot ready\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    return folder


def test_ingest_and_search_on_the_data_directory(env: dict[str, str], docs: Path) -> None:
    result = run(env, "ingest", str(docs), "--datastore", "handbook", "--exclude", "draft.md", check=False)
    assert result.returncode == 2, result.stderr  # one document failed, the rest are indexed
    assert "3 of 4 documents indexed" in result.stderr
    assert "corrupt_document" in result.stderr and "broken.pdf" in result.stderr

    hits = json.loads(run(env, "search", "how long are audit logs kept", "--datastore", "handbook", "--json").stdout)
    assert hits[0]["source_uri"].endswith("notes.txt")
    assert "400 days" in hits[0]["text"]

    table = run(env, "search", "kubectl apply", "--datastore", "handbook", "--mode", "lexical").stdout
    assert "Deploy" in table and "groundwork.yaml" in table

    again = run(env, "ingest", str(docs / "guides"), "--datastore", "handbook")
    assert "2 of 2 documents indexed" in again.stderr

    # No language model in this test (generation.backend=none): the answer quotes the source, cited.
    answer = run(env, "ask", "How long is the retention of audit logs?", "--datastore", "handbook")
    assert "400 days [1]" in answer.stdout and "Sources:" in answer.stdout and "notes.txt" in answer.stdout
    assert "language model is not available" in answer.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [GROUNDWORK, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("server did not become ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_commands_use_the_server_and_never_open_its_data_directory(
    env: dict[str, str], docs: Path, server: str
) -> None:
    refused = run(env, "ingest", str(docs / "guides"), "--datastore", "handbook", check=False)
    assert refused.returncode == 1
    assert "data_dir_locked" in refused.stderr and "--url" in refused.stderr

    run(env, "ingest", str(docs / "guides"), "--datastore", "handbook", "--url", server)
    hits = json.loads(run(env, "search", "nightly backup", "--datastore", "handbook", "--json", "--url", server).stdout)
    assert "SQLite file to GCS" in hits[0]["text"]
    env_url = {**env, "GROUNDWORK_URL": server}
    assert json.loads(run(env_url, "search", "roll out", "--datastore", "handbook", "--json").stdout)
    missing = run(env_url, "search", "x", "--datastore", "nope", check=False)
    assert missing.returncode == 1 and "not found" in missing.stderr


def test_admin_commands_manage_identities_and_acls_through_the_server(
    env: dict[str, str], docs: Path, server: str
) -> None:
    """The admin key the server wrote is what `--url` commands send on this machine; a reader key is just that."""
    remote = {**env, "GROUNDWORK_URL": server}
    (docs / "guides" / "backup.md.acl.json").write_text(json.dumps({"groups": ["sre"]}))
    result = run(remote, "ingest", str(docs / "guides"), "--datastore", "handbook")
    assert "2 of 2 documents indexed" in result.stderr
    run(remote, "admin", "group", "create", "sre")
    run(remote, "admin", "user", "create", "ana", "--role", "reader")
    token = run(remote, "admin", "key", "create", "--user", "ana", "--name", "laptop").stdout.strip()
    assert token.startswith("gw_")
    users = run(remote, "admin", "user", "list").stdout
    assert "ana" in users and "reader" in users

    as_ana = {**remote, "GROUNDWORK_API_KEY": token}

    def ana_sees() -> set[str]:
        hits = json.loads(run(as_ana, "search", "backup deploy", "--datastore", "handbook", "--json").stdout)
        return {Path(h["source_uri"]).name for h in hits}

    assert ana_sees() == {"deploy.md"}  # backup.md's sidecar names the group sre, which ana is not in
    run(remote, "admin", "group", "add", "sre", "ana")
    assert ana_sees() == {"deploy.md", "backup.md"}
    denied = run(as_ana, "admin", "user", "list", check=False)
    assert denied.returncode == 1 and "forbidden" in denied.stderr

    hits = json.loads(run(as_ana, "search", "nightly backup", "--datastore", "handbook", "--json").stdout)
    document_id = next(h["document_id"] for h in hits if h["source_uri"].endswith("backup.md"))
    run(remote, "acl", "set", "handbook", document_id, "--user", "bo")
    assert ana_sees() == {"deploy.md"}
    key_id = token.split("_")[1]
    run(remote, "admin", "key", "revoke", key_id)
    refused = run(as_ana, "search", "backup", "--datastore", "handbook", check=False)
    assert refused.returncode == 1 and "revoked" in refused.stderr
    audit = json.loads(run(remote, "admin", "audit", "--actor", "ana", "--json").stdout)
    assert audit and all(entry["actor"] == "ana" for entry in audit)


def test_admin_commands_work_on_the_data_directory(env: dict[str, str]) -> None:
    """Without a server: the operator creates a tenant and its first admin; the key works once a server runs."""
    created = run(env, "admin", "tenant", "create", "acme")
    assert created.stdout.strip().startswith("gw_")
    run(env, "admin", "user", "create", "ana@acme.com", "--tenant", "acme", "--role", "editor")
    listed = run(env, "admin", "user", "list", "--tenant", "acme").stdout
    assert "ana@acme.com" in listed and "admin" in listed
    assert "ana@acme.com" not in run(env, "admin", "user", "list").stdout  # the operator tenant has its own users
