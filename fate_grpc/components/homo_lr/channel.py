"""homo_lr's messages over a ComponentContext: named numpy arrays under ``homo_lr.<scope>.<name>`` tags
(each sent once per pair, as the transport requires), and who the clients are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.homo_lr import timing

# How long a party waits for a peer: a local epoch on millions of rows can take many minutes.
ROUND_TIMEOUT_S = 3600.0
CLIENT_ROLES = ("guest", "host")


@dataclass(frozen=True)
class Channel:
    """Messages of one scope between this party and its peers."""

    ctx: ComponentContext
    scope: str
    timeout_s: float = ROUND_TIMEOUT_S

    def tag(self, name: str) -> str:
        return f"{self.scope}.{name}"

    def send(self, name: str, to: Party | Sequence[Party], **arrays: np.ndarray) -> None:
        payload = encode_arrays(arrays)
        with timing.measure("transfer"):
            for party in [to] if isinstance(to, Party) else to:
                self.ctx.send(self.tag(name), party, payload)

    def receive(self, name: str, source: Party, *keys: str) -> dict[str, np.ndarray]:
        """The arrays ``source`` sent under ``name``; each of ``keys`` must be present.

        Raises:
            ComponentError: Nothing arrived in time (or the peer failed), or the message is malformed.
        """
        with timing.measure("transfer"):
            payload = self.ctx.receive(self.tag(name), source, timeout_s=self.timeout_s)
        try:
            arrays = decode_arrays(payload)
        except (ValueError, OSError) as exc:
            raise ComponentError(f"homo_lr: bad {name!r} message from {source}: {exc}") from None
        missing = [key for key in keys if key not in arrays]
        if missing:
            raise ComponentError(f"homo_lr: the {name!r} message from {source} lacks {', '.join(missing)}")
        return arrays


def clients(ctx: ComponentContext) -> list[Party]:
    """The clients (guests, then hosts, each by party id): every party agrees on this order, which ranks
    the clients for the masks' signs.

    Raises:
        ComponentError: Fewer than two clients (the arbiter would see a lone client's model).
    """
    found = [p for p in ctx.parties if p.role in CLIENT_ROLES]
    found.sort(key=lambda p: (CLIENT_ROLES.index(p.role), p.party_id))
    if len(found) < 2:
        raise ComponentError(
            f"homo_lr needs at least two clients (guest or host parties) so that secure aggregation hides"
            f" each client's model from the arbiter; this task has {len(found)}"
        )
    return found


def arbiter(ctx: ComponentContext) -> Party:
    """The task's one arbiter.

    Raises:
        ComponentError: No arbiter or several.
    """
    found = [p for p in ctx.parties if p.role == "arbiter"]
    if len(found) != 1:
        raise ComponentError(f"homo_lr needs exactly one arbiter to aggregate; this task has {len(found)}")
    return found[0]


def text(message: str) -> np.ndarray:
    """A message as bytes in an array (the codec carries arrays only)."""
    return np.frombuffer(message.encode(), dtype=np.uint8).copy()


def read_text(array: np.ndarray) -> str:
    return bytes(np.asarray(array, dtype=np.uint8)).decode(errors="replace")
