from __future__ import annotations

from pathlib import Path

import numpy as np

from groundwork.retrieval.tantivy_index import TantivyLexicalIndex


def test_bm25_ranks_stemmed_matches(tmp_path: Path) -> None:
    index = TantivyLexicalIndex(tmp_path / "lex")
    index.add([1, 2, 3], ["Installing the sidecar", "Configure state stores", "The sidecar installs itself"])
    index.commit()
    hits = index.search("install sidecar", 10)
    assert {h.id for h in hits} == {1, 3}
    assert index.search("kubernetes", 10) == []


def test_changes_are_visible_after_commit_and_durable(tmp_path: Path) -> None:
    index = TantivyLexicalIndex(tmp_path / "lex")
    index.add([1, 2], ["alpha beta", "gamma delta"])
    index.commit()
    index.remove([1])
    index.add([2], ["alpha replaced"])
    assert index.count == 2  # staged, not yet committed
    index.commit()
    assert index.count == 1
    assert [h.id for h in index.search("alpha", 5)] == [2]
    index.close()
    reopened = TantivyLexicalIndex(tmp_path / "lex")
    assert reopened.count == 1
    assert [h.id for h in reopened.search("alpha", 5)] == [2]


def test_filter_applies_before_ranking_and_query_syntax_is_literal(tmp_path: Path) -> None:
    index = TantivyLexicalIndex(tmp_path / "lex")
    index.add(list(range(20)), [f"shared term document {i}" for i in range(20)])
    index.commit()
    hits = index.search("shared term", 5, np.array([17, 18], dtype=np.int64))
    assert sorted(h.id for h in hits) == [17, 18]
    assert index.search('shared AND (term) "unbalanced: ~*', 3)
    assert index.search("shared\xa0term\u2009document\t1", 3)
    assert index.search("shared", 5, np.array([], dtype=np.int64)) == []
