"""`groundwork`: serve, ingest, search, eval.

Commands that change data use a running server when one is named (`--url` or `GROUNDWORK_URL`) and
otherwise open the data directory (`GROUNDWORK_DATA_DIR`) themselves; the data directory lock makes sure
there is never more than one writer.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from groundwork.platform.backends import Backend, LocalBackend, RemoteBackend
from groundwork.platform.cli.admin import acl_app, admin_app
from groundwork.platform.cli.capacity import capacity_app
from groundwork.platform.cli.datastore import datastore_app
from groundwork.platform.cli.embedding import prepare_embedding, reembed
from groundwork.platform.cli.mcp import mcp_stdio
from groundwork.platform.cli.models import models_app
from groundwork.platform.cli.slack import slack_app
from groundwork.platform.config import Settings
from groundwork.platform.documents import NewDocument
from groundwork.platform.errors import PlatformError
from groundwork.platform.logging import configure_logging
from groundwork.retrieval.types import SearchMode

app = typer.Typer(help="Groundwork: grounded answers from your organisation's documents.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure retrieval quality.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")
app.add_typer(capacity_app, name="capacity")
app.add_typer(admin_app, name="admin")
app.add_typer(acl_app, name="acl")
app.add_typer(slack_app, name="slack")
app.command("mcp")(mcp_stdio)
app.add_typer(datastore_app, name="datastore")
models_app.command("prepare-embedding")(prepare_embedding)
app.command("reembed")(reembed)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="A running Groundwork server (default: GROUNDWORK_URL; unset: local)"),
]


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


@contextmanager
def _backend(settings: Settings, url: str | None, command: str) -> Iterator[Backend]:
    target = url or settings.url
    if target:
        backend: Backend = RemoteBackend(target, api_key=settings.client_api_key())
    else:
        from groundwork.platform.services import build_services

        with console.status(f"opening {settings.data_dir} (loading models and indexes)"):
            # recover=False: documents a server left queued are the server's to resume, not this command's
            backend = LocalBackend(build_services(settings, owner=f"groundwork {command}", recover=False))
    try:
        yield backend
    finally:
        backend.close()


def _fail(exc: PlatformError) -> None:
    console.print(f"[red]error[/red] ({exc.code}): {exc}")
    raise typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: api.host setting)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: api.port setting)")] = None,
) -> None:
    """Run the REST API on the data directory (GROUNDWORK_DATA_DIR). SIGTERM stops it within
    `api.shutdown_grace_seconds` (unfinished documents stay queued for the next start)."""
    import uvicorn

    from groundwork.platform.api.app import create_app, request_grace

    settings = _settings()
    bind_host, bind_port = host or settings.api.host, port or settings.api.port
    application = create_app(settings, owner=f"groundwork serve on {bind_host}:{bind_port}")
    uvicorn.run(
        application,
        host=bind_host,
        port=bind_port,
        log_config=None,
        timeout_graceful_shutdown=max(1, round(request_grace(settings))),
    )


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Child processes (default: celery.concurrency setting)")
    ] = None,
    queue: Annotated[list[str] | None, typer.Option(help="Queue to consume (repeatable; default: ingest)")] = None,
    hostname: Annotated[str | None, typer.Option(help="Worker name, e.g. worker1@%h")] = None,
) -> None:
    """Run a Celery ingestion worker (scale-out mode: GROUNDWORK_INGESTION__QUEUE=celery, PostgreSQL, Redis)."""
    from groundwork.platform.worker import run_worker

    settings = _settings()
    if settings.ingestion.queue != "celery":
        console.print(
            "[red]error[/red]: `groundwork worker` runs the scale-out mode; set GROUNDWORK_INGESTION__QUEUE=celery "
            "(and GROUNDWORK_DATABASE__URL to PostgreSQL, GROUNDWORK_CELERY__BROKER_URL to Redis)"
        )
        raise typer.Exit(code=1)
    run_worker(settings, concurrency=concurrency, queues=queue, hostname=hostname)


@app.command()
def job(
    job_id: Annotated[str, typer.Argument(help="Job id (printed by ingest, returned by the API)")],
    follow: Annotated[bool, typer.Option(help="Show a progress bar until the job ends")] = False,
    url: UrlOption = None,
) -> None:
    """Show a job's progress, rate and estimated time to completion."""
    from groundwork.platform.cli.progress import follow_jobs

    settings = _settings()
    try:
        with _backend(settings, url, "job") as backend:
            state = follow_jobs(backend, [job_id], console)[0] if follow else backend.job(job_id)
            failures = backend.failures(job_id) if state.failed else []
    except PlatformError as exc:
        _fail(exc)
        return
    rate = f"{state.docs_per_second:.2f} docs/s" if state.docs_per_second else "-"
    eta = f"{state.eta_seconds:.0f}s" if state.eta_seconds is not None else "unknown"
    out.print(
        f"job {state.id}: {state.status}, {state.done}/{state.total} done, {state.failed} failed, {rate}, ETA {eta}"
    )
    for failure in failures:
        out.print(f"  [yellow]{failure['failure_code']}[/yellow] {failure['source_uri']}: {failure['failure_reason']}")


