"""The federation steps of homo_lr: setup (sample counts -> FedAvg weights, checks that the clients train
the same model), pairwise key agreement between clients, and the masked rounds.

Messages (scope ``homo_lr.train``):

* client -> arbiter ``setup``: its row count, (features, heads, fit_intercept, epochs) and a digest of its
  feature column names; arbiter -> client ``plan``: the client's weight n_i / sum(n), or the reason the
  clients do not agree (every client fails with it);
* client -> client ``pair_key``: a fresh X25519 public key for that peer (sent directly, not via the
  arbiter);
* per round r: client -> arbiter ``r<r>.masked``: the masked fixed-point encoding of
  ``n_i / sum(n) * [parameters..., local loss]``; arbiter -> every client ``r<r>.average``: the decoded sum
  without its last value (the average loss stays with the arbiter, as in FATE).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.homo_lr import timing
from fate_grpc.components.homo_lr.channel import Channel, read_text, text
from fate_grpc.crypto import secure_aggregation as secagg
from fate_grpc.ml.homo.fedavg import sample_weights


@dataclass(frozen=True)
class Shape:
    """What every client must agree on."""

    features: int
    heads: int
    fit_intercept: bool
    epochs: int

    @property
    def length(self) -> int:
        """The masked vector's length: every parameter, then the loss."""
        return self.heads * self.features + (self.heads if self.fit_intercept else 0) + 1

    def array(self) -> np.ndarray:
        return np.array([self.features, self.heads, int(self.fit_intercept), self.epochs], dtype=np.int64)

    def describe(self) -> str:
        return (
            f"{self.features} features, {self.heads} head(s), fit_intercept {self.fit_intercept},"
            f" {self.epochs} epochs"
        )


def columns_digest(columns: Sequence[str]) -> np.ndarray:
    """SHA-256 of the ordered feature names: the arbiter compares digests, never sees the names."""
    digest = hashlib.sha256("\x00".join(columns).encode()).digest()
    return np.frombuffer(digest, dtype=np.uint8).copy()


def client_setup(channel: Channel, arbiter: Party, rows: int, shape: Shape, columns: Sequence[str]) -> float:
    """Send this client's setup; its FedAvg weight.

    Raises:
        ComponentError: The arbiter found that the clients disagree (the reason names the clients).
    """
    rows_array = np.array([rows], dtype=np.int64)
    channel.send("setup", arbiter, rows=rows_array, shape=shape.array(), columns=columns_digest(columns))
    plan = channel.receive("plan", arbiter, "weight", "problem")
    problem = read_text(plan["problem"])
    if problem:
        raise ComponentError(problem)
    return float(plan["weight"].reshape(-1)[0])


def arbiter_setup(channel: Channel, clients: Sequence[Party]) -> Shape:
    """Collect every client's setup, answer each with its weight (or the problem); the agreed shape.

    Raises:
        ComponentError: A client is missing, or the clients' models or columns differ (named).
    """
    received = [channel.receive("setup", c, "rows", "shape", "columns") for c in clients]
    counts = [int(m["rows"].reshape(-1)[0]) for m in received]
    shapes = [_shape(m["shape"]) for m in received]
    problem = _disagreement(clients, counts, shapes, [m["columns"] for m in received])
    weights = sample_weights(counts) if not problem else np.zeros(len(clients))
    for client, weight in zip(clients, weights, strict=True):
        channel.send("plan", client, weight=np.array([weight]), problem=text(problem))
    if problem:
        raise ComponentError(problem)
    return shapes[0]


def _shape(array: np.ndarray) -> Shape:
    values = [int(v) for v in np.asarray(array).reshape(-1)[:4]]
    if len(values) != 4:
        raise ComponentError("homo_lr: a client's setup lacks its model shape")
    return Shape(values[0], values[1], bool(values[2]), values[3])


def _disagreement(
    clients: Sequence[Party], counts: list[int], shapes: list[Shape], digests: list[np.ndarray]
) -> str:
    for client, count in zip(clients, counts, strict=True):
        if count <= 0:
            return f"homo_lr: {client} has no training rows"
    first = clients[0]
    for client, shape, digest in zip(clients[1:], shapes[1:], digests[1:], strict=True):
        if shape != shapes[0]:
            return (
                f"homo_lr: the clients must train the same model, but {client} has {shape.describe()}"
                f" and {first} has {shapes[0].describe()} (check the data, label_num/ovr, init_param and"
                " epochs)"
            )
        if not np.array_equal(digest, digests[0]):
            return f"homo_lr: {client}'s feature columns differ from {first}'s (names or order)"
    return ""


