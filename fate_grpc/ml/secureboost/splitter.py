"""FATE 2.2's split gain, split masks and leaf weights.

``gain = G_L^2 / (H_L + l2) + G_R^2 / (H_R + l2) - G^2 / (H + l2)`` with every G soft-thresholded by l1 and
every sum (and the gain) truncated to 10 decimals, as FATE does (no 1/2 and no gamma). A candidate is
refused (gain -inf) when either side has fewer rows than ``min_leaf_node`` or a hessian sum below
``min_child_weight``, when its gain is NaN or below ``min_impurity_split``; a node with fewer rows than
``min_sample_split`` is not split at all. Leaf weight: ``-l1(G) / (H + l2)``, truncated to 10 decimals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_DECIMALS = 10


@dataclass(frozen=True)
class SplitParams:
    """The regularisation and stopping rules of one tree (FATE's names and defaults)."""

    l1: float = 0.0
    l2: float = 0.1
    min_impurity_split: float = 1e-2
    min_sample_split: int = 2
    min_leaf_node: int = 1
    min_child_weight: float = 1.0


@dataclass(frozen=True)
class BestSplits:
    """Per node: the best candidate's index and gain (-inf: no valid split) and its left-side sums."""

    index: IntArray
    gain: FloatArray
    left_g: FloatArray
    left_h: FloatArray
    left_count: IntArray


def truncate(values: FloatArray | float) -> FloatArray:
    scale = 10.0**_DECIMALS
    out: FloatArray = np.floor(np.asarray(values, dtype=np.float64) * scale) / scale
    return out


def soft_threshold(g: FloatArray | float, l1: float) -> FloatArray:
    values = np.asarray(g, dtype=np.float64)
    if l1 == 0:
        return values
    out: FloatArray = np.sign(values) * np.maximum(np.abs(values) - l1, 0.0)
    return out


def node_score(g: FloatArray, h: FloatArray, params: SplitParams) -> FloatArray:
    """``l1(G)^2 / (H + l2)``, NaN where H is 0 (such a side cannot be scored)."""
    g_t = soft_threshold(truncate(g), params.l1)
    h_t = truncate(h)
    with np.errstate(divide="ignore", invalid="ignore"):
        score: FloatArray = np.where(h_t == 0, np.nan, g_t * g_t / (h_t + params.l2))
    return score


def node_weight(g: float, h: float, params: SplitParams) -> float:
    return float(truncate(-soft_threshold(g, params.l1) / (h + params.l2)))


def candidate_gains(
    left_g: FloatArray,
    left_h: FloatArray,
    left_count: IntArray,
    node_g: FloatArray,
    node_h: FloatArray,
    node_count: IntArray,
    params: SplitParams,
) -> FloatArray:
    """Gains of every candidate, ``(nodes, candidates)``, from the left-side sums and the node totals
    (``(nodes,)``); refused candidates are -inf."""
    total_g, total_h, total_count = node_g[:, None], node_h[:, None], node_count[:, None]
    right_g, right_h, right_count = total_g - left_g, total_h - left_h, total_count - left_count
    refused = (left_count < params.min_leaf_node) | (right_count < params.min_leaf_node)
    refused |= (left_h < params.min_child_weight) | (right_h < params.min_child_weight)
    parent = node_score(np.asarray(total_g), np.asarray(total_h), params)
    gains = truncate(node_score(left_g, left_h, params) + node_score(right_g, right_h, params) - parent)
    gains = np.where(np.isnan(gains) | (gains < params.min_impurity_split) | refused, -np.inf, gains)
    return gains


def best_splits(
    left_g: FloatArray,
    left_h: FloatArray,
    left_count: IntArray,
    node_g: FloatArray,
    node_h: FloatArray,
    node_count: IntArray,
    params: SplitParams,
) -> BestSplits:
    """The best candidate of every node (the first on ties); -inf gain for a node that must not split."""
    gains = candidate_gains(left_g, left_h, left_count, node_g, node_h, node_count, params)
    nodes = np.arange(gains.shape[0])
    if gains.shape[1] == 0:
        index = np.zeros(gains.shape[0], dtype=np.int64)
        best = np.full(gains.shape[0], -np.inf)
        empty = np.zeros(gains.shape[0])
        return BestSplits(index, best, empty, empty, index.copy())
    index = np.argmax(gains, axis=1).astype(np.int64)
    best = gains[nodes, index]
    best = np.where(node_count < params.min_sample_split, -np.inf, best)
    return BestSplits(
        index=index,
        gain=best,
        left_g=left_g[nodes, index],
        left_h=left_h[nodes, index],
        left_count=left_count[nodes, index].astype(np.int64),
    )