@app.command()
def retry(
    job_id: Annotated[str, typer.Argument(help="Job whose failed and dead-lettered documents to queue again")],
    url: UrlOption = None,
) -> None:
    """Queue a job's failed and dead-lettered documents again (a new job; fresh attempts)."""
    settings = _settings()
    try:
        with _backend(settings, url, "retry") as backend:
            new_job = backend.retry(job_id)
    except PlatformError as exc:
        _fail(exc)
        return
    out.print(f"job {new_job.id}: {new_job.total} documents queued again")


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A file or a folder (walked recursively)", exists=True)],
    datastore: Annotated[str, typer.Option(help="Datastore name; created if missing")],
    include: Annotated[list[str] | None, typer.Option(help="Glob of files to take (repeatable)")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glob of files to skip (repeatable)")] = None,
    url: UrlOption = None,
) -> None:
    """Ingest documents and show progress until they are indexed. ACLs come from sidecar files
    (`<file>.acl.json`, or `.acl.json` in a folder above it); without one, the default ACL applies."""
    from groundwork.ingestion.sources import DEFAULT_INCLUDE, iter_folder, read_with_shared_source
    from groundwork.platform.access.sidecars import SidecarAcls, is_sidecar
    from groundwork.platform.cli.progress import follow_jobs

    settings = _settings()
    root = path.resolve()
    files = (
        [root] if root.is_file() else list(iter_folder(root, include=include or DEFAULT_INCLUDE, exclude=exclude or ()))
    )
    base = root.parent if root.is_file() else root
    files = [f for f in files if not is_sidecar(f.name)]
    if not files:
        console.print(f"no matching files under {root}")
        raise typer.Exit(code=1)
    listing = [f.relative_to(base).as_posix() for f in base.rglob("*.acl.json")]
    sidecars = SidecarAcls(listing, lambda relative: (base / relative).read_bytes())
    items: list[NewDocument] = []
    refused: list[tuple[Path, str]] = []
    for file in files:
        relative = file.relative_to(base).as_posix()
        try:
            acl = sidecars.acl_for(relative)
        except PlatformError as exc:
            refused.append((file, str(exc)))
            continue
        items.append(
            NewDocument(
                source_uri=file.as_uri(),
                filename=relative,
                data=read_with_shared_source(file, base),
                metadata={"path": relative},
                acl=acl,
            )
        )
    for file, reason in refused:
        console.print(f"  [yellow]refused[/yellow] {file}: {reason}")
    if not items:
        raise typer.Exit(code=2)
    try:
        with _backend(settings, url, "ingest") as backend:
            datastore_id = backend.ensure_datastore(datastore)
            started = time.perf_counter()
            states = follow_jobs(backend, backend.submit(datastore_id, items), console)
            failures = [f for s in states if s.failed for f in backend.failures(s.id)]
    except PlatformError as exc:
        _fail(exc)
        return
    done = sum(s.done for s in states)
    console.print(
        f"{done - len(failures)} of {len(items)} documents indexed into {datastore!r} "
        f"in {time.perf_counter() - started:.1f}s; {len(failures)} failed"
    )
    for failure in failures:
        console.print(
            f"  [yellow]{failure['failure_code']}[/yellow] {failure['source_uri']}: {failure['failure_reason']}"
        )
    if failures or refused:
        raise typer.Exit(code=2)


