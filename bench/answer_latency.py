"""Answer latency: time to the first verified claim through `POST /v1/answer`, beside raw vLLM's time to first token
and time to the first complete sentence for the same prompt sent straight to the vLLM server the platform started,
in the same run.

Builds (or reuses) a data directory holding a small Dapr datastore: the gold files of the Dapr evaluation questions
(`eval/data/dapr_questions.jsonl`), most-asked first, up to `--docs` files, ingested through the normal path with
no language model. Starts `groundwork serve` with the local vLLM on a fixed port, prefix caching off (so a prompt
sent twice, once per path, is prefilled twice and neither path gets a cached prefill), and waits for `/readyz`
to report `language_model == "ready"`. Questions are the answerable ones whose gold files were all ingested.

Before measuring, each question's prompt is rebuilt exactly as the answer flow builds it: `POST /v1/search` with
the flow's standalone query (the question itself: no conversation), its `answers.top_k` and hybrid mode, the
relevance gate on `dense_score`, then `fit_context` and `build_messages` with the served model's own tokenizer
and the request body of `OpenAIChatGenerator`. Identity is checked per question: the prompt tokens vLLM reports
for the raw request equal the tokens of the rendered chat template, and (greedy decoding) the raw completion
equals the text the answer stream delivered.

Then, at each concurrency level (client threads, one `httpx.Client` each), every question is sent down both paths,
one after the other, the order alternating per question (answer first / raw first) to cancel drift:

  answer: `POST /v1/answer` with `stream: true` and `draft: true` (the raw text, to compare); first verified
          claim = first `claim` event at the client (what a reader sees first); TTFT = first `draft` event; the
          `done` event's `timings_ms` (retrieval, server-side TTFT, first_verified_claim, generation,
          verification) say where the time goes.
  raw:    `POST /v1/chat/completions` (stream) on the vLLM server with the identical body; TTFT = first chunk
          with text; time to first complete sentence = the first moment the text received holds the whole first
          claim of the final text (`citations.parse_claims`: its sentence and its citation markers), and the same
          for the sentence that /v1/answer showed first ("matched").

Decode tokens/s = (tokens - 1) / (time of last token - time of first token), tokens = draft events (answer) or
vLLM's `completion_tokens` (raw). Targets: first verified claim <= raw time to first complete sentence + 150 ms
(p50, concurrency 1, paired, same run); TTFT overhead of /v1/answer's draft over raw vLLM <= 50 ms.

    .venv/bin/python bench/answer_latency.py [--data-dir DIR] [--docs 30] [--questions 8] [--concurrency 1 4]
                                             [--answer-tokens 64] [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _common import RESULTS_DIR, format_table, latency_stats_ms, machine_info, write_json
from groundwork.platform.answers.citations import parse_claims, strip_markers
from groundwork.platform.answers.context import ContextBudget, fit_context, from_top_documents
from groundwork.platform.answers.prompt import OVERHEAD_TOKENS, build_messages
from groundwork.platform.config import Settings
from groundwork.platform.search import SearchHit
from groundwork.serving.models import prepare_model
from groundwork.serving.openai_client import _request_body, parse_chunk
from groundwork.serving.tokens import TokenCounter
from groundwork.serving.types import GenerationRequest
from search_http import BenchError, Server, free_port

ROOT = Path(__file__).resolve().parents[1]
DAPR = ROOT.parent / "shared/data/engdocs/dapr-docs"
QUESTIONS = ROOT / "platform/src/groundwork/platform/eval/data/dapr_questions.jsonl"
DATASTORE = "bench"
TARGET_OVERHEAD_MS = 50.0
TARGET_CLAIM_MS = 150.0
READY_TIMEOUT_S = 600.0
REQUEST_TIMEOUT_S = 300.0


@dataclass
class Prepared:
    """One question and the exact request body the answer flow sends to vLLM for it."""

    id: str
    question: str
    body: dict[str, Any]
    prompt_tokens: int
    """Tokens of the rendered chat template (our count)."""
    passages: int


@dataclass
class Measurement:
    question_id: str
    path: str
    """"answer" or "raw"."""
    concurrency: int
    order: int
    """0: this path went first for this question, 1: second."""
    ttft_s: float
    total_s: float
    tokens: int
    decode_tps: float
    text: str
    prompt_tokens: int | None = None
    """vLLM's usage (raw path)."""
    server_timings_ms: dict[str, float] = field(default_factory=dict)
    """The answer flow's `done` timings (answer path)."""
    mode: str | None = None
    first_claim_s: float | None = None
    """answer: the first `claim` event."""
    first_claim_text: str = ""
    first_sentence_s: float | None = None
    """raw: when the first complete sentence (with its markers) had arrived."""
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    """raw: (seconds since the request, characters received so far) per text chunk."""


