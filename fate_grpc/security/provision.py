"""Provision a federation: CA(s), one node cert + key per party, client-user certs, and node confs.

Layout written under the output folder (keys 0600, party folders 0700):

    trust/bundle.crt                     every CA certificate (what nodes trust)
    ca/ca.crt, ca/ca.key                 the federation CA (one CA for all parties), or
    parties/<id>/ca.crt, ca.key          one CA per party (--ca-per-party)
    parties/<id>/node.crt, node.key      the node's identity (CN=<id>)
    parties/<id>/users/<user>.crt, .key  that party's client users
    confs/<id>.yaml                      a node conf using the above
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fate_grpc.node.config import split_address
from fate_grpc.security import pki


@dataclass(frozen=True)
class PartySpec:
    party_id: str
    address: str
    users: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()


@dataclass
class Federation:
    """What was written, for callers (tests, the local simulation) that want the paths."""

    root: Path
    parties: dict[str, PartySpec] = field(default_factory=dict)

    def party_dir(self, party_id: str) -> Path:
        return self.root / "parties" / party_id

    def node_cert(self, party_id: str) -> Path:
        return self.party_dir(party_id) / "node.crt"

    def node_key(self, party_id: str) -> Path:
        return self.party_dir(party_id) / "node.key"

    def user_cert(self, party_id: str, user: str) -> Path:
        return self.party_dir(party_id) / "users" / f"{user}.crt"

    def user_key(self, party_id: str, user: str) -> Path:
        return self.party_dir(party_id) / "users" / f"{user}.key"

    def ca_cert(self, party_id: str | None = None) -> Path:
        per_party = self.party_dir(party_id) / "ca.crt" if party_id else None
        if per_party is not None and per_party.exists():
            return per_party
        return self.root / "ca" / "ca.crt"

    @property
    def bundle(self) -> Path:
        return self.root / "trust" / "bundle.crt"

    def conf(self, party_id: str) -> Path:
        return self.root / "confs" / f"{party_id}.yaml"


def provision(
    out: Path,
    parties: list[PartySpec],
    *,
    ca_per_party: bool = False,
    days: int = pki.DEFAULT_DAYS,
    federation_name: str = "fate-grpc federation",
    data_root: str = "var",
) -> Federation:
    """Write CA(s), certs, keys and confs for `parties` under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    result = Federation(root=out.resolve(), parties={p.party_id: p for p in parties})
    cas: dict[str, pki.Issued] = {}
    if ca_per_party:
        for party in parties:
            cas[party.party_id] = pki.create_ca(f"party {party.party_id} CA")
            _private_dir(result.party_dir(party.party_id))
            folder = result.party_dir(party.party_id)
            pki.save(cas[party.party_id], folder / "ca.key", folder / "ca.crt")
    else:
        shared = pki.create_ca(federation_name)
        _private_dir(out / "ca")
        pki.save(shared, out / "ca" / "ca.key", out / "ca" / "ca.crt")
        cas = {party.party_id: shared for party in parties}
    unique = {id(ca): ca for ca in cas.values()}
    pki.write_public(result.bundle, b"".join(ca.cert_pem for ca in unique.values()))
    for party in parties:
        _issue_party(result, party, cas[party.party_id], days)
        _write_conf(result, party, parties, ca_per_party=ca_per_party, data_root=data_root)
    return result


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _issue_party(result: Federation, party: PartySpec, ca: pki.Issued, days: int) -> None:
    _private_dir(result.party_dir(party.party_id))
    host, _ = split_address(party.address)
    node = pki.issue_node_cert(ca, party.party_id, hosts=[host], days=days)
    pki.save(node, result.node_key(party.party_id), result.node_cert(party.party_id))
    for user in party.users:
        issued = pki.issue_user_cert(ca, party.party_id, user, days=days)
        pki.save(issued, result.user_key(party.party_id, user), result.user_cert(party.party_id, user))
    for user in party.admins:
        issued = pki.issue_user_cert(ca, party.party_id, user, admin=True, days=days)
        pki.save(issued, result.user_key(party.party_id, user), result.user_cert(party.party_id, user))


def _write_conf(
    result: Federation, party: PartySpec, parties: list[PartySpec], *, ca_per_party: bool, data_root: str
) -> None:
    confs = result.root / "confs"

    def rel(path: Path) -> str:
        # Relative to the conf file, so that a party's folder can be copied to its host as a whole.
        return os.path.relpath(path, confs)

    tls: dict[str, object] = {
        "cert": rel(result.node_cert(party.party_id)),
        "key": rel(result.node_key(party.party_id)),
        "trust": rel(result.bundle),
        "client_ca": rel(result.ca_cert(party.party_id)),
    }
    if ca_per_party:
        tls["partner_cas"] = {p.party_id: rel(result.ca_cert(p.party_id)) for p in parties}
    conf = {
        "party_id": party.party_id,
        "listen": party.address,
        "data_dir": f"{data_root}/{party.party_id}",
        "routes": {p.party_id: p.address for p in parties},
        "tls": tls,
    }
    path = result.conf(party.party_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")


def parse_party(text: str) -> PartySpec:
    """`9999=10.0.0.1:9360` -> PartySpec."""
    party_id, sep, address = text.partition("=")
    if not sep or not party_id or not address:
        raise ValueError(f"--party needs ID=HOST:PORT, got {text!r}")
    split_address(address)
    return PartySpec(party_id=party_id, address=address)


def with_users(parties: list[PartySpec], users: list[str], admins: list[str]) -> list[PartySpec]:
    """Attach `ID:NAME` user and admin specs to their parties."""
    by_id = {p.party_id: p for p in parties}
    extra: dict[str, tuple[list[str], list[str]]] = {pid: ([], []) for pid in by_id}
    for kind, specs in ((0, users), (1, admins)):
        for spec in specs:
            party_id, sep, name = spec.partition(":")
            if not sep or party_id not in by_id or not name:
                raise ValueError(f"user {spec!r} must be PARTY_ID:NAME for a provisioned party")
            extra[party_id][kind].append(name)
    return [
        PartySpec(p.party_id, p.address, tuple(extra[p.party_id][0]), tuple(extra[p.party_id][1]))
        for p in parties
    ]