@app.command("sync")
def sync_source(
    source: Annotated[str, typer.Argument(help="gs://bucket/prefix, or a local folder (without --url)")],
    datastore: Annotated[str, typer.Option(help="Datastore name; created if missing")],
    include: Annotated[list[str] | None, typer.Option(help="Glob of files to take (repeatable)")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glob of files to skip (repeatable)")] = None,
    delete: Annotated[
        bool, typer.Option("--delete/--keep-deleted", help="Remove documents whose file or object is gone")
    ] = True,
    url: UrlOption = None,
) -> None:
    """Make a datastore match a gs:// prefix or a folder: ingest new and changed files, remove deleted ones.

    Run it again whenever the source changes (e.g. from cron): unchanged gs:// objects are not downloaded."""
    from groundwork.platform.cli.progress import follow_jobs

    settings = _settings()
    if not source.startswith("gs://") and "://" not in source:
        source = str(Path(source).resolve())
    try:
        with _backend(settings, url, "sync") as backend:
            datastore_id = backend.ensure_datastore(datastore)
            started = time.perf_counter()
            with console.status(f"listing {source}"):
                report = backend.sync(datastore_id, source, include=include, exclude=exclude or (), delete=delete)
            states = follow_jobs(backend, report.job_ids, console) if report.job_ids else []
            failures = [f for s in states if s.failed for f in backend.failures(s.id)]
    except PlatformError as exc:
        _fail(exc)
        return
    console.print(
        f"{report.source}: {report.selected} of {report.listed} files selected, {report.unchanged} unchanged, "
        f"{report.submitted} read, {report.deleted} deleted; {len(failures)} failed, {len(report.rejected)} refused "
        f"({time.perf_counter() - started:.1f}s)"
    )
    for uri, reason in report.rejected:
        console.print(f"  [yellow]refused[/yellow] {uri}: {reason}")
    for failure in failures:
        console.print(
            f"  [yellow]{failure['failure_code']}[/yellow] {failure['source_uri']}: {failure['failure_reason']}"
        )
    if failures or report.rejected:
        raise typer.Exit(code=2)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to search for")],
    datastore: Annotated[list[str], typer.Option(help="Datastore name or id (repeatable)")],
    top_k: Annotated[int, typer.Option(help="Results to show")] = 5,
    mode: Annotated[SearchMode, typer.Option(help="dense, lexical or hybrid")] = SearchMode.HYBRID,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    url: UrlOption = None,
) -> None:
    """Show the passages that best match a query."""
    settings = _settings()
    try:
        with _backend(settings, url, "search") as backend:
            hits = backend.search(query, datastore, top_k=top_k, mode=mode)
    except PlatformError as exc:
        _fail(exc)
        return
    if as_json:
        out.print_json(json.dumps(hits))
        return
    for rank, hit in enumerate(hits, start=1):
        heading = " > ".join(hit["heading_path"])
        where = f"{hit['source_uri']}" + (f" p.{hit['page']}" if hit.get("page") else "")
        out.print(f"[bold]{rank}. {hit['title']}[/bold]  score={hit['score']:.3f}  {where}")
        if heading:
            out.print(f"   [dim]{heading}[/dim]")
        snippet = " ".join(str(hit["text"]).split())
        out.print(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question")],
    datastore: Annotated[list[str], typer.Option(help="Datastore name or id (repeatable)")],
    url: UrlOption = None,
) -> None:
    """Answer a question from the documents: each claim prints once it is verified against its sources, then the
    cited sources. Nothing unverified is printed (a claim kept but unsupported, `answers.unsupported_claims=flag`,
    is marked)."""
    settings = _settings()
    final: dict[str, Any] = {}
    shown = False
    try:
        with _backend(settings, url, "ask") as backend:
            for event, data in backend.ask(question, datastore):
                if event == "claim":
                    flag = "" if data["verdict"] == "supported" else " [yellow](unverified)[/yellow]"
                    out.print(f"{data['separator']}[bold]{escape(data['text'])}[/bold]{flag}", end="")
                    shown = True
                elif event == "notice":
                    console.print(f"[yellow]{escape(data['text'])}[/yellow]")
                elif event == "done":
                    final = data
    except PlatformError as exc:
        _fail(exc)
        return
    if not shown:
        out.print(f"[bold]{escape(str(final.get('answer', '')))}[/bold]", end="")
    out.print()
    citations: list[dict[str, Any]] = final.get("citations", [])
    if citations:
        out.print("\nSources:")
        for citation in citations:
            where = " > ".join([citation["title"], *citation["heading_path"]][:3])
            page = f" p.{citation['page']}" if citation.get("page") else ""
            out.print(f"  [{citation['number']}] {where} — {citation['source_uri']}{page}")
    closest: list[dict[str, Any]] = final.get("closest_sources") or []
    if final.get("refused") and closest:
        out.print("\nClosest sources:")
        for source in closest:
            where = " > ".join([str(source.get("title", "")), *source.get("heading_path", [])][:3])
            out.print(f"  - {escape(where)} — {source.get('source_uri', '')}")


