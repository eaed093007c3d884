"""Calls of the user API's servicer methods on behalf of one HTTP request."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fate_grpc.board.calls import CallFailed, Credentials, InProcessContext
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.httpapi.signature import app_token, check_signature, signed_request
from fate_grpc.security.identity import User
from fate_grpc.store.interface import Store


@dataclass
class SignedContext(InProcessContext):
    """An in-process call context whose user was already identified by a FATE signature."""

    verified_user: User | None = None


class SignatureUsers:
    """Finds the user behind a FATE-signed request: appId is a token's name, app_token derived from it."""

    def __init__(self, store: Store, key: bytes) -> None:
        self._store = store
        self._key = key

    async def user(self, request: web.Request) -> User | None:
        signed = signed_request(request.headers)
        if signed is None:
            return None
        now = int(time.time() * 1000)
        record = next((t for t in await self._store.list_tokens() if t.name == signed.app_id), None)
        if record is None or (record.expire_time_ms and record.expire_time_ms < now):
            raise FateGrpcError(ErrorCode.UNAUTHENTICATED, f"no app {signed.app_id} (or it has expired)")
        check_signature(signed, app_token(self._key, record.token_hash), now)
        return User(record.name, record.is_admin, "signature")

    async def app_token_of(self, name: str) -> str | None:
        record = next((t for t in await self._store.list_tokens() if t.name == name), None)
        return app_token(self._key, record.token_hash) if record else None


class Caller:
    """The servicer's methods with one request's credentials: its Authorization header, its TLS
    client certificate, or the user its FATE signature identified."""

    def __init__(self, servicer: Any, credentials: Credentials, user: User | None) -> None:
        self._servicer = servicer
        self._credentials = credentials
        self._user = user

    def _context(self) -> SignedContext:
        return SignedContext(self._credentials, verified_user=self._user)

    async def unary(self, method: str, request: Any) -> Any:
        try:
            return await getattr(self._servicer, method)(request, self._context())
        except CallFailed as failed:
            raise failed.error from None

    async def stream(self, method: str, request: Any) -> AsyncIterator[Any]:
        try:
            async for message in getattr(self._servicer, method)(request, self._context()):
                yield message
        except CallFailed as failed:
            raise failed.error from None

    async def send_stream(self, method: str, requests: AsyncIterator[Any]) -> Any:
        """A client-streaming method: `requests` is read as the servicer asks for messages."""
        try:
            return await getattr(self._servicer, method)(requests, self._context())
        except CallFailed as failed:
            raise failed.error from None
