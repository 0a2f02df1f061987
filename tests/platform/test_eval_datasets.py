"""Qrels and BEIR folders as `groundwork eval retrieval` reads them: with or without a header, TREC's four
columns, graded relevance, and malformed files refused with the line at fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundwork.platform.errors import InvalidRequestError
from groundwork.platform.eval.datasets import load_beir, read_qrels
from groundwork.platform.eval.runs import parse_modes
from groundwork.retrieval.metrics import ndcg_at_k

from ..conftest import shared_data


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_headerless_and_headed_qrels_read_the_same(tmp_path: Path) -> None:
    rows = "q1\td1\t1\nq1\td2\t2\nq2\td3\t0\n"
    headed = read_qrels(_write(tmp_path / "a.tsv", "query-id\tcorpus-id\tscore\n" + rows))
    headerless = read_qrels(_write(tmp_path / "b.tsv", rows))
    assert headed == headerless == {"q1": {"d1": 1, "d2": 2}, "q2": {"d3": 0}}


def test_trec_four_columns_and_spaces(tmp_path: Path) -> None:
    qrels = read_qrels(_write(tmp_path / "trec.txt", "301 0 FBIS3-10082 1\n301 0 FBIS3-10169 0\n302 Q0 X 2\n"))
    assert qrels == {"301": {"FBIS3-10082": 1, "FBIS3-10169": 0}, "302": {"X": 2}}


def test_graded_relevance_reaches_ndcg(tmp_path: Path) -> None:
    qrels = read_qrels(_write(tmp_path / "g.tsv", "q\tgood\t2\nq\tfair\t1\n"))["q"]
    assert ndcg_at_k(["good", "fair"], qrels, 10) == 1.0
    assert ndcg_at_k(["fair", "good"], qrels, 10) < 1.0


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("query-id\tcorpus-id\tscore\nq1\td1\n", 2, "expected 3 columns"),
        ("q1\td1\t1\nq1\td2\trelevant\n", 2, "not an integer"),
        ("q1\td1\t1\nq1 d2 x y z\n", 2, "got 5"),
        ("q1\td1\t1.5\n", 1, "not an integer"),
        ("\n\n", None, "no relevance judgements"),
    ],
)
def test_malformed_qrels_name_the_line(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    path = _write(tmp_path / "bad.tsv", text)
    with pytest.raises(InvalidRequestError) as caught:
        read_qrels(path)
    message = str(caught.value)
    assert words in message
    if line is not None:
        assert f"{path}:{line}:" in message


def test_a_beir_folder_with_a_headerless_qrels_file_loads(tmp_path: Path) -> None:
    _write(tmp_path / "corpus.jsonl", json.dumps({"_id": "d1", "title": "T", "text": "alpha"}) + "\n")
    _write(tmp_path / "queries.jsonl", json.dumps({"_id": "q1", "text": "alpha?"}) + "\n")
    _write(tmp_path / "qrels" / "test.tsv", "q1\td1\t1\n")
    dataset = load_beir(tmp_path)
    assert dataset.queries == {"q1": "alpha?"} and dataset.qrels == {"q1": {"d1": 1}}
    _write(tmp_path / "queries.jsonl", '{"_id": "q1", "text": "alpha?"}\n{"_id": "q2", "te\n')
    with pytest.raises(InvalidRequestError, match=r"queries.jsonl:2: not a JSON object"):
        load_beir(tmp_path)


def test_packaged_docs_sets_build_their_corpus_from_the_docs_folder() -> None:
    root = Path(__file__).resolve().parents[2] / "platform/src/groundwork/platform/eval/data/retrieval"
    dataset = load_beir(root / "argocd", docs=shared_data("engdocs", "argo-cd-docs"))
    ids = {doc.id for doc in dataset.corpus}
    assert len(dataset.queries) >= 30
    assert all(doc in ids for judged in dataset.qrels.values() for doc in judged)
    assert {doc.mime_type for doc in dataset.corpus} == {"text/markdown"}
    with pytest.raises(InvalidRequestError, match="--docs"):
        load_beir(root / "dapr")


def test_modes_parse_and_refuse_unknown_names() -> None:
    assert parse_modes("dense, hybrid,rrf,dense") == ["dense", "hybrid", "rrf"]
    assert "calibrated-spread" in parse_modes("all")
    with pytest.raises(InvalidRequestError, match="unknown mode"):
        parse_modes("dense,best")


def test_eval_retrieval_modes_side_by_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from groundwork.platform.cli.main import app

    folder = tmp_path / "tiny"
    docs = {
        "d1": ("Vitamin D", "Vitamin D deficiency is common in winter and weakens bones."),
        "d2": ("Kubernetes", "A deployment keeps the requested number of pod replicas running."),
        "d3": ("Coffee", "Caffeine blocks adenosine receptors and keeps people awake."),
    }
    _write(
        folder / "corpus.jsonl",
        "".join(json.dumps({"_id": k, "title": t, "text": x}) + "\n" for k, (t, x) in docs.items()),
    )
    _write(folder / "queries.jsonl", json.dumps({"_id": "q1", "text": "why do bones get weak in winter"}) + "\n")
    _write(folder / "qrels" / "test.tsv", "q1\td1\t2\n")  # headerless, graded
    monkeypatch.setenv("GROUNDWORK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GROUNDWORK_GENERATION__BACKEND", "none")
    out = tmp_path / "report.json"
    runner = CliRunner()
    result = runner.invoke(
        app, ["eval", "retrieval", "--beir", str(folder), "--modes", "dense,hybrid,rrf,spread", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    scores = {row["mode"]: row["ndcg_at_10"] for row in json.loads(out.read_text())["results"]}
    assert list(scores) == ["dense", "hybrid", "rrf", "spread"] and scores["hybrid"] == 1.0
    refused = runner.invoke(app, ["eval", "retrieval", "--beir", str(folder), "--modes", "calibrated"])
    assert refused.exit_code == 1 and "calibration" in refused.output
