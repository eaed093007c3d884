"""The SecureBoost core: binning, histograms over row blocks, FATE's gain and masks, trees and GOSS."""

from __future__ import annotations

import numpy as np
import pytest

from fate_grpc.ml.secureboost import binning, splitter
from fate_grpc.ml.secureboost import histogram as hist
from fate_grpc.ml.secureboost.booster import BoostParams, fit_plaintext, raw_scores
from fate_grpc.ml.secureboost.goss import goss_mask
from fate_grpc.ml.secureboost.objectives import Objective
from fate_grpc.ml.secureboost.splitter import SplitParams


def test_split_points_are_the_unique_quantiles_from_the_minimum() -> None:
    x = np.arange(1.0, 11.0)[:, None]  # 1..10

    points = binning.split_points(x, 4)

    # q = 0, 1/4, 2/4, 3/4 -> ranks floor(q * 10) = 0 (the minimum), 2, 5, 7
    assert points[0].tolist() == [1.0, 2.0, 5.0, 7.0]


def test_bin_indices_put_values_above_the_last_point_in_the_last_bin() -> None:
    points = [np.array([1.0, 3.0, 5.0, 8.0])]

    bins = binning.bin_indices(np.array([[1.0], [2.0], [3.0], [3.5], [8.0], [10.0]]), points)

    assert bins[:, 0].tolist() == [0, 1, 1, 2, 3, 3]


def test_binning_refuses_missing_values() -> None:
    with pytest.raises(ValueError, match="missing"):
        binning.split_points(np.array([[1.0], [np.nan]]), 4)


def test_ties_give_fewer_bins() -> None:
    points = binning.split_points(np.array([[0.0]] * 8 + [[1.0]] * 2), 32)

    assert points[0].tolist() == [0.0, 1.0]


def _random_problem(rows: int = 300, features: int = 4, n_bins: int = 6, seed: int = 3):
    rng = np.random.default_rng(seed)
    bins = rng.integers(0, n_bins, size=(rows, features))
    g, h = rng.normal(size=rows), rng.uniform(0.1, 1.0, size=rows)
    node = rng.integers(-1, 3, size=rows)
    return bins, g, h, node


def test_histogram_equals_a_loop_over_rows() -> None:
    bins, g, h, node = _random_problem()

    result = hist.histogram(bins, g, h, node, 3, 6)

    expected = np.zeros((3, 4, 6, 3))
    for row in range(len(g)):
        if node[row] >= 0:
            for f in range(4):
                expected[node[row], f, bins[row, f]] += (g[row], h[row], 1)
    np.testing.assert_allclose(result.g, expected[..., 0], atol=1e-12)
    np.testing.assert_allclose(result.h, expected[..., 1], atol=1e-12)
    np.testing.assert_array_equal(result.count, expected[..., 2])


def test_partial_histograms_of_row_blocks_combine_to_the_whole() -> None:
    bins, g, h, node = _random_problem()

    whole = hist.block_histogram(bins, g, h, node, 3, 6)
    blocked = hist.histogram(bins, g, h, node, 3, 6, block_rows=37)

    np.testing.assert_allclose(blocked.g, whole.g, atol=1e-12)
    np.testing.assert_array_equal(blocked.count, whole.count)


def test_sibling_by_subtraction_equals_the_sibling_computed_from_rows() -> None:
    bins, g, h, node = _random_problem()
    parent_rows = np.where(node >= 0, 0, -1)
    child = np.where(node == 1, 0, np.where(node >= 0, 1, -1))

    parent = hist.histogram(bins, g, h, parent_rows, 1, 6)
    children = hist.histogram(bins, g, h, child, 2, 6)

    derived = parent.subtract(children.node(0))
    np.testing.assert_allclose(derived.g, children.node(1).g, atol=1e-12)
    np.testing.assert_array_equal(derived.count, children.node(1).count)


