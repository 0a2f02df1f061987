"""The packaged chat-style question set: size, share of unanswerable questions, a fixed split, and key facts
that occur in their gold files."""

from __future__ import annotations

import re

import pytest

from groundwork.platform.errors import InvalidRequestError
from groundwork.platform.eval.answer_sets import load_chat_questions

from ..conftest import shared_data


def test_the_set_spans_two_corpora_with_a_quarter_unanswerable() -> None:
    questions = load_chat_questions()
    assert len(questions) >= 120
    assert {q.corpus for q in questions} == {"fastapi-docs-en", "argo-cd-docs"}
    assert sum(not q.answerable for q in questions) >= 0.25 * len(questions)


def test_the_split_is_fixed_by_the_id_and_covers_every_question() -> None:
    tune, held_out = load_chat_questions(split="tune"), load_chat_questions(split="held-out")
    assert tune and held_out and not {q.id for q in tune} & {q.id for q in held_out}
    assert len(tune) + len(held_out) == len(load_chat_questions())
    assert [q.id for q in load_chat_questions("argo-cd-docs", "tune")] == [
        q.id for q in tune if q.corpus == "argo-cd-docs"
    ]
    with pytest.raises(InvalidRequestError):
        load_chat_questions(split="train")
    with pytest.raises(InvalidRequestError):
        load_chat_questions("dapr-docs")


def test_key_facts_occur_in_a_gold_file() -> None:
    for question in load_chat_questions():
        texts = []
        for gold in question.gold_files:
            path = shared_data("engdocs", question.corpus, gold)
            if not path.exists():
                pytest.skip(f"{path} is not available")
            texts.append(re.sub(r"\s+", " ", path.read_text()).casefold())
        for fact in question.key_facts:
            assert any(re.sub(r"\s+", " ", fact).casefold() in text for text in texts), (question.id, fact)
