"""FATE's client signature (appId, Nonce, Timestamp, Signature headers) mapped onto our tokens; pure.

A FATE client signs each request with md5(md5(app_id + user_name + nonce + timestamp) + app_token).
Checking that needs the app_token itself, and the node keeps only a hash of each bearer token, so a
token's app_token is derived from its stored hash with a key only the node holds: the store alone
does not reveal it, and revoking the token revokes its app_token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from fate_grpc.errors import ErrorCode, FateGrpcError

MAX_CLOCK_SKEW_MS = 5 * 60 * 1000
"""A signature older or newer than this is refused (a captured request cannot be replayed later)."""
HEADERS = ("appId", "Nonce", "Timestamp", "Signature")


@dataclass(frozen=True)
class SignedRequest:
    """The signature headers of one request."""

    app_id: str
    user_name: str
    nonce: str
    timestamp: str
    signature: str


def app_token(key: bytes, token_hash: str) -> str:
    """The app_token of the token whose hash is `token_hash` (what `flow init --app-token` takes)."""
    return hmac.new(key, token_hash.encode(), hashlib.sha256).hexdigest()


def fate_signature(request: SignedRequest, token: str) -> str:
    inner = hashlib.md5((request.app_id + request.user_name + request.nonce + request.timestamp).encode())
    return hashlib.md5((inner.hexdigest().lower() + token).encode()).hexdigest().lower()


def signed_request(headers: Mapping[str, str]) -> SignedRequest | None:
    """The request's signature headers; None when it carries none; refused when some are missing."""
    if not any(headers.get(name) for name in HEADERS):
        return None
    for name in HEADERS:
        if not headers.get(name):
            raise FateGrpcError(ErrorCode.UNAUTHENTICATED, f"header {name} is required with appId")
    return SignedRequest(
        headers["appId"],
        headers.get("userName", ""),
        headers["Nonce"],
        headers["Timestamp"],
        headers["Signature"],
    )


def check_signature(request: SignedRequest, token: str, now_ms: int) -> None:
    """Raises UNAUTHENTICATED unless `request` is signed with `token` within the allowed clock skew."""
    try:
        stamp = int(request.timestamp)
    except ValueError:
        raise FateGrpcError(ErrorCode.UNAUTHENTICATED, "header Timestamp must be unix milliseconds") from None
    if abs(now_ms - stamp) > MAX_CLOCK_SKEW_MS:
        raise FateGrpcError(
            ErrorCode.UNAUTHENTICATED,
            "header Timestamp is more than 5 minutes from the node's clock",
            hint="check the client machine's clock",
        )
    if not hmac.compare_digest(fate_signature(request, token), request.signature.lower()):
        raise FateGrpcError(ErrorCode.UNAUTHENTICATED, f"signature of app {request.app_id} does not verify")
