"""Separate hosts made of network namespaces: one namespace per party, each with its own loopback and one
veth link to a bridge that lives in a namespace of its own (nothing is added to the test's own network).
Addresses come from 10.77.0.0/24 and exist only inside these namespaces."""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

SUBNET_PREFIX = "10.77.0"


class NetworkUnavailable(Exception):
    """What the kernel or the tools here cannot do (the tests skip with this reason)."""


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NetworkUnavailable(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")


def namespaces_available() -> str | None:
    """None when namespaces, veth links and bridges can be made here, else why not."""
    probe = f"fgprobe{uuid.uuid4().hex[:6]}"
    try:
        ip("netns", "add", probe)
        ip("-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1")
        ip("-n", probe, "link", "add", "b0", "type", "bridge")
    except (NetworkUnavailable, OSError) as exc:
        return f"network namespaces cannot be made here (needs root and iproute2): {exc}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)
    return None


@dataclass
class Hosts:
    """Party id -> namespace and address; made and removed by `hosts(...)`."""

    tag: str
    party_ids: list[str]
    switch: str = ""
    namespaces: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)

    def exec_prefix(self, party_id: str) -> list[str]:
        """Prefix a command with this to run it on the party's host."""
        return ["ip", "netns", "exec", self.namespaces[party_id]]

    def _switch_port(self, party_id: str) -> str:
        return f"sw{self.tag}{self.party_ids.index(party_id)}"

    def link_down(self, party_id: str) -> None:
        """Cut the party's cable at the switch: its node runs on but no packet passes either way."""
        ip("-n", self.switch, "link", "set", self._switch_port(party_id), "down")

    def link_up(self, party_id: str) -> None:
        ip("-n", self.switch, "link", "set", self._switch_port(party_id), "up")

    @contextlib.contextmanager
    def packet_loss(self, percent: int) -> Iterator[None]:
        """Drop `percent`% of the packets leaving every party's host (tc netem) while in the block."""
        try:
            for namespace in self.namespaces.values():
                self._netem(namespace, "add", "netem", "loss", f"{percent}%")
            yield
        finally:
            for namespace in self.namespaces.values():
                with contextlib.suppress(NetworkUnavailable):
                    self._netem(namespace, "del")

    @staticmethod
    def _netem(namespace: str, action: str, *settings: str) -> None:
        command = ["ip", "netns", "exec", namespace, "tc", "qdisc", action, "dev", "eth0", "root", *settings]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise NetworkUnavailable(
                f"tc netem cannot be used here (kernel module sch_netem?): {done.stderr.strip()}"
            )


@contextlib.contextmanager
def hosts(party_ids: list[str]) -> Iterator[Hosts]:
    """Make one namespace per party joined by a bridge; remove them all however the block ends."""
    tag = uuid.uuid4().hex[:4]
    made = Hosts(tag=tag, party_ids=list(party_ids), switch=f"fgsw{tag}")
    try:
        ip("netns", "add", made.switch)
        ip("-n", made.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", made.switch, "link", "set", "br0", "up")
        for index, party_id in enumerate(party_ids):
            _add_host(made, party_id, index)
        yield made
    finally:
        for namespace in [*made.namespaces.values(), made.switch]:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def _add_host(made: Hosts, party_id: str, index: int) -> None:
    namespace = f"fg{made.tag}p{party_id}"
    address = f"{SUBNET_PREFIX}.{index + 1}"
    ip("netns", "add", namespace)
    made.namespaces[party_id] = namespace
    ip("-n", namespace, "link", "set", "lo", "up")
    switch_port = made._switch_port(party_id)
    ip("-n", namespace, "link", "add", "eth0", "type", "veth", "peer", "name", switch_port)
    ip("-n", namespace, "link", "set", switch_port, "netns", made.switch)
    ip("-n", made.switch, "link", "set", switch_port, "master", "br0")
    ip("-n", made.switch, "link", "set", switch_port, "up")
    ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
    ip("-n", namespace, "link", "set", "eth0", "up")
    made.addresses[party_id] = address
