"""Boosting rounds over pre-binned features, with pluggable split sources.

``LocalSplits`` finds a party's best split per node from plaintext histograms (the guest's own features;
in ``fit_plaintext``, every feature of the joined data). ``grow_tree`` runs one tree's levels over any
sources (the federated guest adds one source per host). ``fit_plaintext`` is a whole plaintext booster: the
reference the encrypted protocol must reproduce split for split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from fate_grpc.ml.secureboost import histogram as hist
from fate_grpc.ml.secureboost.goss import goss_mask
from fate_grpc.ml.secureboost.objectives import MULTI_CE, Objective
from fate_grpc.ml.secureboost.splitter import SplitParams, best_splits
from fate_grpc.ml.secureboost.tree import Candidate, Node, TreeBuilder, choose, leaf_weight_sums, traverse

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class BoostParams:
    """FATE 2.2's training parameters (its names and defaults)."""

    num_trees: int = 3
    learning_rate: float = 0.3
    max_depth: int = 3
    objective: str = "binary:bce"
    num_class: int = 2
    split: SplitParams = field(default_factory=SplitParams)
    goss: bool = False
    goss_start_iter: int = 5
    top_rate: float = 0.2
    other_rate: float = 0.1
    hist_sub: bool = True
    complete_secure: int = 0

    def objective_of(self) -> Objective:
        # As FATE, num_class only matters for multi:ce; binary always has 2 classes.
        return Objective(self.objective, self.num_class if self.objective == MULTI_CE else 2)


class SplitSource(Protocol):
    """A party's split candidates for the nodes of the current level, and the routing of its splits."""

    def level_best(self, builder: TreeBuilder) -> list[Candidate | None]: ...

    def left_rows(self, node: Node, rows: IntArray) -> BoolArray: ...


class LocalSplits:
    """Splits on features this party holds in plaintext, with the sibling histogram by subtraction."""

    def __init__(self, bins: IntArray, n_bins: int, sitename: str, *, hist_sub: bool = True) -> None:
        self.bins = bins
        self.n_bins = n_bins
        self.sitename = sitename
        self.hist_sub = hist_sub
        self._cache: dict[int, hist.Histogram] = {}

    def level_best(self, builder: TreeBuilder) -> list[Candidate | None]:
        if builder.depth == 0:
            self._cache = {}
        level = self.level_histograms(builder)
        cumulative = hist.Histogram.stack([level[n.nid] for n in builder.level]).cumulative()
        nodes = len(builder.level)
        flat = (
            cumulative.g.reshape(nodes, -1),
            cumulative.h.reshape(nodes, -1),
            cumulative.count.reshape(nodes, -1),
        )
        best = best_splits(*flat, *builder.totals(), builder.params)
        out: list[Candidate | None] = []
        for i in range(nodes):
            if not np.isfinite(best.gain[i]):
                out.append(None)
                continue
            fid, bid = divmod(int(best.index[i]), self.n_bins)
            out.append(
                Candidate(
                    self.sitename,
                    float(best.gain[i]),
                    float(best.left_g[i]),
                    float(best.left_h[i]),
                    int(best.left_count[i]),
                    fid=fid,
                    bid=bid,
                )
            )
        return out

    def level_histograms(self, builder: TreeBuilder) -> dict[int, hist.Histogram]:
        """Per level node id, its (non-cumulative) histogram; cached for the next level's subtraction."""
        entries = [(n.nid, n.parent_nodeid, n.sibling_nodeid, n.sample_num) for n in builder.level]
        plan = hist.subtraction_plan(entries, self._cache if self.hist_sub else ())
        direct_ids = set(plan.direct)
        index = builder.node_index()
        positions = [i for i, n in enumerate(builder.level) if n.nid in direct_ids]
        remap = np.full(len(builder.level) + 1, -1, dtype=np.int64)
        remap[positions] = np.arange(len(positions))
        computed = hist.histogram(self.bins, builder.g, builder.h, remap[index], len(positions), self.n_bins)
        out = {builder.level[p].nid: computed.node(k) for k, p in enumerate(positions)}
        for nid, parent, sibling in plan.derived:
            out[nid] = self._cache[parent].subtract(out[sibling])
        self._cache = out
        return out

    def left_rows(self, node: Node, rows: IntArray) -> BoolArray:
        assert node.fid is not None and node.bid is not None
        out: BoolArray = self.bins[rows, node.fid] <= node.bid
        return out


def grow_tree(
    builder: TreeBuilder, sources: Sequence[SplitSource], owners: dict[str, SplitSource]
) -> TreeBuilder:
    """Grow ``builder`` to the end; ``owners`` maps a sitename to the source that routes its splits."""
    while not builder.done:
        chosen = choose([source.level_best(builder) for source in sources])
        for node in builder.apply(chosen):
            rows = builder.rows_at(node.nid)
            builder.route(node, rows, owners[node.sitename].left_rows(node, rows))
        builder.finish_level()
    return builder


@dataclass
class PlainModel:
    """Trees (node lists indexed by nid), the objective, learning rate, init score and loss per round."""

    trees: list[list[Node]]
    objective: Objective
    learning_rate: float
    init_score: float | None
    loss_history: list[float]


def sampled_rows(params: BoostParams, round_index: int, g: FloatArray) -> BoolArray:
    """All rows, or GOSS's selection from ``goss_start_iter`` on."""
    if params.goss and round_index >= params.goss_start_iter:
        return goss_mask(g, params.top_rate, params.other_rate)
    return np.ones(len(g), dtype=bool)


def fit_plaintext(
    bins: IntArray, n_bins: int, labels: FloatArray, params: BoostParams, *, site: str = "guest"
) -> PlainModel:
    """Train on pre-binned features of one party (or the joined data) without encryption."""
    objective = params.objective_of()
    init_score = objective.init_score(labels)
    scores = objective.initial_scores(len(labels), init_score)
    source = LocalSplits(bins, n_bins, site, hist_sub=params.hist_sub)
    model = PlainModel([], objective, params.learning_rate, init_score, [])
    for round_index in range(params.num_trees):
        g_all, h_all = objective.gradients(labels, scores)
        for dim in range(objective.tree_dim):
            g = g_all[:, dim] if objective.tree_dim > 1 else g_all
            h = h_all[:, dim] if objective.tree_dim > 1 else h_all
            builder = TreeBuilder(
                g, h, sampled_rows(params, round_index, g), params.split, params.max_depth, site
            )
            grow_tree(builder, [source], {site: source})
            update = params.learning_rate * builder.leaf_weights()
            if objective.tree_dim > 1:
                scores[:, dim] += update
            else:
                scores += update
            model.trees.append(builder.ordered_nodes())
        model.loss_history.append(objective.loss(labels, scores))
    return model


def raw_scores(model: PlainModel, bins: IntArray) -> FloatArray:
    """Raw scores (before sigmoid / softmax) of pre-binned rows."""

    def decide(_: int, node: Node, rows: IntArray) -> BoolArray:
        assert node.fid is not None and node.bid is not None
        out: BoolArray = bins[rows, node.fid] <= node.bid
        return out

    positions = traverse(model.trees, len(bins), decide)
    scores = leaf_weight_sums(model.trees, positions, model.learning_rate, model.objective.tree_dim)
    return scores + (model.init_score or 0.0)
