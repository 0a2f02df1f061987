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


def test_spread_weighting_trusts_the_ranker_whose_best_hit_stands_out() -> None:
    # Dense is sure (one clear winner); BM25's top is flat (common words): dense's choice must win.
    dense = [ScoredId(1, 0.80), *(ScoredId(i, 0.30) for i in range(2, 12))]
    lexical = [ScoredId(5, 10.0), *(ScoredId(i, 9.9) for i in (6, 7, 8, 9, 10, 11, 12)), ScoredId(2, 1.0)]
    plain = fuse(dense, lexical, FusionConfig(dense_weight=0.3, lexical_weight=0.7), k=3)
    adaptive = fuse(dense, lexical, FusionConfig(dense_weight=0.3, lexical_weight=0.7, query_weighting="spread"), k=3)
    assert plain[0].id == 5
    assert adaptive[0].id == 1


def test_spread_is_zero_for_a_flat_list_and_one_for_a_lone_winner() -> None:
    from groundwork.retrieval.hybrid import query_weights, spread

    assert spread([ScoredId(i, 1.0) for i in range(5)]) == 0.0
    assert spread([ScoredId(0, 1.0), *(ScoredId(i, 0.0) for i in range(1, 5))]) == 1.0
    assert spread([]) == 0.0
    # Both flat: the configured weights stand.
    flat = [ScoredId(i, 1.0) for i in range(3)]
    assert query_weights(flat, flat, FusionConfig(dense_weight=0.7, lexical_weight=0.3, query_weighting="spread")) == (
        0.7,
        0.3,
    )


def test_dbsf_maps_three_sigma_onto_zero_to_one_and_clamps() -> None:
    dense = [ScoredId(1, 0.9), ScoredId(2, 0.5), ScoredId(3, 0.1)]
    fused = fuse(dense, [], FusionConfig(normalization="dbsf", dense_weight=1.0, lexical_weight=0.0), k=3)
    assert [h.id for h in fused] == [1, 2, 3]
    assert all(0.0 <= h.score <= 1.0 for h in fused)
    assert abs(fused[1].score - 0.5) < 1e-9  # the mean sits in the middle
