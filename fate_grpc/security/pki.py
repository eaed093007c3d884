"""Certificates of a federation: a CA (per federation or per party), node certs naming their party id,
and client-user certs. Identities live in the subject: node certs have CN=<party id>, OU=node;
user certs have CN=<user name>, OU=client (or admin), and O names the party that issued them."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NODE_UNIT = "node"
CLIENT_UNIT = "client"
ADMIN_UNIT = "admin"
DEFAULT_DAYS = 825


def party_dns_name(party_id: str) -> str:
    """The DNS name a node cert carries for its party; clients check it to authenticate the server."""
    return f"party-{party_id}.fate-grpc"


@dataclass(frozen=True)
class Issued:
    """A key and its certificate, both PEM."""

    key_pem: bytes
    cert_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _validity(days: int, *, not_before: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    start = not_before or (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    return start, start + dt.timedelta(days=days)


def create_ca(name: str, *, days: int = 3650) -> Issued:
    """A self-signed CA for a federation (or for one party)."""
    key = _new_key()
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)]
    )
    start, end = _validity(days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def _issue(
    ca: Issued,
    subject: x509.Name,
    *,
    sans: list[x509.GeneralName],
    usages: list[x509.ObjectIdentifier],
    days: int,
    not_before: dt.datetime | None = None,
) -> Issued:
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    ca_cert = ca.certificate
    key = _new_key()
    start, end = _validity(days, not_before=not_before)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    return Issued(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def issue_node_cert(
    ca: Issued,
    party_id: str,
    *,
    hosts: list[str] = (),  # type: ignore[assignment]
    days: int = DEFAULT_DAYS,
    not_before: dt.datetime | None = None,
) -> Issued:
    """A node cert: CN=<party id>, OU=node; SAN = the party's DNS name plus the given hosts/IPs."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, party_id),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, NODE_UNIT),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"party {party_id}"),
        ]
    )
    sans: list[x509.GeneralName] = [x509.DNSName(party_dns_name(party_id))]
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    return _issue(ca, subject, sans=sans, usages=usages, days=days, not_before=not_before)


def issue_user_cert(
    ca: Issued, party_id: str, user: str, *, admin: bool = False, days: int = DEFAULT_DAYS
) -> Issued:
    """A client-user cert of a party: CN=<user>, OU=client|admin, O=party <id>."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, user),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ADMIN_UNIT if admin else CLIENT_UNIT),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"party {party_id}"),
        ]
    )
    return _issue(ca, subject, sans=[], usages=[ExtendedKeyUsageOID.CLIENT_AUTH], days=days)


def write_private(path: Path, data: bytes) -> None:
    """Write a secret readable by its owner only (created 0600, never world-readable in between)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def write_public(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, 0o644)


def save(issued: Issued, key_path: Path, cert_path: Path) -> None:
    write_private(key_path, issued.key_pem)
    write_public(cert_path, issued.cert_pem)


def load(key_path: Path, cert_path: Path) -> Issued:
    return Issued(key_path.read_bytes(), cert_path.read_bytes())


def subject_field(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    values = cert.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    """True if `ca_cert` signed `cert` (signature check, not only the names)."""
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, Exception):
        return False
    return True
