"""Question sets for answer evaluation: questions over a document corpus with gold files and key facts.

A set is JSON Lines, one question per line. Answerable questions name the files that state the answer
(`gold_files`, relative to the corpus root) and short `key_facts` copied from those files; a correct
answer contains every key fact. Unanswerable questions have no gold files and no key facts: the right
response is to say the documents do not answer them. See docs/eval-dapr-questions.md.

The chat set (`chat_questions.jsonl`) spans several corpora of `../shared/data/engdocs`: each question names
its `corpus` (a folder there), and gold files are relative to that folder. It is split once, by a hash of
the id, into a `tune` half (the answer gates were adjusted on it) and a `held-out` half (never looked at
while tuning); docs/evaluation.md reports both.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import Stemmer

from groundwork.platform.answers.answerability import content_words
from groundwork.platform.errors import InvalidRequestError

_STEMMER = Stemmer.Stemmer("english")
DATA_DIR = Path(__file__).parent / "data"
DAPR_QUESTIONS = DATA_DIR / "dapr_questions.jsonl"
CHAT_QUESTIONS = DATA_DIR / "chat_questions.jsonl"
SPLITS = ("tune", "held-out")

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class AnswerQuestion:
    id: str
    question: str
    answerable: bool
    topic: str = ""
    gold_files: tuple[str, ...] = ()
    key_facts: tuple[str, ...] = ()
    evidence: str = ""
    why_unanswerable: str = ""
    reference_answer: str = ""
    """A reference answer written by people (PubMedQA's long answers); scored by `reference_word_recall`."""
    corpus: str = ""
    """The engdocs folder the gold files are relative to (chat set); empty for single-corpus sets."""

    @property
    def split(self) -> str:
        """`tune` or `held-out`, fixed by the id alone (the first byte of its SHA-256, even or odd)."""
        return SPLITS[hashlib.sha256(self.id.encode()).digest()[0] % 2]


def normalise(text: str) -> str:
    """Case-folded, with every run of whitespace collapsed to one space."""
    return _WHITESPACE.sub(" ", text).strip().casefold()


def _strings(value: object, field: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequestError(f"{where}: {field} must be a list of strings")
    return tuple(value)


def _question(row: object, where: str) -> AnswerQuestion:
    if not isinstance(row, dict):
        raise InvalidRequestError(f"{where}: each line must be a JSON object")
    for field in ("id", "question"):
        if not isinstance(row.get(field), str) or not row[field].strip():
            raise InvalidRequestError(f"{where}: {field} must be a non-empty string")
    if not isinstance(row.get("answerable"), bool):
        raise InvalidRequestError(f"{where}: answerable must be true or false")
    question = AnswerQuestion(
        id=row["id"],
        question=row["question"],
        answerable=row["answerable"],
        topic=str(row.get("topic") or ""),
        gold_files=_strings(row.get("gold_files", []), "gold_files", where),
        key_facts=_strings(row.get("key_facts", []), "key_facts", where),
        evidence=str(row.get("evidence") or ""),
        why_unanswerable=str(row.get("why_unanswerable") or ""),
        corpus=str(row.get("corpus") or ""),
    )
    if question.answerable and not (question.gold_files and question.key_facts):
        raise InvalidRequestError(f"{where}: an answerable question needs gold_files and key_facts")
    if not question.answerable and (question.gold_files or question.key_facts):
        raise InvalidRequestError(f"{where}: an unanswerable question has no gold_files and no key_facts")
    return question


def load_questions(path: Path) -> list[AnswerQuestion]:
    """Every question in a JSON Lines set; ids must be unique."""
    if not path.exists():
        raise InvalidRequestError(f"{path} does not exist")
    questions: list[AnswerQuestion] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidRequestError(f"{where}: not valid JSON ({exc.msg})") from exc
            question = _question(row, where)
            if question.id in seen:
                raise InvalidRequestError(f"{where}: duplicate id {question.id!r}")
            seen.add(question.id)
            questions.append(question)
    return questions


def load_dapr_questions(path: Path = DAPR_QUESTIONS) -> list[AnswerQuestion]:
    """The packaged Dapr documentation set (gold files are relative to the dapr-docs root)."""
    return load_questions(path)


def load_chat_questions(
    corpus: str | None = None, split: str | None = None, path: Path = CHAT_QUESTIONS
) -> list[AnswerQuestion]:
    """The packaged chat-style set, optionally one corpus's questions and one half (`tune` / `held-out`)."""
    if split is not None and split not in SPLITS:
        raise InvalidRequestError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    questions = load_questions(path)
    corpora = sorted({q.corpus for q in questions})
    if corpus is not None and corpus not in corpora:
        raise InvalidRequestError(f"the chat set has no corpus {corpus!r} (it has {', '.join(corpora)})")
    return [q for q in questions if corpus in (None, q.corpus) and split in (None, q.split)]


def reference_word_recall(answer_text: str, reference: str) -> float:
    """Share of the reference answer's content words (stemmed, question and function words aside) that the
    answer contains: a lenient overlap score for sets whose answers are prose, not short key facts."""
    wanted = set(_STEMMER.stemWords(content_words(reference)))
    if not wanted:
        return 1.0
    present = set(_STEMMER.stemWords(content_words(answer_text)))
    return len(wanted & present) / len(wanted)


def key_fact_recall(answer_text: str, question: AnswerQuestion) -> float:
    """Share of the question's key facts found in the answer (case-insensitive, whitespace-normalised).

    A question without key facts (an unanswerable one) scores 1.0: there is nothing to recall.
    """
    if not question.key_facts:
        return 1.0
    answer = normalise(answer_text)
    found = sum(1 for fact in question.key_facts if normalise(fact) in answer)
    return found / len(question.key_facts)