# ---------------------------------------------------------------- data


def select(docs: int) -> tuple[list[str], list[dict[str, Any]]]:
    """The `docs` most-asked gold files and the answerable questions they fully cover."""
    questions = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    answerable = [q for q in questions if q["answerable"]]
    counts = Counter(f for q in answerable for f in q["gold_files"])
    files = sorted(counts, key=lambda f: (-counts[f], f))[:docs]
    chosen = set(files)
    covered = [q for q in answerable if set(q["gold_files"]) <= chosen]
    return files, covered


def ingest(data_dir: Path, files: Sequence[str]) -> None:
    source = Path(tempfile.mkdtemp(prefix="gw-bench-dapr-"))
    try:
        for name in files:
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(DAPR / name, target)
        env = dict(os.environ, GROUNDWORK_DATA_DIR=str(data_dir), GROUNDWORK_GENERATION__BACKEND="none")
        env.pop("GROUNDWORK_URL", None)
        executable = Path(sys.executable).parent / "groundwork"
        print(f"ingesting {len(files)} Dapr docs into {data_dir} ...", flush=True)
        started = time.perf_counter()
        done = subprocess.run(
            [str(executable), "ingest", str(source), "--datastore", DATASTORE],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"ingest failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        print(f"ingested in {time.perf_counter() - started:.1f}s", flush=True)
    finally:
        shutil.rmtree(source, ignore_errors=True)


def wait_model(url: str, server: Server, timeout: float) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=5.0) as client:
        while time.perf_counter() - started < timeout:
            if server.process.poll() is not None:
                raise BenchError(f"groundwork serve exited:\n{server.log_tail()}")
            try:
                state = client.get("/readyz").json().get("language_model")
            except (httpx.TransportError, ValueError):
                state = None
            if state == "ready":
                return time.perf_counter() - started
            if state == "unavailable":
                raise BenchError(f"the language model failed to start:\n{server.log_tail()}")
            time.sleep(0.5)
    raise BenchError(f"the language model was not ready after {timeout:.0f}s:\n{server.log_tail()}")


def prepare(
    server: Server, settings: Settings, counter: TokenCounter, questions: Sequence[dict[str, Any]]
) -> list[Prepared]:
    """Each question's vLLM request body, built by the answer flow's own code from `/v1/search` hits."""
    answers, generation = settings.answers, settings.generation
    budget = ContextBudget(
        context_window=generation.context_window,
        answer_tokens=generation.answer_tokens,
        overhead_tokens=OVERHEAD_TOKENS,
    )
    prepared: list[Prepared] = []
    with httpx.Client(base_url=server.url, timeout=60.0, headers=server.headers) as client:
        for q in questions:
            body = {"query": q["question"], "datastore_ids": [DATASTORE], "top_k": answers.top_k, "mode": "hybrid"}
            response = client.post("/v1/search", json=body)
            response.raise_for_status()
            hits = [SearchHit(**hit) for hit in response.json()["hits"]]
            relevant = [h for h in hits if (h.dense_score or 0.0) >= answers.min_relevance]
            if not relevant:
                continue  # the flow would refuse without generating
            context = from_top_documents(relevant, answers.context_documents)
            question, passages = fit_context(q["question"], context, budget, counter.count)
            messages = build_messages(question, passages)
            request = GenerationRequest(
                messages=messages, max_tokens=generation.answer_tokens, temperature=generation.temperature
            )
            prepared.append(
                Prepared(
                    id=q["id"],
                    question=q["question"],
                    body=_request_body(generation.served_model_name, request),
                    prompt_tokens=counter.count_messages(messages),
                    passages=len(passages),
                )
            )
    return prepared


# ---------------------------------------------------------------- the two paths


