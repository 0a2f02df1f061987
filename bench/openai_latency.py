"""The OpenAI-compatible endpoint's streaming latency: time to its first content chunk beside `/v1/answer`'s first
verified claim, for the same question and the same model output, paired and alternating in one run.

The model is the scripted OpenAI-compatible server writing supported sentences at vLLM-on-CPU speed (a first
token after `--ttft` seconds, then 4 characters every 30 ms); the datastore holds the Dapr gold files of the first
`--questions` answerable Dapr questions, and the model quotes the top passage it was given, cited, so the first
claim passes verification. Both requests go over HTTP to the app (FastAPI's TestClient, in-process).

    .venv/bin/python bench/openai_latency.py [--questions 8] [--ttft 0.5] [--out FILE]

Target: first content chunk <= first verified claim + 150 ms (p50 of the paired differences).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from _common import RESULTS_DIR, machine_info, write_json
from fallback_latency import ingest, questions
from groundwork.platform.api.app import create_app
from groundwork.platform.config import GenerationConfig, Settings
from groundwork.serving.testing import Messages, ScriptedChatServer, repeat_sources

TARGET_MS = 150.0


def quoting_reply(ttft: float) -> Any:
    def reply(messages: Messages) -> str:
        time.sleep(ttft)
        return repeat_sources(messages)

    return reply


def first_claim(client: TestClient, question: str) -> float | None:
    body = {"question": question, "datastore_ids": ["dapr"], "stream": True}
    started = time.perf_counter()
    with client.stream("POST", "/v1/answer", json=body) as response:
        for line in response.iter_lines():
            if line == "event: claim":
                return time.perf_counter() - started
    return None


def first_chunk(client: TestClient, question: str) -> float | None:
    body = {"model": "dapr", "messages": [{"role": "user", "content": question}], "stream": True}
    started = time.perf_counter()
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"]
                if delta and delta[0]["delta"].get("content"):
                    return time.perf_counter() - started
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--ttft", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "openai_latency.json")
    args = parser.parse_args(argv)
    rows, root = questions("dapr", args.questions)
    model = ScriptedChatServer(quoting_reply(args.ttft), chunk_chars=4, delay=0.03)
    work = Path(tempfile.mkdtemp(prefix="gw-bench-openai-"))
    pairs: list[dict[str, Any]] = []
    try:
        settings = Settings(data_dir=work, generation=GenerationConfig(backend="remote", base_url=model.url))
        with TestClient(create_app(settings)) as client:
            client.headers["Authorization"] = f"Bearer {settings.bootstrap_key_file().read_text().strip()}"
            ingest(client, "dapr", rows, root)
            for index, row in enumerate(rows):
                question = row["question"]
                if index % 2 == 0:
                    claim, chunk = first_claim(client, question), first_chunk(client, question)
                else:
                    chunk, claim = first_chunk(client, question), first_claim(client, question)
                pairs.append({"id": row["id"], "first_claim_s": claim, "first_chunk_s": chunk})
                print(pairs[-1], flush=True)
    finally:
        model.close()
        shutil.rmtree(work, ignore_errors=True)
    paired = [p for p in pairs if p["first_claim_s"] is not None and p["first_chunk_s"] is not None]
    gaps = [(p["first_chunk_s"] - p["first_claim_s"]) * 1000 for p in paired]
    gap = statistics.median(gaps) if gaps else float("inf")
    verdict = gap <= TARGET_MS
    print(
        f"{len(paired)} pairs: first verified claim p50 "
        f"{statistics.median(p['first_claim_s'] for p in paired) * 1000:.0f} ms, first OpenAI content chunk p50 "
        f"{statistics.median(p['first_chunk_s'] for p in paired) * 1000:.0f} ms, paired difference p50 {gap:+.0f} ms;"
        f" target <= {TARGET_MS:.0f} ms: {'met' if verdict else 'NOT met'}"
    )
    payload = {"benchmark": "openai_latency", "machine": machine_info(), "config": vars(args) | {"out": str(args.out)}}
    write_json(args.out, payload | {"pairs": pairs, "difference_p50_ms": gap, "target_met": verdict})
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
