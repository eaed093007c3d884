"""hetero_secureboost's model documents in FATE 2.2's shape, and reading them back.

Guest: ``{"hyper_param", "trees": [{"nodes", "feature_importance", "hyper_param"}], "fid_name_mapping",
"feature_importance", "init_score", "loss_history"}``; its nodes carry weights, g and h everywhere and
``fid`` (a feature name) / ``bid`` (the split value) only for its own splits; a host split shows the host's
sitename and the anonymous ``split_id``. Host: the same without weights, g and h (null), with its own splits'
feature names and split values, and ``hyper_param`` ``{num_trees, max_depth, max_bin, complete_secure}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fate_grpc.components.context import ComponentError, InputModel
from fate_grpc.ml.secureboost.objectives import REGRESSION_L2, Objective
from fate_grpc.ml.secureboost.tree import Node

NO_CHILD = -1  # FATE's l / r of a leaf


@dataclass
class SplitValue:
    """A split this party owns: its feature (index and name) and value (left iff ``x <= value + 1e-8``)."""

    fid: int
    name: str
    value: float


@dataclass
class Forest:
    """What one party keeps of the trees: the node lists (ids = positions), its own split values per
    (tree, nid), and per-tree feature importance of its own features."""

    trees: list[list[Node]] = field(default_factory=list)
    splits: list[dict[int, SplitValue]] = field(default_factory=list)
    importance: list[dict[str, dict[str, float]]] = field(default_factory=list)


def node_document(node: Node, split: SplitValue | None, *, with_stats: bool) -> dict[str, Any]:
    return {
        "nid": node.nid,
        "sitename": node.sitename,
        "fid": None if split is None else split.name,
        "bid": None if split is None else split.value,
        "weight": node.weight if with_stats else 0.0,
        "is_leaf": node.is_leaf,
        "grad": node.grad if with_stats else None,
        "hess": node.hess if with_stats else None,
        "l": NO_CHILD if node.l is None else node.l,
        "r": NO_CHILD if node.r is None else node.r,
        "missing_dir": 1,
        "sample_num": node.sample_num,
        "is_left_node": node.is_left_node,
        "sibling_nodeid": node.sibling_nodeid,
        "parent_nodeid": node.parent_nodeid,
        "split_id": node.split_id,
    }


def forest_document(
    forest: Forest, names: Sequence[str], tree_hyper: dict[str, Any], *, with_stats: bool
) -> dict[str, Any]:
    """``trees``, ``fid_name_mapping`` and the summed ``feature_importance`` of a party's model."""
    trees = []
    total: dict[str, dict[str, float]] = {}
    for nodes, splits, importance in zip(forest.trees, forest.splits, forest.importance, strict=True):
        trees.append(
            {
                "nodes": [node_document(n, splits.get(n.nid), with_stats=with_stats) for n in nodes],
                "feature_importance": importance,
                "hyper_param": dict(tree_hyper),
            }
        )
        for name, entry in importance.items():
            summed = total.setdefault(name, {"gain": 0.0, "split": 0})
            summed["gain"] += entry["gain"]
            summed["split"] += entry["split"]
    return {
        "trees": trees,
        "fid_name_mapping": {str(i): name for i, name in enumerate(names)},
        "feature_importance": total,
    }


def importance_of(nodes: Sequence[Node], splits: dict[int, SplitValue], *, with_gain: bool) -> dict[str, Any]:
    """FATE's per-tree feature importance of this party's features: gain sum and split count."""
    out: dict[str, dict[str, Any]] = {}
    for node in nodes:
        split = splits.get(node.nid)
        if split is None:
            continue
        entry = out.setdefault(split.name, {"gain": 0.0, "split": 0})
        entry["gain"] += node.gain if with_gain else 0.0
        entry["split"] += 1
    return out