@app.command("config")
def show_config(
    reference: Annotated[
        bool, typer.Option("--reference", help="Print the Markdown reference of all settings")
    ] = False,
) -> None:
    """Print the effective settings (from the environment) as JSON."""
    from groundwork.platform.config import configuration_reference

    if reference:
        sys.stdout.write(configuration_reference() + "\n")
        return
    out.print_json(Settings().model_dump_json())


@eval_app.command("retrieval")
def eval_retrieval(
    beir: Annotated[
        Path | None, typer.Option(help="A BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/)")
    ] = None,
    pubmedqa: Annotated[Path | None, typer.Option(help="The PubMedQA folder (questions.jsonl, corpus.jsonl)")] = None,
    split: Annotated[str, typer.Option(help="Query split")] = "test",
    datastore: Annotated[str | None, typer.Option(help="Datastore to ingest into (default: eval-<dataset>)")] = None,
    mode: Annotated[list[SearchMode] | None, typer.Option(help="Modes to score (default: all three)")] = None,
    modes: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated modes and fusion variants side by side: dense, lexical, hybrid (the configured "
            "search), rrf, convex, dbsf, spread, calibrated, calibrated-spread; `all` for every one"
        ),
    ] = None,
    docs: Annotated[
        Path | None, typer.Option(help="Documentation folder that is the corpus of a queries+qrels-only --beir set")
    ] = None,
    limit_docs: Annotated[
        int | None, typer.Option(help="Ingest only the first N corpus documents (smoke runs)")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help="JSON results file")] = None,
    url: UrlOption = None,
) -> None:
    """Ingest a retrieval dataset through the normal path and report nDCG@10, Recall@10/100, MRR@10."""
    from rich.progress import Progress

    from groundwork.platform.cli.progress import follow_jobs
    from groundwork.platform.eval.datasets import RetrievalDataset, load_beir, load_pubmedqa
    from groundwork.platform.eval.retrieval import corpus_documents
    from groundwork.platform.eval.runs import datastore_calibration, parse_modes, score_modes

    if (beir is None) == (pubmedqa is None):
        console.print("name exactly one of --beir or --pubmedqa")
        raise typer.Exit(code=1)
    settings = _settings()
    try:
        dataset: RetrievalDataset = load_beir(beir, split, docs) if beir else load_pubmedqa(pubmedqa, split)  # type: ignore[arg-type]
        selected_modes = parse_modes(modes) if modes else [m.value for m in mode or SearchMode]
    except PlatformError as exc:
        _fail(exc)
        return
    if limit_docs:
        kept = dataset.corpus[:limit_docs]
        ids = {d.id for d in kept}
        qrels = {q: r for q, r in dataset.qrels.items() if ids.intersection(r)}
        dataset = type(dataset)(dataset.name, kept, {q: dataset.queries[q] for q in qrels}, qrels)
    name = datastore or f"eval-{dataset.name}"
    results = []
    try:
        with _backend(settings, url, "eval") as backend:
            datastore_id = backend.ensure_datastore(name)
            started = time.perf_counter()
            follow_jobs(backend, backend.submit(datastore_id, corpus_documents(dataset)), console)
            ingest_seconds = time.perf_counter() - started
            with Progress(console=console) as progress:
                results = score_modes(backend, dataset, datastore_id, selected_modes, progress, strict=modes != "all")
            calibration = datastore_calibration(backend, datastore_id)
    except PlatformError as exc:
        _fail(exc)
        return
    table = Table(title=f"{dataset.name} ({split}): {len(dataset.queries)} queries, {len(dataset.corpus)} documents")
    for column in ("mode", "nDCG@10", "Recall@10", "Recall@100", "MRR@10", "ms/query"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            r.mode,
            f"{r.ndcg_at_10:.4f}",
            f"{r.recall_at_10:.4f}",
            f"{r.recall_at_100:.4f}",
            f"{r.mrr_at_10:.4f}",
            f"{1000 * r.seconds / max(1, r.queries):.1f}",
        )
    out.print(table)
    report = {
        "dataset": dataset.name,
        "split": split,
        "documents": len(dataset.corpus),
        "queries": len(dataset.queries),
        "ingest_seconds": ingest_seconds,
        "retrieval": settings.retrieval.model_dump(mode="json"),
        "calibration": calibration.as_dict() if calibration else None,
        "chunking": settings.chunking.model_dump(),
        "embedding_model": settings.embedding.model,
        "embedding": {"backend": settings.embedding.backend, "precision": settings.embedding.precision},
        "results": [r.as_dict() for r in results],
    }
    target = output or Path("eval-results") / f"retrieval-{dataset.name}-{split}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2))
    console.print(f"wrote {target}")


