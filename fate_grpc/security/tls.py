"""A node's TLS settings and gRPC credentials: servers demand client certs, channels check the peer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from fate_grpc.security.pki import party_dns_name


@dataclass(frozen=True)
class TlsSettings:
    """Mutual TLS between nodes (and TLS for users). Paths are absolute once loaded."""

    cert: Path
    """This node's certificate (CN = its party id), PEM."""
    key: Path
    """Its private key, PEM (keep it 0600)."""
    trust: Path
    """CA certificates trusted for partner nodes, PEM bundle."""
    client_ca: Path | None = None
    """CA that issues this party's client-user certificates (default: the trust bundle)."""
    partner_cas: Mapping[str, Path] = field(default_factory=dict)
    """With one CA per party: party id -> the CA that must have issued that party's certificate."""


@dataclass(frozen=True)
class TlsMaterial:
    """The PEM bytes behind a node's TLS settings, read once at start."""

    cert: bytes
    key: bytes
    trust: bytes
    client_ca: bytes

    @classmethod
    def load(cls, settings: TlsSettings) -> TlsMaterial:
        trust = settings.trust.read_bytes()
        client_ca = settings.client_ca.read_bytes() if settings.client_ca else trust
        return cls(
            cert=settings.cert.read_bytes(), key=settings.key.read_bytes(), trust=trust, client_ca=client_ca
        )


def peer_server_credentials(material: TlsMaterial) -> grpc.ServerCredentials:
    """Partners must present a certificate that chains to a trusted CA (mutual TLS)."""
    return grpc.ssl_server_credentials(
        [(material.key, material.cert)], root_certificates=material.trust, require_client_auth=True
    )


def client_server_credentials(
    material: TlsMaterial, *, require_certificate: bool = True
) -> grpc.ServerCredentials:
    """The user port: users present a certificate of this party's client CA (mutual TLS), or, without
    `require_certificate`, only the node proves who it is and users authenticate with a token. (gRPC
    Python cannot ask for a certificate without demanding one, so a port is one or the other.)"""
    if not require_certificate:
        return grpc.ssl_server_credentials([(material.key, material.cert)])
    return grpc.ssl_server_credentials(
        [(material.key, material.cert)], root_certificates=material.client_ca, require_client_auth=True
    )


def peer_channel_credentials(material: TlsMaterial) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=material.trust, private_key=material.key, certificate_chain=material.cert
    )


def peer_channel_options(party_id: str) -> list[tuple[str, str]]:
    """Check that the server is the party we mean to call, whatever address the route gives."""
    return [("grpc.ssl_target_name_override", party_dns_name(party_id))]


def read_pem(path: Path | None) -> bytes | None:
    return path.read_bytes() if path else None
