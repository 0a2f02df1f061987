"""Early fallback: how long an answer takes when the model's claims all fail verification, with the early fallback on
(the default: 2 of the first 3 claims unsupported stop generation) and off, on the Dapr and FastAPI question sets.

The model is the scripted OpenAI-compatible server (`groundwork.serving.testing.ScriptedChatServer`) writing what a
weak model writes at vLLM-on-CPU speed: a first token after `--ttft` seconds, then about 33 tokens/s (4 characters
every 30 ms), sentences that cite a source but say what no source says, until `--answer-tokens` tokens. Each
question's gold files are ingested (no language model), then every answerable question is asked through
`POST /v1/answer` (streamed, to the `done` event) once with the fallback on and once off, alternating the order.

    .venv/bin/python bench/fallback_latency.py [--questions 10] [--ttft 1.6] [--answer-tokens 256] [--out FILE]

Target: with the fallback on, the answer is complete in <= 5 s p50 on both sets.
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
from groundwork.platform.api.app import create_app
from groundwork.platform.config import AnswersConfig, GenerationConfig, Settings
from groundwork.serving.testing import Messages, ScriptedChatServer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data/engdocs"
EVAL = ROOT / "platform/src/groundwork/platform/eval/data"
SETS = {
    "dapr": (EVAL / "dapr_questions.jsonl", DATA / "dapr-docs", None),
    "fastapi": (EVAL / "chat_questions.jsonl", DATA / "fastapi-docs-en", "fastapi-docs-en"),
}
TARGET_S = 5.0
WRONG = (
    "The {thing} is restarted every {n} hours by the night shift [1].",
    "Every {thing} is approved in writing by the finance department within {n} days [1].",
    "Copies of the {thing} are printed on paper and kept in a vault for {n} years [1].",
    "The {thing} only works on Tuesdays between {n} and {m} o'clock [1].",
)
THINGS = ("sidecar", "component", "middleware", "router", "dependency", "state store", "pub/sub broker", "actor")


def failing_reply(ttft: float, tokens: int) -> Any:
    def reply(messages: Messages) -> str:
        time.sleep(ttft)  # prefill
        sentences = [WRONG[i % len(WRONG)].format(thing=THINGS[i % len(THINGS)], n=i + 2, m=i + 5) for i in range(200)]
        return " ".join(sentences)[: tokens * 4]

    return reply


def questions(name: str, limit: int) -> tuple[list[dict[str, Any]], Path]:
    path, root, corpus = SETS[name]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r["answerable"] and (corpus is None or r.get("corpus") == corpus)]
    return rows[:limit], root


def ingest(client: TestClient, name: str, rows: Sequence[dict[str, Any]], root: Path) -> None:
    client.post("/v1/datastores", json={"name": name})
    jobs = []
    for file in sorted({f for r in rows for f in r["gold_files"]}):
        data = (root / file).read_bytes()
        response = client.post(f"/v1/datastores/{name}/documents", files={"file": (file, data, "text/markdown")})
        response.raise_for_status()
        jobs.append(response.json()["job"]["id"])
    for job in jobs:
        deadline = time.monotonic() + 600
        while client.get(f"/v1/jobs/{job}").json()["status"] not in ("succeeded", "completed_with_errors"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"job {job} did not finish")
            time.sleep(0.2)


def ask(client: TestClient, datastore: str, question: str) -> dict[str, Any]:
    body = {"question": question, "datastore_ids": [datastore], "stream": True}
    started = time.perf_counter()
    first_claim: float | None = None
    event, done = "", {}
    with client.stream("POST", "/v1/answer", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                if event == "claim" and first_claim is None:
                    first_claim = time.perf_counter() - started
                elif event == "done":
                    done = json.loads(line[6:])
    return {
        "total_s": time.perf_counter() - started,
        "first_claim_s": first_claim,
        "mode": done.get("mode"),
        "fallback": done.get("fallback"),
        "timings_ms": done.get("timings_ms"),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    model = ScriptedChatServer(failing_reply(args.ttft, args.answer_tokens), chunk_chars=4, delay=0.03)
    work = Path(tempfile.mkdtemp(prefix="gw-bench-fallback-"))
    results: dict[str, Any] = {}
    try:
        for name in SETS:
            rows, root = questions(name, args.questions)
            measured: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
            for fallback in ("on", "off"):
                failures = 2 if fallback == "on" else 0
                settings = Settings(
                    data_dir=work / name,
                    generation=GenerationConfig(backend="remote", base_url=model.url, answer_tokens=args.answer_tokens),
                    answers=AnswersConfig(fallback_failures=failures, fallback_repeats=2 if failures else 0),
                )
                with TestClient(create_app(settings)) as client:
                    client.headers["Authorization"] = f"Bearer {settings.bootstrap_key_file().read_text().strip()}"
                    if fallback == "on":
                        ingest(client, name, rows, root)
                    assert client.app.state.services.generation.wait_ready(30)  # type: ignore[attr-defined]
                    for row in rows:
                        measured[fallback].append({"id": row["id"], **ask(client, name, row["question"])})
                print(f"{name}, fallback {fallback}: {[round(m['total_s'], 1) for m in measured[fallback]]}")
            results[name] = {
                "questions": len(rows),
                "on_p50_s": statistics.median(m["total_s"] for m in measured["on"]),
                "off_p50_s": statistics.median(m["total_s"] for m in measured["off"]),
                "on_fired": sum(1 for m in measured["on"] if m["fallback"]),
                "on_modes": [m["mode"] for m in measured["on"]],
                "measurements": measured,
            }
    finally:
        model.close()
        shutil.rmtree(work, ignore_errors=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=10, help="Answerable questions per set")
    parser.add_argument("--ttft", type=float, default=1.6, help="Seconds before the scripted model's first token")
    parser.add_argument("--answer-tokens", type=int, default=256)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "fallback_latency.json")
    args = parser.parse_args(argv)
    results = run(args)
    for name, result in results.items():
        verdict = "met" if result["on_p50_s"] <= TARGET_S else "NOT met"
        print(
            f"{name}: {result['questions']} questions, complete p50 {result['on_p50_s']:.2f} s with the early"
            f" fallback ({result['on_fired']} fired), {result['off_p50_s']:.2f} s without; target <= {TARGET_S} s:"
            f" {verdict}"
        )
    write_json(
        args.out,
        {
            "benchmark": "fallback_latency",
            "machine": machine_info(),
            "config": vars(args) | {"out": str(args.out)},
            "results": results,
        },
    )
    return 0 if all(r["on_p50_s"] <= TARGET_S for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