@eval_app.command("answers")
def eval_answers(
    dapr: Annotated[Path | None, typer.Option(help="The Dapr docs folder; asks the packaged Dapr question set")] = None,
    pubmedqa: Annotated[Path | None, typer.Option(help="The PubMedQA folder (questions.jsonl, corpus.jsonl)")] = None,
    chat: Annotated[
        Path | None, typer.Option(help="The engdocs folder; asks the packaged chat-style set (--corpus, --split)")
    ] = None,
    corpus: Annotated[str, typer.Option(help="With --chat: the corpus folder, e.g. fastapi-docs-en")] = "",
    split: Annotated[str | None, typer.Option(help="With --chat: tune or held-out (default: both)")] = None,
    limit: Annotated[int | None, typer.Option(help="Ask only the first N questions (answerable and not)")] = None,
    output: Annotated[Path | None, typer.Option("--out", help="JSON results file")] = None,
    url: UrlOption = None,
) -> None:
    """Ask a question set through the answer flow; report citation precision, key-fact recall, refusal
    accuracy, groundedness and time to first token."""
    from rich.progress import Progress

    from groundwork.ingestion.sources import iter_folder, read_with_shared_source
    from groundwork.platform.cli.progress import follow_jobs
    from groundwork.platform.eval.answer_sets import AnswerQuestion, load_chat_questions, load_dapr_questions
    from groundwork.platform.eval.answers import ask_all
    from groundwork.platform.eval.datasets import load_pubmedqa, pubmedqa_long_answers
    from groundwork.platform.eval.retrieval import corpus_documents

    if sum(option is not None for option in (dapr, pubmedqa, chat)) != 1:
        console.print("name exactly one of --dapr, --pubmedqa or --chat")
        raise typer.Exit(code=1)
    settings = _settings()
    if chat is not None:  # the chat set: one corpus of the engdocs folder, asked like the Dapr set
        try:
            questions = load_chat_questions(corpus, split)
        except PlatformError as exc:
            _fail(exc)
            return
        dapr, name = chat / corpus, f"eval-{corpus}"
    if dapr is not None:
        root = dapr.resolve()
        if chat is None:
            name, questions = "eval-dapr", load_dapr_questions()
        items = [
            NewDocument(
                source_uri=f.as_uri(),
                filename=f.relative_to(root).as_posix(),
                data=read_with_shared_source(f, root),
                metadata={"path": f.relative_to(root).as_posix()},
            )
            for f in iter_folder(root, include=["*.md"])
        ]

        def source_of(uri: str) -> str:
            return Path(uri.removeprefix("file://")).relative_to(root).as_posix()

    else:
        dataset = load_pubmedqa(pubmedqa, "test")  # type: ignore[arg-type]
        name, items = "eval-pubmedqa", corpus_documents(dataset)
        long_answers = pubmedqa_long_answers(pubmedqa)  # type: ignore[arg-type]
        questions = [
            AnswerQuestion(
                id=q,
                question=text,
                answerable=True,
                gold_files=tuple(dataset.qrels[q]),
                reference_answer=long_answers.get(q, ""),
            )
            for q, text in dataset.queries.items()
        ]

        def source_of(uri: str) -> str:
            return uri.rsplit("/", 1)[-1]

    if limit:
        answerable = [q for q in questions if q.answerable]
        unanswerable = [q for q in questions if not q.answerable]
        share = max(1, round(limit * len(unanswerable) / len(questions))) if unanswerable else 0
        questions = answerable[: limit - share] + unanswerable[:share]
    try:
        with _backend(settings, url, "eval") as backend:
            datastore_id = backend.ensure_datastore(name)
            follow_jobs(backend, backend.submit(datastore_id, items), console)
            with Progress(console=console) as progress:
                task = progress.add_task("asking", total=len(questions))
                report = ask_all(backend, datastore_id, questions, source_of, partial(progress.advance, task))
    except PlatformError as exc:
        _fail(exc)
        return
    summary = report.summary()
    table = Table(title=f"{name}: {len(questions)} questions")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, "-" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value)))
    out.print(table)
    target = output or Path("eval-results") / f"answers-{name}{f'-{split}' if split else ''}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({"summary": summary, "outcomes": [o.__dict__ for o in report.outcomes]}, indent=2, default=str)
    )
    console.print(f"wrote {target}")


