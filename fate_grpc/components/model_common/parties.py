"""Who takes part in a guest/host model task, and a check that their rows are aligned."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from fate_grpc.components.context import ComponentContext, ComponentError, Party


def ids_digest(ids: Sequence[str]) -> bytes:
    """SHA-256 of the ordered match ids (each length-prefixed): parties compare it to check that their rows
    are aligned (psi's output is), without sending the ids themselves."""
    digest = hashlib.sha256()
    for value in ids:
        encoded = str(value).encode()
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return digest.digest()


def guest_and_hosts(ctx: ComponentContext, component: str) -> tuple[Party, list[Party]]:
    """The task's one guest and its hosts (an arbiter, if any, is not among them).

    Raises:
        ComponentError: Not exactly one guest, or no host; the message names ``component``.
    """
    guests = [p for p in ctx.parties if p.role == "guest"]
    hosts = [p for p in ctx.parties if p.role == "host"]
    if len(guests) != 1 or not hosts:
        raise ComponentError(
            f"{component} needs one guest and at least one host; this task has {len(guests)} guest(s) and"
            f" {len(hosts)} host(s)"
        )
    return guests[0], hosts
