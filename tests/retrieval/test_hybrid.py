from groundwork.retrieval.hybrid import FusionConfig, fuse
from groundwork.retrieval.types import ScoredId


def test_rrf_rewards_agreement_between_rankers() -> None:
    dense = [ScoredId(1, 0.9), ScoredId(2, 0.8), ScoredId(3, 0.7)]
    lexical = [ScoredId(3, 12.0), ScoredId(4, 11.0), ScoredId(1, 2.0)]
    fused = fuse(dense, lexical, FusionConfig(method="rrf"), k=4)
    assert [h.id for h in fused][:2] == [1, 3]
    assert fused[0].dense_rank == 1 and fused[0].lexical_rank == 3


def test_convex_normalises_bm25_by_the_best_score() -> None:
    dense = [ScoredId(1, 0.50), ScoredId(2, 0.49)]
    lexical = [ScoredId(2, 30.0), ScoredId(1, 3.0)]
    config = FusionConfig(method="convex", normalization="max", dense_weight=0.5, lexical_weight=0.5)
    fused = fuse(dense, lexical, config, k=2)
    assert [h.id for h in fused] == [2, 1]
    assert fused[0].score == 0.5 * 0.49 + 0.5 * 1.0


def test_weights_can_silence_a_ranker() -> None:
    dense = [ScoredId(1, 0.9), ScoredId(2, 0.1)]
    lexical = [ScoredId(2, 9.0), ScoredId(1, 1.0)]
    only_dense = fuse(dense, lexical, FusionConfig(method="convex", dense_weight=1.0, lexical_weight=0.0), k=2)
    assert [h.id for h in only_dense] == [1, 2]


def test_fuse_handles_empty_rankings() -> None:
    assert fuse([], [], FusionConfig(), k=5) == []
    assert [h.id for h in fuse([], [ScoredId(4, 1.0)], FusionConfig(), k=5)] == [4]


def test_minmax_puts_both_lists_on_zero_to_one() -> None:
    dense = [ScoredId(1, 0.62), ScoredId(2, 0.60), ScoredId(3, 0.58)]
    lexical = [ScoredId(3, 20.0), ScoredId(1, 10.0), ScoredId(2, 5.0)]
    fused = {h.id: h.score for h in fuse(dense, lexical, FusionConfig(normalization="minmax"), k=3)}
    assert fused[1] == 0.5 * 1.0 + 0.5 * (10.0 - 5.0) / 15.0
    assert fused[3] == 0.5 * 0.0 + 0.5 * 1.0
    assert max(fused, key=fused.__getitem__) == 1
