"""FATE's app signature mapped onto our tokens: the pure check, and fate_client's signed requests against a
node that requires authentication."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.httpapi.mount import signing_key
from fate_grpc.httpapi.signature import (
    MAX_CLOCK_SKEW_MS,
    SignedRequest,
    app_token,
    check_signature,
    fate_signature,
    signed_request,
)
from fate_grpc.node.config import ClientAuthSettings, HttpSettings
from fate_grpc.security.identity import hash_token, new_token
from fate_grpc.store.records import TokenRecord
from tests.board.support import held
from tests.httpapi.support import FateClient, http_address
from tests.support.nodes import federation

GUEST = "9999"


def test_signature_is_fate_clients() -> None:
    # fate_client signs md5(md5(app_id + user_name + nonce + timestamp) + app_token), lower-case hex.
    request = SignedRequest("alice", "", "1234", "1700000000000", "")

    inner = hashlib.md5(b"alice12341700000000000").hexdigest()
    assert fate_signature(request, "secret") == hashlib.md5((inner + "secret").encode()).hexdigest()


def test_a_signature_verifies_only_with_its_token_and_in_time() -> None:
    now = 1_700_000_000_000
    unsigned = SignedRequest("alice", "bob", "4321", str(now), "")
    signed = SignedRequest("alice", "bob", "4321", str(now), fate_signature(unsigned, "token-a"))
    check_signature(signed, "token-a", now + MAX_CLOCK_SKEW_MS)
    for token, at in (("token-b", now), ("token-a", now + MAX_CLOCK_SKEW_MS + 1)):
        with pytest.raises(FateGrpcError) as refused:
            check_signature(signed, token, at)
        assert refused.value.code is ErrorCode.UNAUTHENTICATED


def test_signature_headers_are_all_or_none() -> None:
    assert signed_request({}) is None
    with pytest.raises(FateGrpcError, match="header Signature is required"):
        signed_request({"appId": "alice", "Nonce": "1234", "Timestamp": "1"})


def test_app_tokens_differ_by_token_and_node_key() -> None:
    first, second = hash_token(new_token()), hash_token(new_token())
    assert app_token(b"k1", first) != app_token(b"k1", second)
    assert app_token(b"k1", first) != app_token(b"k2", first)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def guarded(
    tmp_path_factory: pytest.TempPathFactory, fate_client_home: Path
) -> AsyncIterator[tuple[FateClient, str, dict[str, str]]]:
    """One node that requires authentication, its HTTP address, and the app tokens of two users."""
    root = tmp_path_factory.mktemp("signed")
    required = ClientAuthSettings(mode="required")
    listening = HttpSettings(listen="127.0.0.1:0")
    async with held(federation(root, [GUEST], client_auth=required, http=listening)) as fed:
        tokens = {}
        for name, admin in (("alice", False), ("root", True)):
            token_hash = hash_token(new_token())
            await fed.nodes[GUEST].store.put_token(
                TokenRecord(token_hash=token_hash, name=name, is_admin=admin)
            )
            tokens[name] = app_token(signing_key(fed.nodes[GUEST].paths.root), token_hash)
        work = root / "work"
        work.mkdir()
        client = FateClient(fate_client_home, work)
        # fate_client keeps app_id/app_token in its settings and `flow init` cannot unset them (its
        # --reset writes a broken file): what these tests set is put back afterwards.
        saved = client.settings.read_text()
        try:
            yield client, http_address(fed.nodes[GUEST]), tokens
        finally:
            client.settings.write_text(saved)


pytestmark_module = pytest.mark.asyncio(loop_scope="module")


@pytestmark_module
async def test_unsigned_requests_are_refused_where_authentication_is_required(
    guarded: tuple[FateClient, str, dict[str, str]],
) -> None:
    client, address, _ = guarded
    await client.flow_init(address)
    refused = await client.flow("site", "query")
    assert refused["code"] == int(ErrorCode.UNAUTHENTICATED)


@pytestmark_module
async def test_signed_requests_act_as_the_tokens_user(
    guarded: tuple[FateClient, str, dict[str, str]],
) -> None:
    client, address, tokens = guarded
    await client.flow_init(address, "--app-id", "alice", "--app-token", tokens["alice"])
    assert (await client.flow("site", "query"))["data"] == {"party_id": GUEST}
    # alice is no admin: the user API's own rule refuses her the token list.
    denied = await client.flow("client", "query-client")
    assert denied["code"] == int(ErrorCode.PERMISSION_DENIED) and "alice" in denied["message"]
    await client.flow_init(address, "--app-id", "root", "--app-token", tokens["root"])
    apps = await client.flow("client", "query-client")
    assert {a["app_id"]: a["app_token"] for a in apps["data"]} == tokens
    await client.flow_init(address, "--app-id", "alice", "--app-token", tokens["root"])
    wrong = await client.flow("site", "query")
    assert wrong["code"] == int(ErrorCode.UNAUTHENTICATED) and "does not verify" in wrong["message"]


def test_the_signing_key_is_made_once_and_private(tmp_path: Path) -> None:
    first = signing_key(tmp_path / "node")
    assert signing_key(tmp_path / "node") == first and len(first) == 32
    assert (tmp_path / "node" / "http_signing.key").stat().st_mode & 0o777 == 0o600