def _decode_tps(tokens: int, first: float, last: float) -> float:
    return (tokens - 1) / (last - first) if tokens > 1 and last > first else 0.0


def via_answer(client: httpx.Client, item: Prepared, concurrency: int, order: int) -> Measurement:
    body = {"question": item.question, "datastore_ids": [DATASTORE], "stream": True, "draft": True}
    started = time.perf_counter()
    first = last = 0.0
    claim_at: float | None = None
    claim_text = ""
    pieces: list[str] = []
    event = ""
    done: dict[str, Any] = {}
    with client.stream("POST", "/v1/answer", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                now = time.perf_counter()
                data = json.loads(line[6:])
                if event == "draft":
                    if not pieces:
                        first = now
                    last = now
                    pieces.append(data["text"])
                elif event == "claim" and claim_at is None:
                    claim_at, claim_text = now - started, data["text"]
                elif event == "done":
                    done = data
    total = time.perf_counter() - started
    if not pieces:
        raise BenchError(f"{item.id}: /v1/answer streamed no draft (mode {done.get('mode')}, {done.get('notice')})")
    return Measurement(
        question_id=item.id,
        path="answer",
        concurrency=concurrency,
        order=order,
        ttft_s=first - started,
        total_s=total,
        tokens=len(pieces),
        decode_tps=_decode_tps(len(pieces), first, last),
        text="".join(pieces),
        server_timings_ms={k: float(v) for k, v in done.get("timings_ms", {}).items()},
        mode=done.get("mode"),
        first_claim_s=claim_at,
        first_claim_text=claim_text,
    )


def via_raw(client: httpx.Client, item: Prepared, concurrency: int, order: int) -> Measurement:
    started = time.perf_counter()
    first = last = 0.0
    pieces: list[str] = []
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    arrivals: list[tuple[float, int]] = []
    with client.stream("POST", "/v1/chat/completions", json=item.body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            now = time.perf_counter()
            delta = parse_chunk(line[6:])
            if delta is None:
                continue
            if delta.text:
                if not pieces:
                    first = now
                last = now
                pieces.append(delta.text)
                arrivals.append((now - started, sum(map(len, pieces))))
            if delta.usage is not None:
                prompt_tokens, completion_tokens = delta.usage.prompt_tokens, delta.usage.completion_tokens
    total = time.perf_counter() - started
    if not pieces:
        raise BenchError(f"{item.id}: vLLM streamed no text")
    tokens = completion_tokens if completion_tokens is not None else len(pieces)
    return Measurement(
        question_id=item.id,
        path="raw",
        concurrency=concurrency,
        order=order,
        ttft_s=first - started,
        total_s=total,
        tokens=tokens,
        decode_tps=_decode_tps(tokens, first, last),
        text="".join(pieces),
        prompt_tokens=prompt_tokens,
        first_sentence_s=sentence_complete_at("".join(pieces), arrivals, 0),
        arrivals=arrivals,
    )


def sentence_complete_at(text: str, arrivals: Sequence[tuple[float, int]], index: int) -> float | None:
    """When the raw stream had delivered claim `index` of `text` whole (its end offset), or None."""
    claims = parse_claims(text)
    if index >= len(claims):
        return None
    return next((at for at, received in arrivals if received >= claims[index].end), None)


def matched_sentence_at(raw: Measurement, shown: str) -> float | None:
    """When the raw stream had delivered the sentence /v1/answer showed first (matched without markers)."""
    key = " ".join(strip_markers(shown).lower().split())[:60]
    for index, claim in enumerate(parse_claims(raw.text)):
        if key and key in " ".join(claim.text_without_markers.lower().split()):
            return sentence_complete_at(raw.text, raw.arrivals, index)
    return None


def run_level(server: Server, vllm: str, items: Sequence[Prepared], concurrency: int) -> list[Measurement]:
    """Each item down both paths, back to back, from `concurrency` threads; even items answer-first."""
    counter = itertools.count()
    lock = threading.Lock()
    results: list[Measurement] = []
    failures: list[BaseException] = []

    def worker() -> None:
        timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=10.0)
        api = httpx.Client(base_url=server.url, timeout=timeout, headers=server.headers)
        with api as a, httpx.Client(base_url=vllm, timeout=timeout) as r:
            while True:
                with lock:
                    number = next(counter)
                if number >= len(items) or failures:
                    return
                item = items[number]
                try:
                    if number % 2 == 0:
                        pair = [via_answer(a, item, concurrency, 0), via_raw(r, item, concurrency, 1)]
                    else:
                        pair = [via_raw(r, item, concurrency, 0), via_answer(a, item, concurrency, 1)]
                except (httpx.HTTPError, BenchError) as exc:
                    with lock:
                        failures.append(exc)
                    return
                with lock:
                    results.extend(pair)

    threads = [threading.Thread(target=worker, name=f"client-{i}") for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise BenchError(f"concurrency {concurrency}: {failures[0]!r}")
    return results


# ---------------------------------------------------------------- summary


def summarize(measurements: Sequence[Measurement], concurrency: int) -> dict[str, Any]:
    level = [m for m in measurements if m.concurrency == concurrency]
    answer = {m.question_id: m for m in level if m.path == "answer"}
    raw = {m.question_id: m for m in level if m.path == "raw"}
    paired = sorted(answer.keys() & raw.keys())
    diffs = [answer[q].ttft_s - raw[q].ttft_s for q in paired]

    def p50(values: Sequence[float]) -> float:
        return float(statistics.median(values)) if values else 0.0

    def server(key: str) -> float:
        return p50([answer[q].server_timings_ms.get(key, 0.0) for q in paired])

    claimed = [q for q in paired if answer[q].first_claim_s is not None and raw[q].first_sentence_s is not None]
    claim_gaps = [answer[q].first_claim_s - raw[q].first_sentence_s for q in claimed]  # type: ignore[operator]
    matched = {q: matched_sentence_at(raw[q], answer[q].first_claim_text) for q in claimed}
    matched_gaps = [answer[q].first_claim_s - m for q, m in matched.items() if m is not None]  # type: ignore[operator]

    return {
        "concurrency": concurrency,
        "pairs": len(paired),
        "answer_ttft": latency_stats_ms([answer[q].ttft_s for q in paired]),
        "raw_ttft": latency_stats_ms([raw[q].ttft_s for q in paired]),
        "overhead_p50_ms": p50(diffs) * 1000,
        "overhead_mean_ms": statistics.fmean(diffs) * 1000 if diffs else 0.0,
        "overhead_stdev_ms": statistics.stdev(diffs) * 1000 if len(diffs) > 1 else 0.0,
        "answer_total": latency_stats_ms([answer[q].total_s for q in paired]),
        "raw_total": latency_stats_ms([raw[q].total_s for q in paired]),
        "answer_decode_tps_p50": p50([answer[q].decode_tps for q in paired]),
        "raw_decode_tps_p50": p50([raw[q].decode_tps for q in paired]),
        "answer_tokens_p50": p50([float(answer[q].tokens) for q in paired]),
        "raw_tokens_p50": p50([float(raw[q].tokens) for q in paired]),
        "server_retrieval_p50_ms": server("retrieval_ms"),
        "server_ttft_p50_ms": server("ttft_ms"),
        "server_ttft_minus_retrieval_p50_ms": p50(
            [
                answer[q].server_timings_ms.get("ttft_ms", 0.0) - answer[q].server_timings_ms.get("retrieval_ms", 0.0)
                for q in paired
            ]
        ),
        "server_generation_p50_ms": server("generation_ms"),
        "server_verification_p50_ms": server("verification_ms"),
        "server_total_p50_ms": server("total_ms"),
        "same_text": sum(raw[q].text.startswith(answer[q].text) for q in paired),
        "with_claim": len(claimed),
        "first_verified_claim": latency_stats_ms([answer[q].first_claim_s or 0.0 for q in claimed]),
        "raw_first_sentence": latency_stats_ms([raw[q].first_sentence_s or 0.0 for q in claimed]),
        "claim_minus_sentence_p50_ms": p50(claim_gaps) * 1000,
        "claim_minus_matched_sentence_p50_ms": p50(matched_gaps) * 1000,
        "matched": len(matched_gaps),
        "modes": dict(Counter(str(answer[q].mode) for q in paired)),
        "server_first_verified_claim_p50_ms": server("first_verified_claim_ms"),
    }


def tables(summaries: Sequence[dict[str, Any]]) -> str:
    ttft = format_table(
        ["conc", "pairs", "answer p50", "answer p95", "raw p50", "raw p95", "overhead p50", "overhead mean±sd"],
        [
            [
                str(s["concurrency"]),
                str(s["pairs"]),
                f"{s['answer_ttft']['p50_ms']:.0f} ms",
                f"{s['answer_ttft']['p95_ms']:.0f} ms",
                f"{s['raw_ttft']['p50_ms']:.0f} ms",
                f"{s['raw_ttft']['p95_ms']:.0f} ms",
                f"{s['overhead_p50_ms']:+.0f} ms",
                f"{s['overhead_mean_ms']:+.0f} ± {s['overhead_stdev_ms']:.0f} ms",
            ]
            for s in summaries
        ],
    )
    throughput = format_table(
        ["conc", "answer tok/s", "raw tok/s", "answer tokens", "raw tokens", "answer total", "raw total", "same text"],
        [
            [
                str(s["concurrency"]),
                f"{s['answer_decode_tps_p50']:.1f}",
                f"{s['raw_decode_tps_p50']:.1f}",
                f"{s['answer_tokens_p50']:.0f}",
                f"{s['raw_tokens_p50']:.0f}",
                f"{s['answer_total']['p50_ms']:.0f} ms",
                f"{s['raw_total']['p50_ms']:.0f} ms",
                f"{s['same_text']}/{s['pairs']}",
            ]
            for s in summaries
        ],
    )
    where = format_table(
        ["conc", "retrieval", "server TTFT", "TTFT - retrieval", "generation", "verification", "server total"],
        [
            [
                str(s["concurrency"]),
                f"{s['server_retrieval_p50_ms']:.0f} ms",
                f"{s['server_ttft_p50_ms']:.0f} ms",
                f"{s['server_ttft_minus_retrieval_p50_ms']:.0f} ms",
                f"{s['server_generation_p50_ms']:.0f} ms",
                f"{s['server_verification_p50_ms']:.0f} ms",
                f"{s['server_total_p50_ms']:.0f} ms",
            ]
            for s in summaries
        ],
    )
    claims = format_table(
        [
            "conc",
            "with claim",
            "first verified claim p50",
            "raw TTFT p50",
            "raw first sentence p50",
            "claim - sentence p50",
            "claim - matched p50 (n)",
            "modes",
        ],
        [
            [
                str(s["concurrency"]),
                f"{s['with_claim']}/{s['pairs']}",
                f"{s['first_verified_claim']['p50_ms']:.0f} ms",
                f"{s['raw_ttft']['p50_ms']:.0f} ms",
                f"{s['raw_first_sentence']['p50_ms']:.0f} ms",
                f"{s['claim_minus_sentence_p50_ms']:+.0f} ms",
                f"{s['claim_minus_matched_sentence_p50_ms']:+.0f} ms ({s['matched']})",
                json.dumps(s["modes"]),
            ]
            for s in summaries
        ],
    )
    return (
        f"First verified claim vs raw vLLM (paired, same prompt):\n{claims}\n\n"
        f"TTFT at the client (paired, same prompt):\n{ttft}\n\nDecode (p50):\n{throughput}\n\n"
        f"/v1/answer server timings (p50 of the done event's timings_ms):\n{where}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None, help="Reuse (or build) this data directory")
    parser.add_argument("--docs", type=int, default=30, help="Dapr gold files to ingest when building")
    parser.add_argument("--questions", type=int, default=8, help="Questions (pairs) per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--answer-tokens", type=int, default=64, help="max_tokens for both paths")
    parser.add_argument("--warmup", type=int, default=2, help="Pairs sent before measuring (not recorded)")
    parser.add_argument("--cache-dir", default="/tmp/groundwork-models", help="Converted-model cache")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "answer_latency.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    data_dir: Path = (args.data_dir or Path(tempfile.mkdtemp(prefix="gw-bench-answer-"))).resolve()
    vllm_port = free_port()
    server_env = {
        "GROUNDWORK_GENERATION__BACKEND": "local",
        "GROUNDWORK_GENERATION__CACHE_DIR": args.cache_dir,
        "GROUNDWORK_GENERATION__VLLM_ARGS": json.dumps(["--no-enable-prefix-caching"]),
        "GROUNDWORK_GENERATION__PORT": str(vllm_port),
        "GROUNDWORK_GENERATION__ANSWER_TOKENS": str(args.answer_tokens),
    }
    info = machine_info()
    files, questions = select(args.docs)
    if not (data_dir / "groundwork.db").exists():
        ingest(data_dir, files)
    os.environ.update(server_env)
    settings = Settings(data_dir=data_dir)
    needed = args.warmup + args.questions
    if len(questions) < needed:
        raise BenchError(f"only {len(questions)} questions are covered by {len(files)} docs; need {needed}")

    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="gw-bench-answer-serve-", suffix=".log")[1])
    server = Server(data_dir, port, log_path, threads=0)
    vllm_url = f"http://127.0.0.1:{vllm_port}"
    try:
        api_s = server.wait_ready(READY_TIMEOUT_S)
        model_s = wait_model(server.url, server, READY_TIMEOUT_S)
        print(f"server ready after {api_s:.1f}s, model after {model_s:.1f}s more (vLLM {vllm_url})", flush=True)
        model_dir = prepare_model(
            settings.generation.model,
            cache_dir=Path(args.cache_dir),
            python=str(Path(settings.generation.vllm_python).expanduser().absolute()),
        ).path
        counter = TokenCounter.from_model_dir(model_dir)
        items = prepare(server, settings, counter, questions)
        if len(items) < needed:
            raise BenchError(f"only {len(items)} questions pass the relevance gate; need {needed}")
        warm, items = items[: args.warmup], items[args.warmup : needed]
        print(f"warm-up: {len(warm)} pairs", flush=True)
        run_level(server, vllm_url, warm, 1)
        measurements: list[Measurement] = []
        for level in args.concurrency:
            print(f"concurrency {level}: {len(items)} questions x 2 paths ...", flush=True)
            measurements.extend(run_level(server, vllm_url, items, level))
    finally:
        server.stop()
    mismatched = [
        (m.question_id, m.prompt_tokens, item.prompt_tokens)
        for m in measurements
        for item in items
        if m.path == "raw" and m.question_id == item.id and m.prompt_tokens != item.prompt_tokens
    ]
    summaries = [summarize(measurements, level) for level in args.concurrency]
    print()
    print(tables(summaries))
    print(f"\nprompt tokens (vLLM usage == rendered template): {mismatched if mismatched else 'all equal'}")
    verdict = all(s["overhead_p50_ms"] <= TARGET_OVERHEAD_MS for s in summaries)
    print(f"target: TTFT overhead p50 <= {TARGET_OVERHEAD_MS:.0f} ms: {'met' if verdict else 'NOT met'}")
    single = [s for s in summaries if s["concurrency"] == 1]
    claim_met = bool(single) and single[0]["claim_minus_sentence_p50_ms"] <= TARGET_CLAIM_MS
    print(
        f"target: first verified claim <= raw first complete sentence + {TARGET_CLAIM_MS:.0f} ms (p50, concurrency 1):"
        f" {'met' if claim_met else 'NOT met'}"
    )
    payload = {
        "benchmark": "answer_latency",
        "machine": info,
        "load_average_1m_end": os.getloadavg()[0],
        "config": {
            "data_dir": str(data_dir),
            "docs": len(files),
            "questions": [i.id for i in items],
            "warmup": args.warmup,
            "answer_tokens": args.answer_tokens,
            "temperature": settings.generation.temperature,
            "top_k": settings.answers.top_k,
            "min_relevance": settings.answers.min_relevance,
            "context_window": settings.generation.context_window,
            "server_env": server_env,
            "model": settings.generation.model,
            "prompt_tokens": {i.id: i.prompt_tokens for i in items},
            "passages": {i.id: i.passages for i in items},
        },
        "target_overhead_ms": TARGET_OVERHEAD_MS,
        "target_met": verdict,
        "target_claim_ms": TARGET_CLAIM_MS,
        "target_claim_met": claim_met,
        "prompt_token_mismatches": mismatched,
        "summary": summaries,
        "measurements": [asdict(m) for m in measurements],
        "server_log": str(log_path),
    }
    print(f"wrote {write_json(args.out, payload)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
