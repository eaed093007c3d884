"""Who is calling: a partner node (from its TLS certificate) or one of this party's users (certificate
or token). Every rejection is logged with the peer's address and the identity it claimed."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.security import pki
from fate_grpc.store.interface import Store

log = logging.getLogger("fate_grpc.security")

CALLER_METADATA_KEY = "x-fate-grpc-party-id"
TOKEN_PREFIX = "fgt_"


def _metadata(context: grpc.aio.ServicerContext) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        if isinstance(value, str):
            values[key] = value
    return values


def _peer_cert(context: grpc.aio.ServicerContext) -> x509.Certificate | None:
    auth = context.auth_context() or {}
    if auth.get("transport_security_type") != [b"ssl"]:
        return None
    pems = auth.get("x509_pem_cert") or []
    if not pems:
        return None
    return x509.load_pem_x509_certificate(pems[0])


def _field(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    return pki.subject_field(cert, oid)


class PeerAuthenticator:
    """Identifies partner nodes. With TLS the certificate decides; without (loopback simulation only)
    the caller's stated party id is taken as is."""

    def __init__(self, *, tls: bool, partner_cas: Mapping[str, Path] | None = None) -> None:
        self._tls = tls
        self._partner_cas = {
            party: x509.load_pem_x509_certificate(path.read_bytes())
            for party, path in (partner_cas or {}).items()
        }

    def caller(self, context: grpc.aio.ServicerContext) -> str:
        """The calling party's id; raises UNAUTHENTICATED / PERMISSION_DENIED."""
        claimed = _metadata(context).get(CALLER_METADATA_KEY, "")
        if not self._tls:
            if not claimed:
                raise self._reject(
                    context, claimed, ErrorCode.UNAUTHENTICATED, "the caller did not say which party it is"
                )
            return claimed
        cert = _peer_cert(context)
        if cert is None:
            raise self._reject(
                context, claimed, ErrorCode.UNAUTHENTICATED, "a partner must present its TLS certificate"
            )
        party = _field(cert, NameOID.COMMON_NAME)
        if _field(cert, NameOID.ORGANIZATIONAL_UNIT_NAME) != pki.NODE_UNIT or not party:
            raise self._reject(
                context, claimed, ErrorCode.PERMISSION_DENIED, "the certificate is not a node certificate"
            )
        expected_ca = self._partner_cas.get(party)
        if self._partner_cas and (expected_ca is None or not pki.issued_by(cert, expected_ca)):
            raise self._reject(
                context,
                claimed,
                ErrorCode.PERMISSION_DENIED,
                f"the certificate for party {party} was not issued by that party's CA",
            )
        if claimed and claimed != party:
            raise self._reject(
                context,
                claimed,
                ErrorCode.PERMISSION_DENIED,
                f"the certificate is party {party}'s but the call claims party {claimed}",
            )
        return party

    def require(self, context: grpc.aio.ServicerContext, allowed: set[str] | str, action: str) -> str:
        """The caller, who must be one of `allowed` to do `action`."""
        party = self.caller(context)
        wanted = {allowed} if isinstance(allowed, str) else allowed
        if party not in wanted:
            names = ", ".join(sorted(p for p in wanted if p))
            only = f" (only {names} may)" if names else ""
            raise self._reject(
                context, party, ErrorCode.PERMISSION_DENIED, f"party {party} may not {action}{only}"
            )
        return party

    @staticmethod
    def _reject(
        context: grpc.aio.ServicerContext, claimed: str, code: ErrorCode, reason: str
    ) -> FateGrpcError:
        log.warning("refused a call from %s (claimed party %r): %s", context.peer(), claimed or "-", reason)
        return FateGrpcError(code, reason, fields={"peer": context.peer() or ""})


@dataclass(frozen=True)
class User:
    """An authenticated user of this party's client API."""

    name: str
    is_admin: bool
    method: str  # "certificate", "token" or "open" (no authentication required here)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ClientAuthenticator:
    """Identifies users: a client certificate issued for this party, or a bearer token it created."""

    def __init__(self, *, own_party_id: str, required: bool, client_ca: Path | None, store: Store) -> None:
        self._party = own_party_id
        self._required = required
        self._client_ca = x509.load_pem_x509_certificate(client_ca.read_bytes()) if client_ca else None
        self._store = store

    async def user(self, context: grpc.aio.ServicerContext, *, admin: bool = False) -> User:
        # Set only by the in-process HTTP API, after it checked a FATE app signature; never on gRPC.
        verified = getattr(context, "verified_user", None)
        peer = context.peer() or ""
        if isinstance(verified, User):
            return self._admit(verified, peer, admin=admin)
        return await self.authenticate(
            authorization=_metadata(context).get("authorization", ""),
            cert=_peer_cert(context),
            peer=peer,
            admin=admin,
        )

    async def authenticate(
        self, *, authorization: str, cert: x509.Certificate | None, peer: str, admin: bool = False
    ) -> User:
        """The user behind a bearer token or a TLS client certificate (any transport: gRPC, HTTP)."""
        return self._admit(await self._identify(authorization, cert, peer), peer, admin=admin)

    def _admit(self, user: User | None, peer: str, *, admin: bool) -> User:
        """The user if this node lets them in (and, for `admin`, they are an admin); else raises."""
        if user is None:
            if self._required:
                log.warning("refused an unauthenticated user call from %s", peer)
                raise FateGrpcError(
                    ErrorCode.UNAUTHENTICATED,
                    f"party {self._party}'s node needs a client certificate of the party or a token",
                    hint="flow init --token TOKEN (see flow token create), or --cert/--key/--ca",
                )
            user = User("anonymous", True, "open")
        if admin and not user.is_admin:
            log.warning("refused admin action by user %s from %s", user.name, peer)
            raise FateGrpcError(
                ErrorCode.PERMISSION_DENIED, f"user {user.name} is not an admin of party {self._party}"
            )
        return user

    async def _identify(self, authorization: str, cert: x509.Certificate | None, peer: str) -> User | None:
        if authorization:
            return await self._token_user(peer, authorization)
        if cert is None:
            return None
        unit = _field(cert, NameOID.ORGANIZATIONAL_UNIT_NAME)
        if unit not in (pki.CLIENT_UNIT, pki.ADMIN_UNIT):
            return None  # a node certificate is not a user
        if _field(cert, NameOID.ORGANIZATION_NAME) != f"party {self._party}" or (
            self._client_ca is not None and not pki.issued_by(cert, self._client_ca)
        ):
            log.warning("refused a user certificate of another party from %s", peer)
            raise FateGrpcError(
                ErrorCode.PERMISSION_DENIED,
                f"the client certificate is not one of party {self._party}'s users",
            )
        return User(_field(cert, NameOID.COMMON_NAME), unit == pki.ADMIN_UNIT, "certificate")

    async def _token_user(self, peer: str, authorization: str) -> User:
        scheme, _, token = authorization.partition(" ")
        record = None
        if scheme.lower() == "bearer" and token.startswith(TOKEN_PREFIX) and len(token) < 200:
            record = await self._store.find_token(hash_token(token))
        now = int(time.time() * 1000)
        if record is None or (record.expire_time_ms and record.expire_time_ms < now):
            log.warning("refused an unknown or expired token from %s", peer)
            raise FateGrpcError(ErrorCode.UNAUTHENTICATED, "unknown or expired token")
        return User(record.name, record.is_admin, "token")