def test_subtraction_plan_computes_the_smaller_child_only() -> None:
    level = [(1, 0, 2, 40), (2, 0, 1, 10), (3, 5, 4, 7)]

    plan = hist.subtraction_plan(level, cached_parents=[0])

    assert plan.direct == (2, 3)
    assert plan.derived == ((1, 0, 2),)


def test_gain_masks_follow_fate_rules() -> None:
    params = SplitParams(min_leaf_node=2, min_child_weight=1.0, min_impurity_split=0.01)
    left_g = np.array([[-3.0, -3.0, -3.0, 0.0]])
    left_h = np.array([[2.0, 0.5, 2.0, 2.0]])
    left_count = np.array([[5, 5, 1, 5]])

    gains = splitter.candidate_gains(
        left_g, left_h, left_count, np.array([1.0]), np.array([5.0]), np.array([10]), params
    )

    expected = 9 / 2.1 + 16 / 3.1 - 1 / 5.1
    assert gains[0, 0] == pytest.approx(expected, abs=1e-9)
    assert gains[0, 1] == -np.inf  # left hessian below min_child_weight
    assert gains[0, 2] == -np.inf  # left side below min_leaf_node
    assert np.isfinite(gains[0, 3])


def test_node_below_min_sample_split_is_not_split() -> None:
    best = splitter.best_splits(
        np.array([[-3.0]]), np.array([[2.0]]), np.array([[1]]),
        np.array([1.0]), np.array([5.0]), np.array([1]), SplitParams(min_leaf_node=1, min_child_weight=0.1),
    )  # fmt: skip

    assert best.gain[0] == -np.inf


def test_leaf_weight_with_l1_soft_thresholding() -> None:
    params = SplitParams(l1=0.5, l2=1.0)

    assert splitter.node_weight(-2.5, 3.0, params) == pytest.approx(0.5)
    assert splitter.node_weight(0.3, 3.0, params) == 0.0


def test_goss_keeps_the_largest_gradients_and_a_share_of_the_rest() -> None:
    g = np.arange(100.0)

    mask = goss_mask(g, 0.2, 0.1)

    assert mask.sum() == 30
    assert mask[80:].all()


def test_objectives_match_fate_formulas() -> None:
    labels = np.array([0.0, 1.0, 2.0])
    scores = np.zeros((3, 3))

    g, h = Objective("multi:ce", 3).gradients(labels, scores)

    np.testing.assert_allclose(g[0], [1 / 3 - 1, 1 / 3, 1 / 3])
    np.testing.assert_allclose(h, np.full((3, 3), 2 * (1 / 3) * (2 / 3)))
    g, h = Objective("regression:l2").gradients(np.array([1.0, 3.0]), np.array([2.0, 2.0]))
    assert g.tolist() == [2.0, -2.0] and h.tolist() == [2.0, 2.0]


def test_histogram_subtraction_does_not_change_the_trees() -> None:
    rng = np.random.default_rng(0)
    bins = rng.integers(0, 8, size=(400, 5))
    labels = (bins[:, 0] + bins[:, 1] + rng.integers(0, 4, 400) > 8).astype(float)
    common = {"num_trees": 3, "max_depth": 4}

    with_sub = fit_plaintext(bins, 8, labels, BoostParams(**common, hist_sub=True))
    without = fit_plaintext(bins, 8, labels, BoostParams(**common, hist_sub=False))

    assert [(n.fid, n.bid) for t in with_sub.trees for n in t] == [
        (n.fid, n.bid) for t in without.trees for n in t
    ]
    np.testing.assert_allclose(raw_scores(with_sub, bins), raw_scores(without, bins), atol=1e-9)


def test_goss_rounds_use_a_sample_and_still_learn() -> None:
    rng = np.random.default_rng(1)
    bins = rng.integers(0, 8, size=(500, 4))
    labels = (bins[:, 0] > 3).astype(float)

    model = fit_plaintext(bins, 8, labels, BoostParams(num_trees=4, goss=True, goss_start_iter=1))

    assert model.trees[1][0].sample_num == 150  # 20% + 10% of 500
    assert model.loss_history[-1] < model.loss_history[0]
