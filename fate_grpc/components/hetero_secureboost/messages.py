"""hetero_secureboost's messages: a JSON header plus named arrays and ciphertext vectors, under a tag made
of the stage's scope and the message name (every message is sent once per pair, as the transport asks)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.hetero_secureboost import timing
from fate_grpc.components.model_common import parties
from fate_grpc.crypto import paillier

# A host may compute a level's histograms for minutes on large data with 2048-bit keys.
RECEIVE_TIMEOUT_S = 3600.0
_HEADER = "header"
_VECTOR_PREFIX = "vector_"


@dataclass(frozen=True)
class Message:
    header: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def array(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            raise ComponentError(f"a hetero_secureboost message lacks {name!r}")
        return self.arrays[name]

    def vector(self, name: str, public_key: paillier.PublicKey) -> paillier.EncryptedVector:
        data = self.array(_VECTOR_PREFIX + name).tobytes()
        try:
            return paillier.EncryptedVector.from_bytes(public_key, data)
        except ValueError as error:
            raise ComponentError(f"a bad encrypted vector {name!r}: {error}") from None


@dataclass(frozen=True)
class Channel:
    """Messages of one scope (``sbt.train``, ``sbt.predict.test``) between this party and its peers."""

    ctx: ComponentContext
    scope: str

    def child(self, name: str) -> Channel:
        return Channel(self.ctx, f"{self.scope}.{name}")

    def send(
        self,
        name: str,
        to: Party | Sequence[Party],
        header: dict[str, Any] | None = None,
        vectors: dict[str, paillier.EncryptedVector] | None = None,
        **arrays: np.ndarray,
    ) -> None:
        payload = dict(arrays)
        payload[_HEADER] = np.frombuffer(json.dumps(header or {}).encode(), dtype=np.uint8)
        for key, vector in (vectors or {}).items():
            payload[_VECTOR_PREFIX + key] = np.frombuffer(vector.to_bytes(), dtype=np.uint8)
        data = encode_arrays(payload)
        parties = [to] if isinstance(to, Party) else list(to)
        timing.count_ciphertexts(len(parties) * sum(len(v) for v in (vectors or {}).values()))
        with timing.measure("transfer"):
            for party in parties:
                self.ctx.send(f"{self.scope}.{name}", party, data)

    def receive(self, name: str, source: Party) -> Message:
        with timing.measure("transfer"):
            data = self.ctx.receive(f"{self.scope}.{name}", source, timeout_s=RECEIVE_TIMEOUT_S)
        try:
            arrays = decode_arrays(data)
            header = json.loads(arrays.pop(_HEADER).tobytes().decode())
        except (ValueError, KeyError, OSError, UnicodeDecodeError) as error:
            raise ComponentError(f"a bad {name!r} message from {source}: {error}") from None
        return Message(header, arrays)


def ids_digest(ids: Sequence[str]) -> str:
    """``parties.ids_digest`` in hex, as it travels in a message header."""
    return parties.ids_digest(ids).hex()


def guest_and_hosts(ctx: ComponentContext) -> tuple[Party, list[Party]]:
    return parties.guest_and_hosts(ctx, "hetero_secureboost")


def sitename(party: Party) -> str:
    """FATE's site name of a party, e.g. ``guest_9999``."""
    return f"{party.role}_{party.party_id}"
