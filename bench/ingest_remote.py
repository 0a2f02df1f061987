"""`groundwork ingest <folder> --url` against a running server with the default rate limit: the CLI's remote
backend (groundwork.client) sends the folder as bulk requests and polls one job per request.

Generates `--files` small Markdown files, starts `groundwork serve` on a fresh data directory (no language
model), runs the CLI and reports its exit code, wall time, the jobs it created (from the metadata store) and
the datastore's indexed count.

    .venv/bin/python bench/ingest_remote.py [--files 1000] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

GROUNDWORK = str(Path(sys.executable).with_name("groundwork"))
WORDS = ["rotation", "pager", "escalation", "backup", "restore", "deploy", "rollout", "kubernetes", "helm"]
WORDS += ["terraform", "latency", "budget", "alert", "runbook", "incident", "owner", "retention", "audit"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_files(folder: Path, count: int) -> None:
    rng = random.Random(7)
    folder.mkdir(parents=True)
    for i in range(count):
        body = " ".join(rng.choice(WORDS) for _ in range(120))
        (folder / f"doc-{i:04d}.md").write_text(f"# Note {i}\n\n{body}.\n")


def wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gw-ingest-remote-") as tmp:
        root = Path(tmp)
        write_files(root / "files", args.files)
        env = {
            **os.environ,
            "GROUNDWORK_DATA_DIR": str(root / "data"),
            "GROUNDWORK_GENERATION__BACKEND": "none",
            "GROUNDWORK_LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
        }
        url = f"http://127.0.0.1:{free_port()}"
        server = subprocess.Popen([GROUNDWORK, "serve", "--port", url.rsplit(":", 1)[1]], env=env)
        try:
            wait_ready(url, server)
            started = time.perf_counter()
            cli = subprocess.run(
                [GROUNDWORK, "ingest", str(root / "files"), "--datastore", "bench", "--url", url],
                env=env,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
            key = (root / "data" / "admin-api-key").read_text().strip()
            stats = httpx.get(f"{url}/v1/datastores/bench", headers={"Authorization": f"Bearer {key}"}).json()
        finally:
            server.terminate()
            server.wait(timeout=120)
        with sqlite3.connect(root / "data" / "groundwork.db") as db:
            jobs = db.execute("select kind, status, total, done, failed from jobs").fetchall()
    report = {
        "files": args.files,
        "exit_code": cli.returncode,
        "seconds": round(seconds, 1),
        "jobs": [dict(zip(("kind", "status", "total", "done", "failed"), job, strict=True)) for job in jobs],
        "indexed": stats["documents_by_status"].get("indexed", 0),
        "cli_summary": cli.stderr.strip().splitlines()[-1] if cli.stderr.strip() else "",
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
