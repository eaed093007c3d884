"""host:port addresses as the conf and the routes write them."""

from __future__ import annotations


def is_loopback_address(address: str) -> bool:
    host, _ = split_address(address)
    return host in ("localhost", "::1") or host.startswith("127.")


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)