@dataclass(frozen=True)
class SecureClient:
    """A client's side of the masked rounds: its rank, FedAvg weight and the seed shared with each peer."""

    channel: Channel
    arbiter: Party
    rank: int
    weight: float
    seeds: dict[int, bytes]

    @classmethod
    def agree(
        cls, channel: Channel, clients: Sequence[Party], me: Party, arbiter: Party, weight: float
    ) -> SecureClient:
        """Run X25519 with every other client (public keys sent directly to each peer)."""
        rank = list(clients).index(me)
        with timing.measure("mask"):
            keys = {r: secagg.KeyPair.new() for r in range(len(clients)) if r != rank}
        for peer_rank, pair in keys.items():
            own_public = np.frombuffer(pair.public, dtype=np.uint8).copy()
            channel.send("pair_key", clients[peer_rank], public=own_public)
        seeds = {}
        for peer_rank, pair in keys.items():
            peer = clients[peer_rank]
            received = channel.receive("pair_key", peer, "public")["public"]
            public = np.asarray(received, dtype=np.uint8).tobytes()
            low, high = sorted((rank, peer_rank))
            context = f"{channel.scope}|{clients[low]}|{clients[high]}".encode()
            try:
                with timing.measure("mask"):
                    seeds[peer_rank] = secagg.pair_seed(pair, public, context)
            except secagg.SecureAggregationError as exc:
                raise ComponentError(f"homo_lr: key agreement with {peer} failed: {exc}") from None
        return cls(channel, arbiter, rank, weight, seeds)

    def submit(self, round_number: int, parameters: np.ndarray, loss: float) -> None:
        """Send the masked, weighted parameters and loss of this round to the arbiter."""
        values = self.weight * np.append(np.asarray(parameters, dtype=np.float64).reshape(-1), loss)
        try:
            with timing.measure("mask"):
                masked = secagg.mask(values, self.rank, self.seeds, round_number, "model")
        except secagg.SecureAggregationError as exc:
            raise ComponentError(
                f"homo_lr: round {round_number}: the model cannot be aggregated ({exc}); the training"
                " diverged, lower optimizer_params.lr"
            ) from None
        self.channel.send(f"r{round_number}.masked", self.arbiter, value=masked)

    def average(self, round_number: int, size: int) -> np.ndarray:
        """The averaged parameters the arbiter returns for this round."""
        value = self.channel.receive(f"r{round_number}.average", self.arbiter, "value")["value"]
        average = np.asarray(value, dtype=np.float64).reshape(-1)
        if average.size != size:
            raise ComponentError(f"homo_lr: the arbiter sent {average.size} averaged values for {size}")
        return average


def aggregate_round(channel: Channel, clients: Sequence[Party], round_number: int, length: int) -> np.ndarray:
    """The sum of every client's masked vector of this round, decoded (the weighted average).

    Raises:
        ComponentError: A client sent nothing (dropped out) or a malformed vector; the round fails naming
            it, since the other clients' masks cannot be removed without it (no dropout recovery, as FATE).
    """
    masked = []
    for client in clients:
        try:
            vector = channel.receive(f"r{round_number}.masked", client, "value")["value"]
        except ComponentError as exc:
            raise ComponentError(
                f"homo_lr: aggregation round {round_number} failed: no masked model from {client} ({exc})."
                " Secure aggregation cannot finish a round without every client: the pairwise masks of the"
                " others do not cancel, and there is no dropout recovery (as in FATE)"
            ) from None
        if vector.dtype != np.uint64 or vector.shape != (length,):
            raise ComponentError(
                f"homo_lr: aggregation round {round_number}: {client} sent {vector.shape} {vector.dtype}"
                f" values; {length} uint64 values were expected"
            )
        masked.append(vector)
    with timing.measure("mask"):
        return secagg.unmasked_sum(masked, length)
