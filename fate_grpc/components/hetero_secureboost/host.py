"""The host's part of hetero_secureboost: it holds features only.

Per tree it receives the guest's encrypted g/h (Paillier or OU; one ciphertext per sampled row, or two
without ``gh_pack``) and per level the node of every row; it sums the ciphertexts per node, feature and
bin (the smaller child of each split from rows, its sibling by subtraction), makes the sums cumulative,
keeps each node's distinct candidates, shuffles them with a secret per-tree permutation, packs several
per ciphertext and sends them with the plaintext row counts. The guest answers which of its anonymous
candidates won a node; the host keeps the feature and threshold and returns the left/right assignment of
the rows on that node.

What the host learns: the encrypted g/h (never a label, g or h in plaintext), which rows sit on which node
of every tree (FATE's sample positions) and with GOSS which rows were sampled, which of its own splits won,
and the tree shapes without weights. Its thresholds never leave it. Predicting, it receives the rows on its
own nodes and answers their directions.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fate_grpc.components import table as tables
from fate_grpc.components.context import ComponentContext, ComponentError, InputModel, Party
from fate_grpc.components.hetero_secureboost import features as feats
from fate_grpc.components.hetero_secureboost import timing, validation
from fate_grpc.components.hetero_secureboost.messages import (
    Channel,
    Message,
    guest_and_hosts,
    ids_digest,
    sitename,
)
from fate_grpc.components.hetero_secureboost.model import (
    Forest,
    SplitValue,
    forest_document,
    importance_of,
    read_forest,
)
from fate_grpc.components.hetero_secureboost.prediction import check_rows, serve_predictions
from fate_grpc.components.hetero_secureboost.workers import PARALLEL_MIN_ROWS
from fate_grpc.components.model_common.crypto_workers import CryptoWorkers
from fate_grpc.crypto import gh_pack, ou, paillier
from fate_grpc.crypto.gh_pack import GHCodec
from fate_grpc.ml.secureboost import histogram as hist
from fate_grpc.ml.secureboost.tree import Node


def train(ctx: ComponentContext) -> None:
    table = ctx.read_input_table("train_data")
    warm = ctx.read_input_model("warm_start_model") if ctx.input_count("warm_start_model") > 0 else None
    validate = ctx.read_input_table("validate_data") if ctx.has_input("validate_data") else None
    forest, data = fit(ctx, Channel(ctx, "sbt.train"), table, warm=warm, validate=validate)
    ctx.write_output_model("output_model", host_document(ctx.parameters, forest, data.names), {})


def fit(
    ctx: ComponentContext,
    channel: Channel,
    table: tables.Table,
    *,
    warm: InputModel | None = None,
    validate: tables.Table | None = None,
) -> tuple[Forest, feats.Binned]:
    """Take part in the guest's training on ``table`` (and its tree-by-tree scoring of ``validate``): the
    forest (this host's view) and the binned data."""
    guest, _ = guest_and_hosts(ctx)
    timing.reset()
    data = feats.binned(table, ctx.parameters["max_bin"])
    forest = Forest() if warm is None else read_forest(warm, data.names, what="warm_start_model")[1]
    setup = channel.receive("setup", guest)
    check_rows(setup, table, "train_data")
    if int(setup.header["existing_trees"]) != len(forest.trees):
        raise ComponentError(
            f"hetero_secureboost: the guest continues {setup.header['existing_trees']} trees, this host's"
            f" warm_start_model has {len(forest.trees)}"
        )
    if forest.trees:
        serve_predictions(channel.child("warm_start"), guest, forest, data.features)
    checked = _validate_features(setup, validate, data.names)
    if checked is not None and forest.trees:
        validation.serve_warm_start(channel.child("validate"), guest, forest, checked)
    public_key = _public_key(setup)
    # HEU's view of the key takes 0.2 s (1024 bits) to 1.5 s (2048) to build: while the guest encrypts.
    threading.Thread(
        target=gh_pack.histogram_kernel, args=(public_key, data.n_bins), name="heu-key", daemon=True
    ).start()
    me = sitename(Party(ctx.role, ctx.party_id))
    total = max(1, int(setup.header["total_trees"]))
    with CryptoWorkers(len(table), min_rows=PARALLEL_MIN_ROWS) as executor:
        for index in range(len(forest.trees), len(forest.trees) + int(setup.header["new_trees"])):
            tree = _HostTree(channel, guest, me, index, data, public_key, ctx.parameters, executor)
            nodes, splits = tree.run()
            forest.trees.append(nodes)
            forest.splits.append(splits)
            forest.importance.append(importance_of(nodes, splits, with_gain=False))
            if checked is not None:
                validation.serve_tree(channel.child("validate"), guest, index, nodes, splits, checked)
            ctx.report_progress(min(80, 5 + 75 * (index + 1) // total))
    ctx.log.info(f"secureboost histogram kernel: {gh_pack.histogram_kernel(public_key, data.n_bins)}")
    ctx.log.info(timing.summary(int(setup.header["new_trees"])))
    return forest, data


def _validate_features(setup: Message, validate: tables.Table | None, names: list[str]) -> np.ndarray | None:
    """This host's validate features when the guest scores validate rows (None otherwise).

    Raises:
        ComponentError: The guest validates but this host has no validate_data, or other rows.
    """
    digest = setup.header.get("validate_digest")
    if digest is None:
        return None
    if validate is None:
        raise ComponentError(
            "hetero_secureboost: the guest has validate_data; give this host its validate_data too"
        )
    if digest != ids_digest(validate.ids.tolist()):
        raise ComponentError(
            "hetero_secureboost: the guest's and this host's validate_data rows differ (run psi on them)"
        )
    return feats.feature_matrix(validate, names)[0]


def predict(ctx: ComponentContext) -> None:
    guest, _ = guest_and_hosts(ctx)
    table = ctx.read_input_table("test_data")
    model = ctx.read_input_model("input_model")
    names = (
        [str(v) for v in (model.data.get("fid_name_mapping") or {}).values()]
        if isinstance(model.data, dict)
        else []
    )
    features, _ = feats.feature_matrix(table, names)
    _, forest = read_forest(model, names, what="input_model")
    channel = Channel(ctx, "sbt.predict")
    check_rows(channel.receive("rows", guest), table, "test_data")
    serve_predictions(channel, guest, forest, features)


def host_document(params: dict[str, Any], forest: Forest, names: list[str]) -> dict[str, Any]:
    hyper = {key: params[key] for key in ("num_trees", "max_depth", "max_bin", "complete_secure")}
    tree_hyper = {
        "max_depth": params["max_depth"],
        "use_missing": False,
        "zero_as_missing": False,
        "valid_features": None,
    }
    return {"hyper_param": hyper, **forest_document(forest, names, tree_hyper, with_stats=False)}


@dataclass
class _HostTree:
    """One tree at the host: histograms per level, the splits it won, the tree shape at the end."""

    channel: Channel
    guest: Party
    site: str
    index: int
    data: feats.Binned
    public_key: paillier.PublicKey
    params: dict[str, Any]
    executor: Executor | None = None
    permutations: dict[int, np.ndarray] = field(default_factory=dict)
    won: dict[int, SplitValue] = field(default_factory=dict)
    cache: dict[int, list[paillier.EncryptedVector]] = field(default_factory=dict)

    def run(self) -> tuple[list[Node], dict[int, SplitValue]]:
        start = self.channel.receive(f"t{self.index}.gh", self.guest)
        if start.header["mode"] == "all":
            self._levels(start)
        shape = self.channel.receive(f"t{self.index}.tree", self.guest)
        nodes = [_node_of(entry) for entry in shape.header["nodes"]]
        return nodes, {nid: split for nid, split in self.won.items() if nodes[nid].sitename == self.site}

    def _levels(self, start: Message) -> None:
        codec = GHCodec.from_dict(start.header["codec"])
        sampled = start.array("sampled").astype(bool)
        vectors = [start.vector(f"gh{c}", self.public_key) for c in range(codec.channels)]
        if any(len(v) != int(sampled.sum()) for v in vectors):
            raise ComponentError("hetero_secureboost: the guest sent g/h for a different number of rows")
        bins = self.data.bins[sampled]
        depth = 0
        while True:
            level = self.channel.receive(f"t{self.index}.l{depth}.level", self.guest)
            if level.header.get("done"):
                return
            positions = level.array("positions").astype(np.int64)
            if positions.shape != sampled.shape:
                raise ComponentError(
                    "hetero_secureboost: the guest sent positions for a different number of rows"
                )
            entries = [tuple(e) for e in level.header["entries"]]
            with timing.measure("histogram"):
                sums, counts = self._histograms(entries, positions[sampled], vectors, bins, codec)
                pack = bool(start.header["split_info_pack"])
                packed = [gh_pack.pack_for_guest(v, codec, pack=pack, executor=self.executor) for v in sums]
            self.channel.send(
                f"t{self.index}.l{depth}.hist",
                self.guest,
                vectors={f"hist{c}": vec for c, (vec, _) in enumerate(packed)},
                counts=np.concatenate(counts).astype(np.int64) if counts else np.zeros(0, dtype=np.int64),
                sizes=np.asarray([len(c) for c in counts], dtype=np.int64),
            )
            self._route(positions, depth)
            depth += 1

    def _route(self, positions: np.ndarray, depth: int) -> None:
        won = self.channel.receive(f"t{self.index}.l{depth}.won", self.guest)
        answers = []
        for nid, split_id in won.header["won"]:
            permutation = self.permutations.get(int(nid))
            if permutation is None or not 0 <= int(split_id) < len(permutation):
                raise ComponentError(f"hetero_secureboost: the guest named an unknown split of node {nid}")
            fid, bid = divmod(int(permutation[int(split_id)]), self.data.n_bins)
            if bid >= len(self.data.points[fid]):
                raise ComponentError(f"hetero_secureboost: the guest chose an empty bin of node {nid}")
            self.won[int(nid)] = SplitValue(fid, self.data.names[fid], self.data.split_value(fid, bid))
            rows = np.flatnonzero(positions == int(nid))
            answers.append(self.data.bins[rows, fid] <= bid)
        left = np.concatenate(answers) if answers else np.zeros(0, dtype=bool)
        self.channel.send(f"t{self.index}.l{depth}.left", self.guest, left=left)

    def _histograms(
        self,
        entries: list[tuple[Any, ...]],
        positions: np.ndarray,
        vectors: list[paillier.EncryptedVector],
        bins: np.ndarray,
        codec: GHCodec,
    ) -> tuple[list[paillier.EncryptedVector], list[np.ndarray]]:
        """Cumulative, shuffled encrypted sums of the candidates of every level node (level order, see
        ``distinct_candidates``), and their row counts per node."""
        per_node = self._node_histograms(entries, positions, vectors, bins)
        all_index = np.full(len(positions), -1, dtype=np.int64)
        for k, entry in enumerate(entries):
            all_index[positions == int(entry[0])] = k
        zeros = np.zeros(len(positions))
        n_bins = self.data.n_bins
        counts = hist.block_histogram(bins, zeros, zeros, all_index, len(entries), n_bins).cumulative().count
        rng = np.random.default_rng(secrets.randbits(128))
        shuffled_counts: list[np.ndarray] = []
        out: list[list[Any]] = [[] for _ in vectors]
        for k, entry in enumerate(entries):
            order = distinct_candidates(counts[k], int(entry[3]))
            order = order[rng.permutation(len(order))]
            self.permutations[int(entry[0])] = order
            shuffled_counts.append(counts[k].reshape(-1)[order])
            for c, vector in enumerate(per_node[int(entry[0])]):
                cumulative = gh_pack.cumulative(vector, n_bins).ciphertexts
                out[c].extend(cumulative[i] for i in order.tolist())
        sums = [paillier.EncryptedVector(self.public_key, cts, 0) for cts in out]
        return sums, shuffled_counts

    def _node_histograms(
        self,
        entries: list[tuple[Any, ...]],
        positions: np.ndarray,
        vectors: list[paillier.EncryptedVector],
        bins: np.ndarray,
    ) -> dict[int, list[paillier.EncryptedVector]]:
        """Per level node, its encrypted (feature, bin) sums per channel: the smaller child of each split from
        rows, its sibling as the cached parent minus it. Kept for the next level's subtraction."""
        n_bins = self.data.n_bins
        size = bins.shape[1] * n_bins
        plan = hist.subtraction_plan(
            [(int(a), _opt(b), _opt(c), int(d)) for a, b, c, d in entries],
            self.cache if self.params["hist_sub"] else (),
        )
        direct = list(plan.direct)
        index = np.full(len(positions), -1, dtype=np.int64)
        for k, nid in enumerate(direct):
            index[positions == nid] = k
        computed = [
            gh_pack.encrypted_histogram(v, bins, index, len(direct), n_bins, executor=self.executor)
            for v in vectors
        ]
        per_node = {nid: [_slice(c, k * size, size) for c in computed] for k, nid in enumerate(direct)}
        for nid, parent, sibling in plan.derived:
            per_node[nid] = [
                gh_pack.subtract(p, s) for p, s in zip(self.cache[parent], per_node[sibling], strict=True)
            ]
        self.cache = per_node
        return per_node


def distinct_candidates(cumulative_counts: np.ndarray, node_rows: int) -> np.ndarray:
    """Flat (feature, bin) indices of the candidates worth sending for one node: those leaving rows on both
    sides (any other is refused whatever min_leaf_node is), and of several bins with the same cumulative
    count in a feature (empty bins between them) only the lowest, which is the one the plaintext booster
    would pick among their equal gains. The guest learns nothing new from it: it sees every candidate's
    count anyway."""
    counts = np.asarray(cumulative_counts)
    previous = np.concatenate([np.full((counts.shape[0], 1), -1), counts[:, :-1]], axis=1)
    keep = (counts > 0) & (counts < node_rows) & (counts != previous)
    return np.flatnonzero(keep.reshape(-1))


def _public_key(setup: Message) -> paillier.PublicKey:
    """The guest's Paillier or OU public key (``he_param.kind``)."""
    data = setup.array("public_key").tobytes()
    try:
        if setup.header.get("he_kind") == "ou":
            return ou.OUPublicKey.from_bytes(data)
        return paillier.PublicKey.from_bytes(data)
    except ValueError as error:
        raise ComponentError(f"hetero_secureboost: a bad public key from the guest: {error}") from None


def _slice(vector: paillier.EncryptedVector, start: int, size: int) -> paillier.EncryptedVector:
    return paillier.EncryptedVector(vector.public_key, vector.ciphertexts[start : start + size], 0)


def _opt(value: Any) -> int | None:
    return None if value is None else int(value)


def _node_of(entry: dict[str, Any]) -> Node:
    """A masked node as the guest sends it (no g, h or weight)."""
    return Node(
        nid=int(entry["nid"]),
        sitename=str(entry["sitename"]),
        sample_num=int(entry["sample_num"]),
        is_leaf=bool(entry["is_leaf"]),
        split_id=entry.get("split_id"),
        l=entry.get("l"),
        r=entry.get("r"),
        is_left_node=bool(entry["is_left_node"]),
        sibling_nodeid=entry.get("sibling_nodeid"),
        parent_nodeid=entry.get("parent_nodeid"),
    )
