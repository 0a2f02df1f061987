"""The Dapr answer-evaluation question set: its schema, its counts, and that every gold file, key fact and
evidence sentence really is in the Dapr docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from groundwork.platform.errors import InvalidRequestError
from groundwork.platform.eval.answer_sets import (
    DAPR_QUESTIONS,
    AnswerQuestion,
    key_fact_recall,
    load_dapr_questions,
    load_questions,
    normalise,
    reference_word_recall,
)

DAPR_DOCS = Path(__file__).resolve().parents[3] / "shared" / "data" / "engdocs" / "dapr-docs"

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")  # [text](url) and [text]({{< ref x >}}) -> text
_REF_LINK = re.compile(r"\[([^\]]*)\]\[[^\]]*\]")  # [text][label] -> text
_MARKUP = re.compile(r"[`*_|]")  # code spans, emphasis and table pipes


def plain(text: str) -> str:
    """Markdown reduced to its words, for comparing an evidence sentence with its source file."""
    text = _REF_LINK.sub(r"\1", _LINK.sub(r"\1", text))
    return normalise(_MARKUP.sub("", text))


@pytest.fixture(scope="module")
def questions() -> list[AnswerQuestion]:
    return load_dapr_questions()


@pytest.fixture(scope="module")
def docs_root() -> Path:
    if not DAPR_DOCS.is_dir():
        pytest.skip(f"the Dapr docs are not present at {DAPR_DOCS}")
    return DAPR_DOCS


def test_the_set_ships_inside_the_package() -> None:
    assert DAPR_QUESTIONS.is_file()
    assert DAPR_QUESTIONS.parent.name == "data"


def test_every_line_has_the_documented_fields() -> None:
    lines = [line for line in DAPR_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in lines:
        row = json.loads(line)
        assert {"id", "question", "answerable", "gold_files", "key_facts"} <= set(row), row
        if row["answerable"]:
            assert row["evidence"].strip(), row["id"]
        else:
            assert row["why_unanswerable"].strip(), row["id"]


def test_counts_and_unique_ids(questions: list[AnswerQuestion]) -> None:
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    assert len(answerable) >= 40
    assert len(unanswerable) >= 10
    ids = [q.id for q in questions]
    assert len(ids) == len(set(ids))
    assert len({normalise(q.question) for q in questions}) == len(questions), "a question is repeated"


def test_answerable_questions_are_well_formed(questions: list[AnswerQuestion]) -> None:
    for q in questions:
        if not q.answerable:
            assert q.gold_files == () and q.key_facts == () and q.why_unanswerable, q.id
            continue
        assert 1 <= len(q.gold_files) <= 3, q.id
        assert 1 <= len(q.key_facts) <= 4, q.id
        assert all(fact.strip() and len(fact) <= 60 for fact in q.key_facts), q.id
        assert all(not Path(gold).is_absolute() and ".." not in Path(gold).parts for gold in q.gold_files), q.id
        assert q.question.endswith("?"), q.id
        assert q.topic, q.id


def test_the_set_covers_the_building_blocks_and_operations(questions: list[AnswerQuestion]) -> None:
    topics = {q.topic for q in questions if q.answerable}
    expected = {
        "state management",
        "pub/sub",
        "service invocation",
        "bindings",
        "actors",
        "secrets",
        "configuration",
        "workflow",
        "observability",
        "resiliency",
        "security",
        "CLI",
        "kubernetes operations",
        "self-hosted operations",
        "components",
    }
    assert expected <= topics, expected - topics


def test_every_gold_file_exists(questions: list[AnswerQuestion], docs_root: Path) -> None:
    missing = [(q.id, gold) for q in questions for gold in q.gold_files if not (docs_root / gold).is_file()]
    assert not missing


def test_every_key_fact_is_literally_in_a_gold_file(questions: list[AnswerQuestion], docs_root: Path) -> None:
    missing = []
    for q in questions:
        texts = [normalise((docs_root / gold).read_text(encoding="utf-8")) for gold in q.gold_files]
        missing += [(q.id, fact) for fact in q.key_facts if not any(normalise(fact) in text for text in texts)]
    assert not missing


def test_every_evidence_sentence_is_in_a_gold_file(questions: list[AnswerQuestion], docs_root: Path) -> None:
    missing = []
    for q in questions:
        if not q.answerable:
            continue
        texts = [plain((docs_root / gold).read_text(encoding="utf-8")) for gold in q.gold_files]
        if not any(plain(q.evidence) in text for text in texts):
            missing.append(q.id)
    assert not missing


def test_unanswerable_questions_name_nothing_the_docs_answer(questions: list[AnswerQuestion], docs_root: Path) -> None:
    """A few distinctive terms of each unanswerable question must not occur anywhere in the docs."""
    corpus = " ".join(normalise(path.read_text(encoding="utf-8")) for path in docs_root.rglob("*.md"))
    absent = ["fortune 500", "github stars", "envoy", "maxmemory", "jvm", "pricing", "dapr 2.0"]
    assert [term for term in absent if term in corpus] == []
    assert all(not q.answerable for q in questions if q.id.startswith("dapr-u"))


def test_key_fact_recall_counts_the_facts_present() -> None:
    question = AnswerQuestion(
        id="q", question="Ports?", answerable=True, gold_files=("a.md",), key_facts=("3500", "--App-Port", "etag")
    )
    assert key_fact_recall("Dapr listens on 3500; pass --app-port and an ETag.", question) == 1.0
    assert key_fact_recall("The HTTP port is 3500 and you set --app-port.", question) == pytest.approx(2 / 3)
    assert key_fact_recall("", question) == 0.0


def test_key_fact_recall_normalises_case_and_whitespace() -> None:
    question = AnswerQuestion(id="q", question="Q?", answerable=True, gold_files=("a.md",), key_facts=("1 in 10,000",))
    assert key_fact_recall("Sampling is 1\n  IN   10,000 traces by default", question) == 1.0
    assert key_fact_recall("Sampling is 1 in 10000", question) == 0.0


def test_key_fact_recall_is_vacuous_without_key_facts() -> None:
    question = AnswerQuestion(id="q", question="Q?", answerable=False, why_unanswerable="not in the docs")
    assert key_fact_recall("The docs do not say.", question) == 1.0


def test_the_loader_rejects_a_malformed_set(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    good = {"id": "a", "question": "Q?", "answerable": True, "gold_files": ["x.md"], "key_facts": ["x"]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    with pytest.raises(InvalidRequestError, match="duplicate id"):
        load_questions(path)
    path.write_text(json.dumps({**good, "key_facts": []}) + "\n", encoding="utf-8")
    with pytest.raises(InvalidRequestError, match="needs gold_files and key_facts"):
        load_questions(path)
    path.write_text(json.dumps({**good, "answerable": False}) + "\n", encoding="utf-8")
    with pytest.raises(InvalidRequestError, match="unanswerable"):
        load_questions(path)
    with pytest.raises(InvalidRequestError, match="does not exist"):
        load_questions(tmp_path / "missing.jsonl")


def test_reference_word_recall_is_the_share_of_the_reference_words_stated() -> None:
    reference = "Mitochondria play a critical role in programmed cell death."
    assert reference_word_recall("Mitochondria play a critical role in programmed cell death [1].", reference) == 1.0
    assert reference_word_recall("Cell death was studied.", reference) == pytest.approx(2 / 7)
    assert reference_word_recall("anything", "") == 1.0
