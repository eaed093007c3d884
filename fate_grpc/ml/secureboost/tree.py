"""One decision tree grown level by level, and the traversal that predicts with trees.

A ``TreeBuilder`` holds the nodes and the position of every row: the id of the node a row sits on, or
``-(nid + 1)`` once it reached leaf ``nid`` (FATE's encoding). Each level: the split sources (the guest's own
features, each host's) propose their best ``Candidate`` per node, ``choose`` keeps the best (the first source
wins ties, so the guest does), ``apply`` turns nodes without a valid split into leaves and gives the others
two children (FATE numbers them in level order), the owner of each split says which rows go left
(``route``), and ``finish_level`` moves on (at ``max_depth`` every remaining node becomes a leaf).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fate_grpc.ml.secureboost.splitter import SplitParams, node_weight

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Node:
    """A tree node. ``fid``/``bid`` are the feature index and bin at the owning site (None elsewhere and on
    leaves); ``split_id`` is the anonymous candidate id a host split is known by at the guest."""

    nid: int
    sitename: str
    grad: float = 0.0
    hess: float = 0.0
    sample_num: int = 0
    weight: float = 0.0
    is_leaf: bool = False
    fid: int | None = None
    bid: int | None = None
    split_id: int | None = None
    gain: float = 0.0
    l: int | None = None  # noqa: E741 - FATE's field name
    r: int | None = None
    is_left_node: bool = False
    sibling_nodeid: int | None = None
    parent_nodeid: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A party's best split of one node: at its own feature/bin (``fid``/``bid``, known only to the owner)
    or under an anonymous ``split_id``, with the left side's sums."""

    sitename: str
    gain: float
    left_g: float
    left_h: float
    left_count: int
    fid: int | None = None
    bid: int | None = None
    split_id: int | None = None


def choose(per_source: Sequence[Sequence[Candidate | None]]) -> list[Candidate | None]:
    """The best candidate of each node over all sources (strictly greater gain replaces, so earlier
    sources win ties)."""
    if not per_source:
        return []
    chosen: list[Candidate | None] = list(per_source[0])
    for candidates in per_source[1:]:
        for index, candidate in enumerate(candidates):
            current = chosen[index]
            if candidate is not None and (current is None or candidate.gain > current.gain):
                chosen[index] = candidate
    return chosen


@dataclass
class TreeBuilder:
    """The state of one tree while it grows. ``sampled`` marks the rows whose g/h count (GOSS)."""

    g: FloatArray
    h: FloatArray
    sampled: BoolArray
    params: SplitParams
    max_depth: int
    guest_site: str
    nodes: dict[int, Node] = field(default_factory=dict)
    level: list[Node] = field(default_factory=list)
    positions: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    depth: int = 0

    def __post_init__(self) -> None:
        rows = len(self.g)
        self.positions = np.zeros(rows, dtype=np.int64)
        mask = self.sampled
        root = Node(
            nid=0,
            sitename=self.guest_site,
            grad=float(self.g[mask].sum()),
            hess=float(self.h[mask].sum()),
            sample_num=int(mask.sum()),
        )
        self.nodes = {0: root}
        self.level = [root]
        if self.max_depth <= 0:
            self._make_leaves(self.level)
            self.level = []

    @property
    def done(self) -> bool:
        return not self.level

    def node_index(self) -> IntArray:
        """Each row's index in ``level`` (-1: on a leaf, or not sampled)."""
        lookup = {node.nid: index for index, node in enumerate(self.level)}
        index = np.full(len(self.positions), -1, dtype=np.int64)
        for nid, position in lookup.items():
            index[(self.positions == nid) & self.sampled] = position
        return index

    def totals(self) -> tuple[FloatArray, FloatArray, IntArray]:
        """g, h and row count of every level node."""
        return (
            np.asarray([n.grad for n in self.level], dtype=np.float64),
            np.asarray([n.hess for n in self.level], dtype=np.float64),
            np.asarray([n.sample_num for n in self.level], dtype=np.int64),
        )

    def apply(self, chosen: Sequence[Candidate | None]) -> list[Node]:
        """Split the level's nodes as chosen; the others become leaves. The split nodes, in level order."""
        if len(chosen) != len(self.level):
            raise ValueError(f"{len(chosen)} choices for {len(self.level)} nodes")
        split: list[Node] = []
        next_id = max(self.nodes) + 1
        children: list[Node] = []
        for node, candidate in zip(self.level, chosen, strict=True):
            if candidate is None or not np.isfinite(candidate.gain):
                self._make_leaves([node])
                continue
            node.sitename, node.fid, node.bid = candidate.sitename, candidate.fid, candidate.bid
            node.split_id, node.gain = candidate.split_id, candidate.gain
            node.l, node.r = next_id, next_id + 1
            next_id += 2
            children.extend(self._children(node, candidate))
            split.append(node)
        for child in children:
            self.nodes[child.nid] = child
        self.level = children
        return split

    def rows_at(self, nid: int) -> IntArray:
        return np.flatnonzero(self.positions == nid)

    def route(self, node: Node, rows: IntArray, left: BoolArray) -> None:
        """Move the rows of a split node to its children."""
        if node.l is None or node.r is None:
            raise ValueError(f"node {node.nid} is not split")
        self.positions[rows] = np.where(left, node.l, node.r)

    def finish_level(self) -> None:
        self.depth += 1
        if self.depth >= self.max_depth and self.level:
            self._make_leaves(self.level)
            self.level = []

    def leaf_weights(self) -> FloatArray:
        """The weight of the leaf every row reached (the tree must be done)."""
        if not self.done:
            raise ValueError("the tree is still growing")
        weights = {nid: n.weight for nid, n in self.nodes.items()}
        return np.asarray([weights[-(p + 1)] for p in self.positions.tolist()], dtype=np.float64)

    def ordered_nodes(self) -> list[Node]:
        return [self.nodes[nid] for nid in sorted(self.nodes)]

    def _children(self, node: Node, candidate: Candidate) -> list[Node]:
        left_g, left_h = float(candidate.left_g), float(candidate.left_h)
        right_g, right_h = node.grad - left_g, node.hess - left_h
        assert node.l is not None and node.r is not None
        common = {"sitename": self.guest_site, "parent_nodeid": node.nid}
        return [
            Node(
                nid=node.l,
                grad=left_g,
                hess=left_h,
                sample_num=int(candidate.left_count),
                weight=node_weight(left_g, left_h, self.params),
                is_left_node=True,
                sibling_nodeid=node.r,
                **common,  # type: ignore[arg-type]
            ),
            Node(
                nid=node.r,
                grad=right_g,
                hess=right_h,
                sample_num=node.sample_num - int(candidate.left_count),
                weight=node_weight(right_g, right_h, self.params),
                is_left_node=False,
                sibling_nodeid=node.l,
                **common,  # type: ignore[arg-type]
            ),
        ]

    def _make_leaves(self, nodes: Sequence[Node]) -> None:
        for node in nodes:
            node.is_leaf = True
            node.sitename = self.guest_site  # leaves always live at the guest
            node.fid = node.bid = node.split_id = None
            node.l = node.r = None
            if node.nid == 0:
                node.weight = node_weight(node.grad, node.hess, self.params)
            self.positions[self.positions == node.nid] = -(node.nid + 1)


