"""The guest's part of hetero_secureboost: it holds the labels, its own features and the key pair.

Per tree it computes g and h, encrypts them (``gh_pack``: one ciphertext per row) and sends them to every
host once; per level it sends the node of every row, finds the best split of each node over its own
plaintext histograms and each host's decrypted ones, and tells a host only which of its anonymous candidates
won; the host answers with the left/right assignment of the rows on that node. Leaves and weights stay here.

What the guest learns: its data, the labels, every g and h; from each host, per node, the cumulative sums of
g, h and row counts per candidate under anonymous, per-tree shuffled split ids (never a host feature,
threshold or value), which host won a node and which rows went left there. Predicting, it learns each host
node's left/right answer for the rows on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fate_grpc.components.context import (
    DEFAULT_METRIC_GROUPS,
    ComponentContext,
    ComponentError,
    MetricGroups,
    Party,
)
from fate_grpc.components.hetero_secureboost import features as feats
from fate_grpc.components.hetero_secureboost import outputs, timing
from fate_grpc.components.hetero_secureboost.guest_crypto import HostSplits, Keys
from fate_grpc.components.hetero_secureboost.messages import Channel, guest_and_hosts, ids_digest, sitename
from fate_grpc.components.hetero_secureboost.model import (
    Forest,
    GuestModel,
    SplitValue,
    guest_document,
    importance_of,
    load_model,
)
from fate_grpc.components.hetero_secureboost.params import boost_params
from fate_grpc.components.hetero_secureboost.prediction import predict_table, raw_scores
from fate_grpc.components.hetero_secureboost.validation import GuestValidation
from fate_grpc.components.hetero_secureboost.workers import PARALLEL_MIN_ROWS
from fate_grpc.components.model_common.crypto_workers import CryptoWorkers
from fate_grpc.components.table import Table
from fate_grpc.crypto import gh_pack, ou, paillier
from fate_grpc.crypto.gh_pack import GHCodec
from fate_grpc.ml.secureboost.booster import BoostParams, LocalSplits, sampled_rows
from fate_grpc.ml.secureboost.objectives import BINARY_BCE, MULTI_CE, REGRESSION_L2, Objective
from fate_grpc.ml.secureboost.tree import Node, TreeBuilder, choose

MODEL_HYPER_KEYS = ("num_trees", "max_depth", "max_bin", "l1", "l2", "complete_secure")


def train(ctx: ComponentContext) -> None:
    table = ctx.read_input_table("train_data")
    validate = ctx.read_input_table("validate_data") if ctx.has_input("validate_data") else None
    warm = None
    if ctx.input_count("warm_start_model") > 0:
        warm = load_model(ctx.read_input_model("warm_start_model"), what="warm_start_model")
    model, predicted, validated = fit(ctx, Channel(ctx, "sbt.train"), table, warm=warm, validate=validate)
    document = guest_document(model, model.hyper["feature_names"])
    ctx.write_output_model("output_model", document, {})
    # The guest's own features' importance (split count, gain sum), also in the model.
    ctx.log_metric("feature_importance", document["feature_importance"], type="custom")
    ctx.report_progress(90)
    parts = [outputs.prediction_table(table, model.objective, predicted, outputs.TRAIN_SET)]
    if validate is not None and validated is not None:
        parts.append(outputs.prediction_table(validate, model.objective, validated, outputs.VALIDATE_SET))
    ctx.write_output_table("train_output_data", outputs.stacked(parts))


def predict(ctx: ComponentContext) -> None:
    _, hosts = guest_and_hosts(ctx)
    table = ctx.read_input_table("test_data")
    model = load_model(ctx.read_input_model("input_model"), what="input_model")
    predicted = predict_table(Channel(ctx, "sbt.predict"), hosts, model, table, ctx)
    ctx.write_output_table(
        "test_output_data", outputs.prediction_table(table, model.objective, predicted, outputs.TEST_SET)
    )


def fit(
    ctx: ComponentContext,
    channel: Channel,
    table: Table,
    *,
    warm: GuestModel | None = None,
    validate: Table | None = None,
    groups: MetricGroups = DEFAULT_METRIC_GROUPS,
) -> tuple[GuestModel, np.ndarray, np.ndarray | None]:
    """Train (or, from ``warm``, continue) with the hosts on ``table``; the model and the probabilities or
    values of the training rows, and of the ``validate`` rows (scored tree by tree, see ``validation``)."""
    _, hosts = guest_and_hosts(ctx)
    timing.reset()
    params = boost_params(ctx.parameters)
    data = feats.binned(table, ctx.parameters["max_bin"])
    labels = feats.label_values(table)
    model = _starting_model(ctx, params, data.names, warm)
    _check_labels(labels, model.objective)
    kind, key_length = ctx.parameters["he_param"]["kind"], ctx.parameters["he_param"]["key_length"]
    public_key, private_key = (
        ou.generate_keypair(key_length) if kind == "ou" else paillier.generate_keypair(key_length)
    )
    existing = len(model.forest.trees)
    new_trees = params.num_trees * model.objective.tree_dim
    header = {
        "digest": ids_digest(table.ids.tolist()),
        "existing_trees": existing,
        "new_trees": new_trees,
        "total_trees": existing + new_trees,
        "validate_digest": None if validate is None else ids_digest(validate.ids.tolist()),
        "he_kind": kind,
    }
    channel.send("setup", hosts, header, public_key=np.frombuffer(public_key.to_bytes(), dtype=np.uint8))
    scores = _starting_scores(ctx, channel, model, hosts, data.features, labels)
    me = sitename(Party(ctx.role, ctx.party_id))
    checker = None
    if validate is not None:
        checker = GuestValidation.start(channel.child("validate"), hosts, model, validate, me)
    with CryptoWorkers(len(labels), min_rows=PARALLEL_MIN_ROWS) as executor:
        keys = Keys.of(ctx.parameters, public_key, private_key, executor)
        if keys.prefill is not None:
            keys.prefill.start(len(labels) * (1 if keys.gh_pack else 2))
        try:
            scores = _boost(
                ctx, _Run(channel, hosts, keys, checker, groups), model, params, data, labels, scores
            )
        finally:
            if keys.prefill is not None:
                keys.prefill.wait()
    ctx.log.info(timing.summary(new_trees))
    validated = None if checker is None else checker.predicted(model)
    return model, model.objective.predict(scores), validated


@dataclass(frozen=True)
class _Run:
    """Who and what one training talks to: the scope, the hosts, the keys, validation, metric groups."""

    channel: Channel
    hosts: list[Party]
    keys: Keys
    validation: GuestValidation | None
    groups: MetricGroups


def _boost(
    ctx: ComponentContext,
    run: _Run,
    model: GuestModel,
    params: BoostParams,
    data: feats.Binned,
    labels: np.ndarray,
    scores: np.ndarray,
) -> np.ndarray:
    channel, hosts, keys, groups = run.channel, run.hosts, run.keys, run.groups
    objective = model.objective
    me = sitename(Party(ctx.role, ctx.party_id))
    first_round = len(model.forest.trees) // objective.tree_dim
    for round_index in range(params.num_trees):
        g_all, h_all = objective.gradients(labels, scores)
        for dim in range(objective.tree_dim):
            g = g_all[:, dim] if objective.tree_dim > 1 else g_all
            h = h_all[:, dim] if objective.tree_dim > 1 else h_all
            last = round_index == params.num_trees - 1 and dim == objective.tree_dim - 1
            grower = _GuestTree(channel, hosts, me, len(model.forest.trees), data, params, keys, last)
            builder = grower.grow(
                g, h, sampled_rows(params, round_index, g), round_index < params.complete_secure
            )
            update = model.learning_rate * builder.leaf_weights()
            if objective.tree_dim > 1:
                scores[:, dim] += update
            else:
                scores = scores + update
            nodes = builder.ordered_nodes()
            model.forest.trees.append(nodes)
            model.forest.splits.append(grower.splits)
            model.forest.importance.append(importance_of(nodes, grower.splits, with_gain=True))
            if run.validation is not None:
                run.validation.add_tree(len(model.forest.trees) - 1, nodes, grower.splits, model)
        loss = objective.loss(labels, scores)
        model.loss_history.append(loss)
        step = first_round + round_index
        ctx.log_metric("sbt_loss", loss, type="loss", step=step, step_axis="iterations", groups=groups)
        if run.validation is not None:
            run.validation.log(ctx, model, step, groups)
        ctx.report_progress(min(85, 5 + 80 * (round_index + 1) // params.num_trees))
    return scores


@dataclass
class _GuestTree:
    """One tree at the guest: its own splits from plaintext histograms, each host's from ciphertexts."""

    channel: Channel
    hosts: list[Party]
    me: str
    index: int
    data: feats.Binned
    params: BoostParams
    keys: Keys
    last: bool = False

    def __post_init__(self) -> None:
        self.splits: dict[int, SplitValue] = {}

    def grow(self, g: np.ndarray, h: np.ndarray, sampled: np.ndarray, guest_only: bool) -> TreeBuilder:
        builder = TreeBuilder(g, h, sampled, self.params.split, self.params.max_depth, self.me)
        local = LocalSplits(self.data.bins, self.data.n_bins, self.me, hist_sub=self.params.hist_sub)
        if guest_only:  # complete_secure: the hosts only learn the tree's shape
            self.channel.send(f"t{self.index}.gh", self.hosts, {"mode": "guest"})
        remote = [] if guest_only else self._start_hosts(g, h, sampled)
        tag = f"t{self.index}"
        while not builder.done:
            level = f"{tag}.l{builder.depth}"
            entries = [[n.nid, n.parent_nodeid, n.sibling_nodeid, n.sample_num] for n in builder.level]
            for source in remote:
                self.channel.send(
                    f"{level}.level", source.host, {"entries": entries}, positions=builder.positions
                )
            with timing.measure("split"):
                own = local.level_best(builder)
            chosen = choose([own, *[source.level_best(builder, level) for source in remote]])
            split = builder.apply(chosen)
            self._route(builder, split, local, remote, level)
            builder.finish_level()
        for source in remote:
            self.channel.send(f"{tag}.l{builder.depth}.level", source.host, {"done": True})
        shape = [_masked(n) for n in builder.ordered_nodes()]
        self.channel.send(f"{tag}.tree", self.hosts, {"nodes": shape})
        return builder

    def _start_hosts(self, g: np.ndarray, h: np.ndarray, sampled: np.ndarray) -> list[HostSplits]:
        regression = self.params.objective == REGRESSION_L2
        rows = int(sampled.sum())
        codec = GHCodec.for_gradients(g[sampled], rows, regression=regression, packed=self._gh_pack())
        prefill = self.keys.prefill
        with timing.measure("encrypt"):
            if prefill is not None:
                prefill.wait()
            pool = None if prefill is None else prefill.pool
            vectors = gh_pack.encrypt_gh(self.keys.public_key, codec, g[sampled], h[sampled], pool=pool)
        if prefill is not None and not self.last:  # for the next tree, while this one waits for the hosts
            prefill.start(len(g) * codec.channels)
        header = {"mode": "all", "codec": codec.to_dict(), "split_info_pack": self._split_info_pack()}
        self.channel.send(
            f"t{self.index}.gh",
            self.hosts,
            header,
            {f"gh{c}": v for c, v in enumerate(vectors)},
            sampled=sampled,
        )
        return [HostSplits(self.channel, host, codec, self.keys) for host in self.hosts]

    def _gh_pack(self) -> bool:
        return self.keys.gh_pack

    def _split_info_pack(self) -> bool:
        return self.keys.split_info_pack

    def _route(
        self,
        builder: TreeBuilder,
        split: list[Node],
        local: LocalSplits,
        remote: list[HostSplits],
        level: str,
    ) -> None:
        rows_of = {node.nid: builder.rows_at(node.nid) for node in split}
        for source in remote:
            won = [node for node in split if node.sitename == source.site]
            self.channel.send(f"{level}.won", source.host, {"won": [[n.nid, n.split_id] for n in won]})
        for node in split:
            if node.sitename == self.me:
                assert node.fid is not None and node.bid is not None
                self.splits[node.nid] = SplitValue(
                    node.fid, self.data.names[node.fid], self.data.split_value(node.fid, node.bid)
                )
                builder.route(node, rows_of[node.nid], local.left_rows(node, rows_of[node.nid]))
        for source in remote:
            won = [node for node in split if node.sitename == source.site]
            left = self.channel.receive(f"{level}.left", source.host).array("left").astype(bool)
            if len(left) != sum(len(rows_of[n.nid]) for n in won):
                raise ComponentError(f"hetero_secureboost: {source.host} routed a different number of rows")
            offset = 0
            for node in won:
                rows = rows_of[node.nid]
                builder.route(node, rows, left[offset : offset + len(rows)])
                offset += len(rows)


