"""hetero_secureboost's prediction protocol: the guest walks every tree for every row and, once per step,
asks each host in one message which of the rows on that host's nodes go left; the host answers from its own
split values. There are at most max_depth steps, whatever the number of rows and trees."""

from __future__ import annotations

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.hetero_secureboost import features as feats
from fate_grpc.components.hetero_secureboost.messages import Channel, Message, ids_digest, sitename
from fate_grpc.components.hetero_secureboost.model import Forest, GuestModel
from fate_grpc.components.table import Table
from fate_grpc.ml.secureboost.tree import Node, advance, leaf_weight_sums, pending, start_positions


def predict_table(
    channel: Channel, hosts: list[Party], model: GuestModel, table: Table, ctx: ComponentContext
) -> np.ndarray:
    """Probabilities / values of ``table``'s rows, with every host answering for its nodes."""
    features, _ = feats.feature_matrix(table, model.hyper["feature_names"])
    channel.send("rows", hosts, {"digest": ids_digest(table.ids.tolist())})
    raw = raw_scores(channel, hosts, model, features, sitename(Party(ctx.role, ctx.party_id)))
    return model.objective.predict(raw)


def raw_scores(
    channel: Channel, hosts: list[Party], model: GuestModel, features: np.ndarray, me: str
) -> np.ndarray:
    positions = federated_positions(channel, hosts, model.forest, features, me)
    scores = leaf_weight_sums(model.forest.trees, positions, model.learning_rate, model.objective.tree_dim)
    return scores + (model.init_score or 0.0)


def federated_positions(
    channel: Channel, hosts: list[Party], forest: Forest, features: np.ndarray, me: str
) -> np.ndarray:
    """Walk every tree for every row; each step asks every host, in one message, about all rows on its
    nodes (so there are at most max_depth round trips, whatever the number of rows and trees)."""
    trees = forest.trees
    positions = start_positions(trees, len(features))
    by_site = {sitename(h): h for h in hosts}
    step = 0
    while True:
        work = pending(trees, positions)
        asks: dict[Party, list[tuple[int, Node, np.ndarray]]] = {h: [] for h in hosts}
        for t, node, rows in work:
            if node.sitename == me:
                split = forest.splits[t][node.nid]
                advance(
                    positions, trees, t, node, rows, feats.goes_left(features, rows, split.fid, split.value)
                )
            elif node.sitename in by_site:
                asks[by_site[node.sitename]].append((t, node, rows))
            else:
                raise ComponentError(
                    f"hetero_secureboost: the model has a node of {node.sitename}, not in this task"
                )
        for host, items in asks.items():
            channel.send(
                f"s{step}.ask",
                host,
                {"done": not work},
                tree=np.asarray([t for t, _, _ in items], dtype=np.int64),
                nid=np.asarray([n.nid for _, n, _ in items], dtype=np.int64),
                size=np.asarray([len(r) for _, _, r in items], dtype=np.int64),
                rows=np.concatenate([r for _, _, r in items]) if items else np.zeros(0, dtype=np.int64),
            )
        if not work:
            return positions
        for host, items in asks.items():
            left = channel.receive(f"s{step}.left", host).array("left").astype(bool)
            if len(left) != sum(len(r) for _, _, r in items):
                raise ComponentError(f"hetero_secureboost: {host} answered for a different number of rows")
            offset = 0
            for t, node, rows in items:
                advance(positions, trees, t, node, rows, left[offset : offset + len(rows)])
                offset += len(rows)
        step += 1


def serve_predictions(channel: Channel, guest: Party, forest: Forest, features: np.ndarray) -> None:
    """Answer the guest's questions, one per step: which of the rows on my nodes go left."""
    step = 0
    while True:
        ask = channel.receive(f"s{step}.ask", guest)
        if ask.header.get("done"):
            return
        trees, nids, sizes = ask.array("tree"), ask.array("nid"), ask.array("size")
        rows = np.split(ask.array("rows").astype(np.int64), np.cumsum(sizes)[:-1]) if len(sizes) else []
        answers = []
        for t, nid, at in zip(trees.tolist(), nids.tolist(), rows, strict=True):
            split = forest.splits[t].get(nid) if 0 <= t < len(forest.splits) else None
            if split is None or (len(at) and (at.min() < 0 or at.max() >= len(features))):
                raise ComponentError(
                    f"hetero_secureboost: the guest asked about node {nid} of tree {t}, not mine"
                )
            answers.append(feats.goes_left(features, at, split.fid, split.value))
        left = np.concatenate(answers) if answers else np.zeros(0, dtype=bool)
        channel.send(f"s{step}.left", guest, left=left)
        step += 1


def check_rows(message: Message, table: Table, key: str) -> None:
    if message.header.get("digest") != ids_digest(table.ids.tolist()):
        raise ComponentError(
            f"hetero_secureboost: the guest's and this host's {key} rows differ (run psi first so that both"
            " sides hold the same ids in the same order)"
        )
