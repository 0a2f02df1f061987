"""The hostile-file corpus against a running `groundwork serve` (issue 15's targets), full size by default.

Starts a server on a fresh data directory, uploads every file of `groundwork.ingestion.hostile.corpus()` (zip
bombs in a DOCX and nested, XML entity expansion, a 49 MiB text, a 2,000-page PDF, a PDF with a decompression
bomb stream, random binary under .md/.txt/.html, deeply nested HTML and Markdown) as one batch into datastore
`hostile`, and right after it a small document into datastore `small`. Reports each hostile file's outcome,
the seconds until the small document was indexed, and the RSS of the server's process tree (server plus
parser subprocesses) sampled every 0.2 s, against its idle value.

    nice -n 10 .venv/bin/python bench/hostile.py [--scale 1.0] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from groundwork.ingestion.hostile import corpus

GROUNDWORK = str(Path(sys.executable).with_name("groundwork"))


def _tree_rss(pid: int) -> int:
    """Bytes resident in `pid` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        pending.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="size of the hostile files (1.0: full size)")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="gw-hostile-")) / "data"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "GROUNDWORK_DATA_DIR": str(data_dir),
        "GROUNDWORK_GENERATION__BACKEND": "none",
        "GROUNDWORK_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
    }
    files = {name: make() for name, make in corpus(args.scale).items()}
    server = subprocess.Popen([GROUNDWORK, "serve", "--port", str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        key = (data_dir / "admin-api-key").read_text().strip()
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600)
        for name in ("hostile", "small"):
            client.post("/v1/datastores", json={"name": name}).raise_for_status()
        time.sleep(2)
        idle = _tree_rss(server.pid)
        peak = [idle]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                peak[0] = max(peak[0], _tree_rss(server.pid))

        threading.Thread(target=sample, daemon=True).start()
        started = time.monotonic()
        big = {name for name, data in files.items() if len(data) > 16 * 2**20}  # alone: the body limit is 51 MiB
        parts = [("files", (n, data, "application/octet-stream")) for n, data in files.items() if n not in big]
        accepted = client.post("/v1/datastores/hostile/documents/batch", files=parts)
        accepted.raise_for_status()
        body = accepted.json()
        singles = [
            client.post("/v1/datastores/hostile/documents", files={"file": (n, files[n])}).json()["job"]["id"]
            for n in sorted(big)
        ]
        small_at = time.monotonic()
        small = client.post("/v1/datastores/small/documents", files={"file": ("ok.md", b"# Fine\n\nSmall doc.")}).json()
        while client.get(f"/v1/jobs/{small['job']['id']}").json()["finished_at"] is None:
            time.sleep(0.1)
        small_seconds = time.monotonic() - small_at
        for job_id in [body["job"]["id"], *singles]:
            while client.get(f"/v1/jobs/{job_id}").json()["finished_at"] is None:
                time.sleep(0.5)
        total_seconds = time.monotonic() - started
        stop.set()
        outcomes = {r["filename"]: ("refused", r["code"]) for r in body["refused"]}
        for document in client.get("/v1/datastores/hostile/documents", params={"limit": 1000}).json()["items"]:
            outcomes[document["source_uri"].rsplit("/", 1)[-1]] = (document["status"], document["failure_code"])
        print(f"{'file':<20} {'bytes':>10}  outcome")
        for name, data in files.items():
            status, code = outcomes.get(name, ("?", None))
            print(f"{name:<20} {len(data):>10}  {status} {code or ''}")
        within = sum(1 for status, _ in outcomes.values() if status in ("refused", "failed", "indexed"))
        print(f"\n{within} of {len(files)} refused or parsed within limits; hostile job {total_seconds:.1f} s")
        print(f"small document of another datastore indexed after {small_seconds:.1f} s")
        print(f"server tree RSS: idle {idle / 2**20:.0f} MiB, peak {peak[0] / 2**20:.0f} MiB, "
              f"+{(peak[0] - idle) / 2**20:.0f} MiB")  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


if __name__ == "__main__":
    main()