@eval_app.command("injection")
def eval_injection(
    output: Annotated[Path | None, typer.Option("--out", help="JSON results file")] = None,
    url: UrlOption = None,
) -> None:
    """Run the prompt-injection suite through the answer flow: attack success rate and exfiltrating answers."""
    from rich.progress import Progress

    from groundwork.platform.cli.progress import follow_jobs
    from groundwork.platform.eval.injection import load_cases, run_suite, shown_from_events

    settings = _settings()
    cases = load_cases()
    items = [
        NewDocument(source_uri=f"suite://injection/{c.id}.md", filename=f"{c.id}.md", data=c.text.encode())
        for c in cases
    ]
    try:
        with _backend(settings, url, "eval") as backend:
            datastore_id = backend.ensure_datastore("eval-injection")
            follow_jobs(backend, backend.submit(datastore_id, items), console)
            with Progress(console=console) as progress:
                task = progress.add_task("attacking", total=len(cases))
                report = run_suite(
                    cases,
                    lambda question: shown_from_events(list(backend.ask(question, [datastore_id]))),
                    partial(progress.advance, task),
                )
    except PlatformError as exc:
        _fail(exc)
        return
    table = Table(title=f"prompt injection: {len(cases)} attacks")
    for column in ("attack", "kind", "succeeded", "exfiltrated", "final answer"):
        table.add_column(column)
    for outcome in report.outcomes:
        answer = " ".join(outcome.final.split())
        table.add_row(outcome.id, outcome.attack, str(outcome.succeeded), str(outcome.exfiltrated), answer[:80])
    out.print(table)
    summary = report.summary()
    rate, leaks = summary["attack_success_rate"], summary["exfiltrating_answers"]
    out.print(f"attack success rate {rate:.2f}; exfiltrating answers {leaks}")
    target = output or Path("eval-results") / "injection.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({"summary": summary, "outcomes": [o.__dict__ for o in report.outcomes]}, indent=2, default=str)
    )
    console.print(f"wrote {target}")
    if summary["exfiltrating_answers"]:
        raise typer.Exit(code=2)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM (kill, systemd, Kubernetes) unwinds like Ctrl-C, so a local vLLM server is stopped, not orphaned."""
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted; queued documents resume on the next start")
        sys.exit(130)
