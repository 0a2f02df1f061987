"""Measure what each pre-generation answer gate buys: questions it refuses, answerable and not.

    GROUNDWORK_DATA_DIR=/tmp/gw13-argo GROUNDWORK_GENERATION__BACKEND=none nice -n 10 \
        python bench/answer_gates.py --chat ../shared/data/engdocs --corpus argo-cd-docs --split tune

Ingests the corpus (a no-op when the data dir already holds it), asks every question once through the real
answer flow with all gates off (extractive when no model is configured), then evaluates each gate policy on
the same retrieval: a policy's outcome for a question is a refusal when its gates refuse, else the ungated
answer (the gates run before generation, so this is exact). Prints, per policy, the answerable questions
answered, the unanswerable refused, key-fact recall and citation precision. A gate earns its place when the
unanswerable questions it refuses outnumber the answerable ones it refuses. Writes JSON (`--out`).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from groundwork.ingestion.sources import iter_folder, read_with_shared_source
from groundwork.platform.access.principal import Principal
from groundwork.platform.answers.gates import GatePolicy, check_names, check_vocabulary
from groundwork.platform.backends import LocalBackend
from groundwork.platform.config import Settings
from groundwork.platform.documents import NewDocument
from groundwork.platform.eval.answer_sets import load_chat_questions
from groundwork.platform.eval.answers import AnswerReport, ask_all
from groundwork.platform.search import SearchQuery
from groundwork.platform.services import Services, build_services

POLICIES = {
    "all off": GatePolicy(names="off", vocabulary="off"),
    "names: refuse": GatePolicy(names="refuse", names_caveat_relevance=2.0, vocabulary="off"),
    "names: refuse < 0.55, caveat above": GatePolicy(names="refuse", names_caveat_relevance=0.55, vocabulary="off"),
    "names: refuse < 0.45, caveat above": GatePolicy(names="refuse", names_caveat_relevance=0.45, vocabulary="off"),
    "vocabulary: any unknown word": GatePolicy(names="off", vocabulary="refuse", vocabulary_max_unknown=0),
    "vocabulary: 2+ unknown words": GatePolicy(names="off", vocabulary="refuse", vocabulary_max_unknown=1),
    "default": GatePolicy(),
}


def gate_decisions(services: Services, principal: Principal, datastore: str, question: str) -> dict[str, str | None]:
    """Per policy: the refusal notice of the gates before generation, or None when they let it through."""
    settings = services.answers.settings
    hits = services.search.search(
        SearchQuery(query=question, datastore_ids=[datastore], top_k=settings.top_k), principal
    ).hits
    relevant = [h for h in hits if (h.dense_score or 0.0) >= settings.min_relevance]
    if not relevant:
        return dict.fromkeys(POLICIES, "no relevant passage")
    best = max(h.dense_score or 0.0 for h in relevant)
    texts = [f"{h.title} {' '.join(h.heading_path)} {h.text}" for h in relevant]

    def unknown(words: Sequence[str]) -> list[str]:
        return services.search.unmentioned_words(
            words, [datastore], principal, min_chunks=settings.vocabulary_min_chunks
        )

    decided: dict[str, str | None] = {}
    for name, policy in POLICIES.items():
        verdict = check_names(question, texts, best, policy)
        if not verdict.refuse and settings.vocabulary_min_chunks and best < settings.vocabulary_max_relevance:
            verdict = check_vocabulary(question, unknown, policy)
        decided[name] = verdict.notice if verdict.refuse else None
    return decided


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chat", type=Path, required=True, help="the engdocs folder")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--split", default="tune")
    parser.add_argument("--out", type=Path, default=Path("eval-results/answer-gates.json"))
    args = parser.parse_args()
    root = (args.chat / args.corpus).resolve()
    questions = load_chat_questions(args.corpus, args.split)
    services = build_services(Settings(), owner="bench answer_gates", recover=False)
    backend = LocalBackend(services)
    try:
        datastore = backend.ensure_datastore(f"eval-{args.corpus}")
        items = [
            NewDocument(
                source_uri=f.as_uri(),
                filename=f.relative_to(root).as_posix(),
                data=read_with_shared_source(f, root),
                metadata={"path": f.relative_to(root).as_posix()},
            )
            for f in iter_folder(root, include=["*.md"])
        ]
        for job in backend.submit(datastore, items):
            while not backend.job(job).finished:
                time.sleep(1)

        def source_of(uri: str) -> str:
            return Path(uri.removeprefix("file://")).relative_to(root).as_posix()

        services.answers._settings = replace(base := services.answers.settings, gates=POLICIES["all off"])
        ungated = {o.id: o for o in ask_all(backend, datastore, questions, source_of).outcomes}
        services.answers._settings = base
        decisions = {q.id: gate_decisions(services, backend.principal, datastore, q.question) for q in questions}
        results: dict[str, Any] = {}
        for name in POLICIES:
            report = AnswerReport()
            for question in questions:
                outcome = replace(ungated[question.id])
                why = decisions[question.id][name]
                if why is not None:
                    outcome.refused, outcome.mode, outcome.notice, outcome.cited_sources = True, "refusal", why, []
                    outcome.answer, outcome.key_fact_recall = "", 0.0 if question.key_facts else None
                report.outcomes.append(outcome)
            summary = report.summary()
            results[name] = {
                "summary": summary,
                "refused_by_gate": {k: v[name] for k, v in decisions.items() if v[name]},
            }
            print(
                f"{name:40s} answered {summary['answered_rate_answerable']:.2f}  "
                f"refused-unanswerable {summary['refusal_accuracy_unanswerable'] or 0:.2f}  "
                f"key-facts {summary['key_fact_recall'] or 0:.2f}  precision {summary['citation_precision'] or 0:.2f}",
                flush=True,
            )
        results["ungated"] = {"outcomes": [o.__dict__ for o in ungated.values()]}
    finally:
        backend.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
