"""The messages between the guest and the host of an SSHE task: named numpy arrays, ring elements and
Paillier ciphertexts, each under a tag made of the scope (train / class / fold, epoch, batch) and the name,
so that every message is sent once as the transport requires."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gmpy2 import mpz

from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.model_common import parties
from fate_grpc.components.sshe_lr import timing
from fate_grpc.crypto import paillier
from fate_grpc.crypto.paillier_pool import from_fixed_bytes, to_fixed_bytes
from fate_grpc.ml.sshe.ring import MODULUS, RING_BITS, Shares

# How long a party waits for its peer: a batch of 30,000 rows takes minutes on a loaded machine.
RECEIVE_TIMEOUT_S = 3600.0
_RING_BYTES = RING_BITS // 8
COMPONENT = "sshe_lr / sshe_linr"


@dataclass(frozen=True)
class Channel:
    """Messages of one scope (e.g. ``lr.train.c0``) between this party and its one peer."""

    ctx: ComponentContext
    scope: str
    peer: Party

    def child(self, name: str) -> Channel:
        return Channel(self.ctx, f"{self.scope}.{name}", self.peer)

    def send_arrays(self, name: str, **arrays: np.ndarray) -> None:
        self._send(name, encode_arrays(arrays))

    def receive_arrays(self, name: str) -> dict[str, np.ndarray]:
        payload = self._receive(name)
        try:
            return decode_arrays(payload)
        except (ValueError, OSError) as exc:
            raise ComponentError(f"bad {name!r} message from {self.peer}: {exc}") from None

    def receive_array(self, name: str, key: str = "value") -> np.ndarray:
        arrays = self.receive_arrays(name)
        if key not in arrays:
            raise ComponentError(f"the {name!r} message from {self.peer} lacks {key!r}")
        return arrays[key]

    def send_ring(self, name: str, shares: Shares) -> None:
        flat = [int(v) for v in np.asarray(shares, dtype=object).reshape(-1).tolist()]
        self._send(name, b"".join(v.to_bytes(_RING_BYTES, "big") for v in flat))

    def receive_ring(self, name: str, count: int) -> Shares:
        payload = self._receive(name)
        if len(payload) != count * _RING_BYTES:
            raise ComponentError(
                f"{self.peer} sent {len(payload)} bytes of {name!r}; {count} values were expected"
            )
        out = np.empty(count, dtype=object)
        out[:] = [
            int.from_bytes(payload[i : i + _RING_BYTES], "big") % MODULUS
            for i in range(0, len(payload), _RING_BYTES)
        ]
        return out

    def send_ciphertexts(self, name: str, public_key: paillier.PublicKey, ciphertexts: list[mpz]) -> None:
        self._send(name, to_fixed_bytes(ciphertexts, public_key.width))

    def receive_ciphertexts(self, name: str, public_key: paillier.PublicKey, count: int) -> list[mpz]:
        payload = self._receive(name)
        width = public_key.width
        if len(payload) != count * width:
            raise ComponentError(
                f"{self.peer} sent {len(payload)} bytes of {name!r}; {count} ciphertexts expected"
            )
        ciphertexts = from_fixed_bytes(payload, width)
        n2 = public_key.n2
        if any(not 0 < c < n2 for c in ciphertexts):
            raise ComponentError(f"{self.peer} sent a ciphertext outside (0, n^2) in {name!r}")
        return ciphertexts

    def send_public_key(self, public_key: paillier.PublicKey) -> None:
        self._send("public_key", public_key.to_bytes())

    def receive_public_key(self) -> paillier.PublicKey:
        payload = self._receive("public_key")
        try:
            key = paillier.PublicKey.from_bytes(payload)
        except ValueError as exc:
            raise ComponentError(f"bad public key from {self.peer}: {exc}") from None
        if key.key_bits < paillier.MIN_KEY_BITS:
            raise ComponentError(
                f"{self.peer}'s key has {key.key_bits} bits, fewer than {paillier.MIN_KEY_BITS}"
            )
        return key

    def _send(self, name: str, payload: bytes) -> None:
        with timing.measure("transfer"):
            self.ctx.send(f"{self.scope}.{name}", self.peer, payload)

    def _receive(self, name: str) -> bytes:
        with timing.measure("transfer"):
            return self.ctx.receive(f"{self.scope}.{name}", self.peer, timeout_s=RECEIVE_TIMEOUT_S)


def ids_digest(ids: list[str]) -> np.ndarray:
    """``parties.ids_digest`` as a byte array, as the parties send it."""
    return np.frombuffer(parties.ids_digest(ids), dtype=np.uint8).copy()


def guest_and_host(ctx: ComponentContext) -> tuple[Party, Party]:
    """The task's guest and its one host (FATE's SSHE supports a single host)."""
    guest, hosts = parties.guest_and_hosts(ctx, COMPONENT)
    if len(hosts) != 1:
        raise ComponentError(
            f"{COMPONENT} supports exactly one host (as FATE 2.2); this task has {len(hosts)}"
        )
    return guest, hosts[0]


def peer_of(ctx: ComponentContext) -> Party:
    guest, host = guest_and_host(ctx)
    return host if ctx.role == "guest" else guest
