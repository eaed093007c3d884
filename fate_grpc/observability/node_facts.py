"""What `flow server info` shows of a node beyond its identity and routes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509


@dataclass
class NodeFacts:
    """Facts about the node for its operator (GetNodeInfo)."""

    cores_total: int
    """The core budget (conf resources.cores)."""
    tls_cert_expire_time_ms: int = 0
    """When the node's certificate expires (unix ms); 0 without TLS."""
    http_address: str = ""
    """Where the HTTP port listens once started; empty without one."""


def certificate_expiry_ms(cert_path: Path | None) -> int:
    """The certificate's notAfter in unix ms (0 without a certificate)."""
    if cert_path is None:
        return 0
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return int(cert.not_valid_after_utc.timestamp() * 1000)
