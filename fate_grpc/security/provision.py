"""Provision a federation: CA(s), one node cert + key per party, client-user certs, and node confs.

Layout written under the output folder (keys 0600, folders holding keys 0700):

    ca/ca.crt, ca/ca.key                 the federation CA (keep ca.key offline), or
    cas/<id>/ca.crt, ca.key              one CA per party (--ca-per-party)
    trust/bundle.crt                     every CA certificate (what nodes and users trust)
    parties/<id>/                        all party <id>'s host needs, nothing of another party:
        node.yaml                        its conf; every path in it is relative to this folder
        node.crt, node.key               the node's identity (CN=<id>)
        trust.crt                        a copy of the trust bundle
        client_ca.crt                    the CA certificate that issues the party's users
        partner_cas/<id>.crt             (one CA per party) the CA each partner's cert must chain to
        users/<user>.crt, .key           the party's client users (hand them to the users)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fate_grpc.common.addresses import split_address
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
    ca_per_party: bool = False

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
        """The CA that issued `party_id`'s certificates (the federation CA when there is one)."""
        if party_id is not None and self.ca_per_party:
            return self.root / "cas" / party_id / "ca.crt"
        return self.root / "ca" / "ca.crt"

    def ca_key(self, party_id: str | None = None) -> Path:
        return self.ca_cert(party_id).with_name("ca.key")

    @property
    def bundle(self) -> Path:
        return self.root / "trust" / "bundle.crt"

    def conf(self, party_id: str) -> Path:
        return self.party_dir(party_id) / "node.yaml"


def provision(
    out: Path,
    parties: list[PartySpec],
    *,
    ca_per_party: bool = False,
    days: int = pki.DEFAULT_DAYS,
    federation_name: str = "fate-grpc federation",
    data_root: str = "var",
    user_port: int | None = None,
) -> Federation:
    """Write CA(s), certs, keys and confs for `parties` under `out`.

    With `user_port`, each conf serves the user API on that port of the party's host with
    server-authenticated TLS, for users who hold a token and no certificate."""
    out.mkdir(parents=True, exist_ok=True)
    result = Federation(
        root=out.resolve(), parties={p.party_id: p for p in parties}, ca_per_party=ca_per_party
    )
    if ca_per_party:
        cas = {p.party_id: pki.create_ca(f"party {p.party_id} CA") for p in parties}
    else:
        shared = pki.create_ca(federation_name)
        cas = {p.party_id: shared for p in parties}
    for party_id, ca in cas.items():
        _private_dir(result.ca_cert(party_id).parent)
        pki.save(ca, result.ca_key(party_id), result.ca_cert(party_id))
    unique = {id(ca): ca for ca in cas.values()}
    bundle = b"".join(ca.cert_pem for ca in unique.values())
    pki.write_public(result.bundle, bundle)
    for party in parties:
        folder = result.party_dir(party.party_id)
        _issue_party(result, party, cas[party.party_id], days)
        pki.write_public(folder / TRUST_FILE, bundle)
        pki.write_public(folder / CLIENT_CA_FILE, cas[party.party_id].cert_pem)
        if ca_per_party:
            for partner in parties:
                pki.write_public(
                    folder / "partner_cas" / f"{partner.party_id}.crt", cas[partner.party_id].cert_pem
                )
        conf = party_conf(party, parties, ca_per_party=ca_per_party, data_root=data_root, user_port=user_port)
        result.conf(party.party_id).write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")
    return result


TRUST_FILE = "trust.crt"
CLIENT_CA_FILE = "client_ca.crt"


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


def party_conf(
    party: PartySpec,
    parties: list[PartySpec],
    *,
    ca_per_party: bool,
    data_root: str,
    user_port: int | None = None,
) -> dict[str, object]:
    """A party's node conf. Every file it names sits in the party's own folder, next to the conf,
    so that the folder alone can be copied to the party's host and started there."""
    tls: dict[str, object] = {
        "cert": "node.crt",
        "key": "node.key",
        "trust": TRUST_FILE,
        "client_ca": CLIENT_CA_FILE,
    }
    if ca_per_party:
        tls["partner_cas"] = {p.party_id: f"partner_cas/{p.party_id}.crt" for p in parties}
    conf: dict[str, object] = {
        "party_id": party.party_id,
        "listen": party.address,
        "data_dir": f"{data_root}/{party.party_id}",
        "routes": {p.party_id: p.address for p in parties},
        "tls": tls,
    }
    if user_port is not None:
        host, _ = split_address(party.address)
        conf["client_listen"] = f"{host}:{user_port}"
        conf["client_auth"] = {"mode": "required", "certificates": "none"}
    return conf


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
