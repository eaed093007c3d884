"""Histograms of (g, h, count) per tree node, feature and bin, over blocks of rows.

Shapes: ``bins`` is ``(rows, features)`` of bin indices, every feature padded to the same ``n_bins`` (a
padded bin is never filled, so its cumulative sums equal the node's totals and the split it stands for
sends nobody right: the splitter masks it). ``node_index`` gives each row's position among the nodes being
split (``-1``: not counted, e.g. a row on a leaf or left out by GOSS). A histogram is three arrays of shape
``(nodes, features, n_bins)``; partial histograms of disjoint row blocks add up to the whole one, and a
node's histogram minus one child's is the other child's (``subtract``), so only the smaller child of each
split is ever computed from rows (``subtraction_plan``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DEFAULT_BLOCK_ROWS = 65536


@dataclass(frozen=True)
class Histogram:
    """Sums of g and h and row counts, each ``(nodes, features, n_bins)``."""

    g: FloatArray
    h: FloatArray
    count: IntArray

    def __add__(self, other: Histogram) -> Histogram:
        return Histogram(self.g + other.g, self.h + other.h, self.count + other.count)

    def subtract(self, child: Histogram) -> Histogram:
        """The sibling's histogram: this (the parent's) minus one child's."""
        return Histogram(self.g - child.g, self.h - child.h, self.count - child.count)

    def cumulative(self) -> Histogram:
        """Entry ``b`` becomes the sums over bins ``0..b``: the left child of a split at bin ``b``."""
        return Histogram(np.cumsum(self.g, axis=2), np.cumsum(self.h, axis=2), np.cumsum(self.count, axis=2))

    def node(self, index: int) -> Histogram:
        return Histogram(self.g[index : index + 1], self.h[index : index + 1], self.count[index : index + 1])

    @staticmethod
    def stack(parts: Sequence[Histogram]) -> Histogram:
        return Histogram(
            np.concatenate([p.g for p in parts]),
            np.concatenate([p.h for p in parts]),
            np.concatenate([p.count for p in parts]),
        )


def group_ids(bins: IntArray, node_index: IntArray, n_bins: int) -> tuple[IntArray, IntArray]:
    """For counted rows, the group of each (row, feature): ``node * n_bins + bin``; and the counted rows.

    Raises:
        ValueError: A bin index outside ``[0, n_bins)``.
    """
    if bins.size and (int(bins.min()) < 0 or int(bins.max()) >= n_bins):
        raise ValueError(f"bin indices must lie in [0, {n_bins})")
    rows = np.flatnonzero(node_index >= 0)
    groups = node_index[rows, None] * n_bins + bins[rows]
    return groups.astype(np.int64, copy=False), rows


def block_histogram(
    bins: IntArray, g: FloatArray, h: FloatArray, node_index: IntArray, n_nodes: int, n_bins: int
) -> Histogram:
    """The histogram of one block of rows (vectorised: one ``bincount`` per statistic)."""
    features = bins.shape[1]
    groups, rows = group_ids(bins, node_index, n_bins)
    # Flat slot of (node, feature, bin) in a (nodes, features, n_bins) array.
    node, in_node = np.divmod(groups, n_bins)
    flat = ((node * features + np.arange(features)[None, :]) * n_bins + in_node).reshape(-1)
    size = n_nodes * features * n_bins
    shape = (n_nodes, features, n_bins)
    g_sum = np.bincount(flat, weights=np.repeat(g[rows], features), minlength=size).astype(np.float64)
    h_sum = np.bincount(flat, weights=np.repeat(h[rows], features), minlength=size).astype(np.float64)
    count = np.bincount(flat, minlength=size).reshape(shape).astype(np.int64)
    return Histogram(g_sum.reshape(shape), h_sum.reshape(shape), count)


def histogram(
    bins: IntArray,
    g: FloatArray,
    h: FloatArray,
    node_index: IntArray,
    n_nodes: int,
    n_bins: int,
    *,
    block_rows: int = DEFAULT_BLOCK_ROWS,
) -> Histogram:
    """The histogram of all rows, computed block by block (bounded memory) and summed."""
    return combine(
        block_histogram(
            bins[start : start + block_rows],
            g[start : start + block_rows],
            h[start : start + block_rows],
            node_index[start : start + block_rows],
            n_nodes,
            n_bins,
        )
        for start in range(0, max(1, len(bins)), block_rows)
    )


def combine(parts: Iterable[Histogram]) -> Histogram:
    total: Histogram | None = None
    for part in parts:
        total = part if total is None else total + part
    if total is None:
        raise ValueError("no partial histograms to combine")
    return total


@dataclass(frozen=True)
class SubtractionPlan:
    """Which level nodes to compute from rows (``direct``) and which to derive as parent minus sibling
    (``derived``: ``(node, parent, computed sibling)``), all by node id."""

    direct: tuple[int, ...]
    derived: tuple[tuple[int, int, int], ...]


def subtraction_plan(
    level: Sequence[tuple[int, int | None, int | None, int]], cached_parents: Iterable[int]
) -> SubtractionPlan:
    """Plan one level. ``level`` lists ``(nid, parent nid, sibling nid, sample count)``; a pair of
    siblings whose parent's histogram is cached computes only the child with fewer rows (the left on a tie).
    """
    cached = set(cached_parents)
    in_level = {entry[0]: entry for entry in level}
    direct: list[int] = []
    derived: list[tuple[int, int, int]] = []
    for nid, parent, sibling, count in level:
        if parent is None or sibling is None or parent not in cached or sibling not in in_level:
            direct.append(nid)
            continue
        sibling_count = in_level[sibling][3]
        weak = count < sibling_count or (count == sibling_count and nid < sibling)
        if weak:
            direct.append(nid)
        else:
            derived.append((nid, parent, sibling))
    return SubtractionPlan(tuple(direct), tuple(derived))