# Decides, for the rows of one tree's node, which go left.
Decide = Callable[[int, Node, IntArray], BoolArray]


def pending(trees: Sequence[Sequence[Node]], positions: IntArray) -> list[tuple[int, Node, IntArray]]:
    """``(tree index, node, rows)`` of each internal node that rows of ``positions`` (rows x trees) are on."""
    out: list[tuple[int, Node, IntArray]] = []
    for t, nodes in enumerate(trees):
        column = positions[:, t]
        for nid in np.unique(column[column >= 0]).tolist():
            out.append((t, nodes[nid], np.flatnonzero(column == nid)))
    return out


def advance(
    positions: IntArray, trees: Sequence[Sequence[Node]], t: int, node: Node, rows: IntArray, left: BoolArray
) -> None:
    """Move ``rows`` of tree ``t`` from ``node`` to a child, or to ``-(nid + 1)`` if that child is a leaf."""
    assert node.l is not None and node.r is not None
    target = np.where(left, node.l, node.r)
    leaves = np.asarray([trees[t][int(nid)].is_leaf for nid in target.tolist()], dtype=bool)
    positions[rows, t] = np.where(leaves, -(target + 1), target)


def start_positions(trees: Sequence[Sequence[Node]], rows: int) -> IntArray:
    """Every row at the root of every tree (or on it as a leaf)."""
    positions = np.zeros((rows, len(trees)), dtype=np.int64)
    for t, nodes in enumerate(trees):
        if nodes[0].is_leaf:
            positions[:, t] = -1
    return positions


def traverse(trees: Sequence[Sequence[Node]], rows: int, decide: Decide) -> IntArray:
    """Leaf positions ``-(nid + 1)`` of every row in every tree, deciding each node's rows at once."""
    positions = start_positions(trees, rows)
    while True:
        work = pending(trees, positions)
        if not work:
            return positions
        for t, node, at in work:
            advance(positions, trees, t, node, at, decide(t, node, at))


def leaf_weight_sums(
    trees: Sequence[Sequence[Node]], positions: IntArray, learning_rate: float, tree_dim: int
) -> FloatArray:
    """``sum lr * leaf weight`` per row (``(rows,)``), or per class for ``tree_dim`` > 1 (``(rows, dim)``);
    tree ``t`` belongs to class ``t mod tree_dim``."""
    scores = np.zeros((positions.shape[0], tree_dim))
    for t, nodes in enumerate(trees):
        weights = np.asarray([n.weight for n in nodes], dtype=np.float64)
        scores[:, t % tree_dim] += learning_rate * weights[-(positions[:, t] + 1)]
    return scores[:, 0] if tree_dim == 1 else scores
