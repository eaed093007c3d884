"""Typed messages of the coordinated linear protocol over a ComponentContext: named numpy arrays, Paillier
public keys and encrypted vectors, each under a tag made of the scope (train / class / fold, epoch, batch)
and the message name, so that every message is sent once per pair as the transport requires."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.coordinated_lr import timing
from fate_grpc.components.model_common import parties
from fate_grpc.crypto import paillier

# How long a party waits for a peer's message: a batch can take minutes on big data with 2048-bit keys.
RECEIVE_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class Channel:
    """Messages of one scope (e.g. ``lr.train.c0``) between this party and its peers."""

    ctx: ComponentContext
    scope: str

    def child(self, name: str) -> Channel:
        return Channel(self.ctx, f"{self.scope}.{name}")

    def tag(self, name: str) -> str:
        return f"{self.scope}.{name}"

    def send_arrays(self, name: str, to: Party | Sequence[Party], **arrays: np.ndarray) -> None:
        payload = encode_arrays(arrays)
        with timing.measure("transfer"):
            for party in _parties(to):
                self.ctx.send(self.tag(name), party, payload)

    def receive_arrays(self, name: str, source: Party) -> dict[str, np.ndarray]:
        payload = self._receive(name, source)
        try:
            return decode_arrays(payload)
        except (ValueError, OSError) as exc:
            raise ComponentError(f"bad {name!r} message from {source}: {exc}") from None

    def receive_array(self, name: str, source: Party, key: str = "value") -> np.ndarray:
        arrays = self.receive_arrays(name, source)
        if key not in arrays:
            raise ComponentError(f"the {name!r} message from {source} lacks {key!r}")
        return arrays[key]

    def send_vector(self, name: str, to: Party | Sequence[Party], vector: paillier.EncryptedVector) -> None:
        payload = vector.to_bytes()
        with timing.measure("transfer"):
            for party in _parties(to):
                self.ctx.send(self.tag(name), party, payload)

    def receive_vector(
        self, name: str, source: Party, public_key: paillier.PublicKey, length: int | None = None
    ) -> paillier.EncryptedVector:
        payload = self._receive(name, source)
        try:
            vector = paillier.EncryptedVector.from_bytes(public_key, payload)
        except ValueError as exc:
            raise ComponentError(f"bad encrypted {name!r} from {source}: {exc}") from None
        if length is not None and len(vector) != length:
            raise ComponentError(f"{source} sent {len(vector)} values of {name!r}; {length} were expected")
        return vector

    def _receive(self, name: str, source: Party) -> bytes:
        with timing.measure("transfer"):
            return self.ctx.receive(self.tag(name), source, timeout_s=RECEIVE_TIMEOUT_S)

    def send_public_key(self, to: Sequence[Party], public_key: paillier.PublicKey) -> None:
        payload = public_key.to_bytes()
        for party in to:
            self.ctx.send(self.tag("public_key"), party, payload)

    def receive_public_key(self, source: Party) -> paillier.PublicKey:
        payload = self._receive("public_key", source)
        try:
            key = paillier.PublicKey.from_bytes(payload)
        except ValueError as exc:
            raise ComponentError(f"bad public key from {source}: {exc}") from None
        if key.key_bits < paillier.MIN_KEY_BITS:
            raise ComponentError(
                f"the arbiter's key has {key.key_bits} bits, fewer than {paillier.MIN_KEY_BITS}"
            )
        return key


def _parties(to: Party | Sequence[Party]) -> Sequence[Party]:
    return [to] if isinstance(to, Party) else to


def ids_digest(ids: Sequence[str]) -> np.ndarray:
    """``parties.ids_digest`` as a byte array, as the parties send it."""
    return np.frombuffer(parties.ids_digest(ids), dtype=np.uint8).copy()


def guest_and_hosts(ctx: ComponentContext) -> tuple[Party, list[Party]]:
    """The guest and the hosts (prediction needs no arbiter)."""
    return parties.guest_and_hosts(ctx, "coordinated linear models")


def roles(ctx: ComponentContext) -> tuple[Party, list[Party], Party]:
    """The guest, the hosts (in party order) and the arbiter of the task."""
    guests = [p for p in ctx.parties if p.role == "guest"]
    hosts = [p for p in ctx.parties if p.role == "host"]
    arbiters = [p for p in ctx.parties if p.role == "arbiter"]
    if len(guests) != 1 or len(arbiters) != 1 or not hosts:
        raise ComponentError(
            "coordinated linear models need one guest, one arbiter and at least one host; this task has"
            f" {len(guests)} guest(s), {len(hosts)} host(s) and {len(arbiters)} arbiter(s)"
        )
    return guests[0], hosts, arbiters[0]