def _masked(node: Node) -> dict[str, Any]:
    """A node as a host may see it: shape and owner, no g, h or weight."""
    return {
        "nid": node.nid,
        "sitename": node.sitename,
        "sample_num": node.sample_num,
        "is_leaf": node.is_leaf,
        "split_id": node.split_id,
        "l": node.l,
        "r": node.r,
        "is_left_node": node.is_left_node,
        "sibling_nodeid": node.sibling_nodeid,
        "parent_nodeid": node.parent_nodeid,
    }


def _check_labels(labels: np.ndarray, objective: Objective) -> None:
    if objective.name == REGRESSION_L2:
        return
    values = set(np.unique(labels).tolist())
    if any(float(v) != int(v) for v in values):
        raise ComponentError("hetero_secureboost: classification needs integer labels")
    if objective.name == BINARY_BCE and values != {0, 1}:
        raise ComponentError(f"hetero_secureboost: binary:bce needs labels 0 and 1, found {sorted(values)}")
    if objective.name == MULTI_CE and (min(values) < 0 or max(values) >= objective.num_class):
        raise ComponentError(
            f"hetero_secureboost: multi:ce labels must lie in 0..num_class-1 ({objective.num_class - 1}),"
            f" found {sorted(values)}"
        )


def _starting_model(
    ctx: ComponentContext, params: BoostParams, names: list[str], warm: GuestModel | None
) -> GuestModel:
    hyper = {key: ctx.parameters[key] for key in MODEL_HYPER_KEYS}
    if warm is None:
        return GuestModel(
            Forest(), params.objective_of(), params.learning_rate, None, [], {**hyper, "feature_names": names}
        )
    if warm.objective != params.objective_of():
        raise ComponentError(
            f"hetero_secureboost: the warm_start_model was trained for {warm.objective.name},"
            f" the parameters ask for {params.objective}"
        )
    if warm.hyper["feature_names"] != names:
        raise ComponentError(
            "hetero_secureboost: the train_data's features differ from the warm_start_model's"
        )
    # As FATE, the saved model's learning rate applies to the new trees too (prediction uses one rate).
    warm.hyper.update(hyper)
    return warm


def _starting_scores(
    ctx: ComponentContext,
    channel: Channel,
    model: GuestModel,
    hosts: list[Party],
    features: np.ndarray,
    labels: np.ndarray,
) -> np.ndarray:
    """The warm start model's raw scores of the rows (the hosts answer for their nodes), else FATE's
    initial scores."""
    if model.forest.trees:
        me = sitename(Party(ctx.role, ctx.party_id))
        return raw_scores(channel.child("warm_start"), hosts, model, features, me)
    model.init_score = model.objective.init_score(labels)
    return model.objective.initial_scores(len(labels), model.init_score)