def read_forest(model: InputModel, names: Sequence[str], *, what: str) -> tuple[dict[str, Any], Forest]:
    """The document and the forest of a saved model (the data must hold the model's feature columns).

    Raises:
        ComponentError: The document is not a hetero_secureboost model, or names a feature the data lacks.
    """
    document = model.data
    if not isinstance(document, dict) or not isinstance(document.get("trees"), list):
        raise ComponentError(f"{what}: not a hetero_secureboost model (no 'trees')")
    index = {name: i for i, name in enumerate(names)}
    forest = Forest()
    try:
        for tree in document["trees"]:
            nodes, splits = _read_nodes(tree["nodes"], index, what)
            forest.trees.append(nodes)
            forest.splits.append(splits)
            forest.importance.append(dict(tree.get("feature_importance") or {}))
    except (KeyError, TypeError, ValueError) as error:
        raise ComponentError(f"{what}: a malformed tree ({error})") from None
    return document, forest


def _read_nodes(
    entries: list[dict[str, Any]], index: dict[str, int], what: str
) -> tuple[list[Node], dict[int, SplitValue]]:
    nodes: list[Node] = []
    splits: dict[int, SplitValue] = {}
    for position, entry in enumerate(entries):
        if int(entry["nid"]) != position:
            raise ValueError(f"node {position} has nid {entry['nid']}")
        is_leaf = bool(entry["is_leaf"])
        node = Node(
            nid=position,
            sitename=str(entry["sitename"]),
            grad=float(entry.get("grad") or 0.0),
            hess=float(entry.get("hess") or 0.0),
            sample_num=int(entry.get("sample_num") or 0),
            weight=float(entry.get("weight") or 0.0),
            is_leaf=is_leaf,
            split_id=entry.get("split_id"),
            l=None if is_leaf else int(entry["l"]),
            r=None if is_leaf else int(entry["r"]),
            is_left_node=bool(entry.get("is_left_node")),
            sibling_nodeid=entry.get("sibling_nodeid"),
            parent_nodeid=entry.get("parent_nodeid"),
        )
        nodes.append(node)
        if not is_leaf and entry.get("fid") is not None:
            name = str(entry["fid"])
            if name not in index:
                raise ComponentError(f"{what}: the data lacks the model's feature column {name!r}")
            splits[position] = SplitValue(index[name], name, float(entry["bid"]))
    return nodes, splits


@dataclass
class GuestModel:
    forest: Forest
    objective: Objective
    learning_rate: float
    init_score: float | None
    loss_history: list[float]
    hyper: dict[str, Any]


def guest_document(model: GuestModel, names: list[str]) -> dict[str, Any]:
    params = model.hyper
    hyper = {key: params.get(key) for key in ("num_trees", "max_depth", "max_bin", "l2", "complete_secure")}
    hyper.update(
        learning_rate=model.learning_rate,
        objective=model.objective.name,
        num_class=model.objective.num_class if model.objective.name != REGRESSION_L2 else None,
    )
    tree_hyper = {
        "max_depth": params.get("max_depth"),
        "use_missing": False,
        "zero_as_missing": False,
        "valid_features": None,
        "l1": params.get("l1"),
        "l2": params.get("l2"),
        "objective": model.objective.name,
    }
    document = {"hyper_param": hyper, **forest_document(model.forest, names, tree_hyper, with_stats=True)}
    document.update(init_score=model.init_score, loss_history=list(model.loss_history))
    return document


def load_model(saved: Any, *, what: str) -> GuestModel:
    data = saved.data
    if not isinstance(data, dict) or not isinstance(data.get("hyper_param"), dict):
        raise ComponentError(f"{what}: not a hetero_secureboost guest model (no 'hyper_param')")
    names = [str(v) for v in (data.get("fid_name_mapping") or {}).values()]
    _, forest = read_forest(saved, names, what=what)
    hyper = data["hyper_param"]
    try:
        objective = Objective(str(hyper["objective"]), int(hyper.get("num_class") or 2))
        init = data.get("init_score")
        model = GuestModel(
            forest,
            objective,
            float(hyper["learning_rate"]),
            None if init is None else float(init),
            [float(v) for v in data.get("loss_history") or []],
            dict(hyper),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ComponentError(f"{what}: a malformed hetero_secureboost model ({error})") from None
    model.hyper["feature_names"] = names
    return model
