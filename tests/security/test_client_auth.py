"""Users of a party's node: client certificates of that party, or tokens it created; admins only for
tokens and permissions."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from fate_grpc.client.v1 import client_pb2, client_pb2_grpc
from fate_grpc.node.config import ClientAuthSettings
from fate_grpc.security import pki
from fate_grpc.security.identity import hash_token, new_token
from fate_grpc.store.records import TokenRecord
from tests.support.nodes import federation, node_credentials

GUEST, HOST = "9999", "10000"


async def code_of(call) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        await call
    return caught.value.code()


async def test_only_the_partys_own_users_get_in(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], tls=True) as fed:
        assert fed.pki is not None
        info = client_pb2.GetNodeInfoRequest()
        # The host's admin, at the guest's node: a valid certificate of the federation, wrong party.
        host_user = grpc.ssl_channel_credentials(
            root_certificates=fed.pki.bundle.read_bytes(),
            private_key=fed.pki.user_key(HOST, "root").read_bytes(),
            certificate_chain=fed.pki.user_cert(HOST, "root").read_bytes(),
        )
        stub = client_pb2_grpc.ClientServiceStub(fed.channel(GUEST, host_user))
        assert await code_of(stub.GetNodeInfo(info, timeout=5)) == grpc.StatusCode.PERMISSION_DENIED
        # A partner node's certificate is not a user either.
        stub = client_pb2_grpc.ClientServiceStub(fed.channel(GUEST, node_credentials(fed.pki, HOST)))
        assert await code_of(stub.QueryTable(client_pb2.QueryTableRequest(namespace="a", name="b"))) == (
            grpc.StatusCode.UNAUTHENTICATED
        )
        # A plain user (not admin) of the guest can work but not manage tokens or grants.
        ca = pki.load(fed.pki.root / "ca" / "ca.key", fed.pki.root / "ca" / "ca.crt")
        alice = pki.issue_user_cert(ca, GUEST, "alice")
        creds = grpc.ssl_channel_credentials(
            root_certificates=fed.pki.bundle.read_bytes(),
            private_key=alice.key_pem,
            certificate_chain=alice.cert_pem,
        )
        stub = client_pb2_grpc.ClientServiceStub(fed.channel(GUEST, creds))
        me = await stub.GetNodeInfo(info, timeout=5)
        assert (me.user, me.is_admin, me.auth_method) == ("alice", False, "certificate")
        assert await code_of(stub.CreateToken(client_pb2.CreateTokenRequest(name="x"))) == (
            grpc.StatusCode.PERMISSION_DENIED
        )
        assert (
            await code_of(
                stub.GrantPermission(client_pb2.GrantPermissionRequest(party_id=HOST, components=["*"]))
            )
            == grpc.StatusCode.PERMISSION_DENIED
        )


async def test_tokens_on_a_loopback_client_port(tmp_path: Path) -> None:
    async with federation(
        tmp_path, [GUEST], client_listen="127.0.0.1:0", client_auth=ClientAuthSettings(mode="required")
    ) as fed:
        node = fed.nodes[GUEST]
        channel = grpc.aio.insecure_channel(node.addresses.client)
        stub = client_pb2_grpc.ClientServiceStub(channel)
        info = client_pb2.GetNodeInfoRequest()
        try:
            assert await code_of(stub.GetNodeInfo(info)) == grpc.StatusCode.UNAUTHENTICATED
            assert (
                await code_of(stub.GetNodeInfo(info, metadata=(("authorization", "Bearer fgt_nope"),)))
                == grpc.StatusCode.UNAUTHENTICATED
            )
            # The first admin token is made on the node's host, straight into its store.
            root = new_token()
            await node.store.put_token(TokenRecord(token_hash=hash_token(root), name="root", is_admin=True))
            as_root = (("authorization", f"Bearer {root}"),)
            made = await stub.CreateToken(client_pb2.CreateTokenRequest(name="bob"), metadata=as_root)
            as_bob = (("authorization", f"Bearer {made.token}"),)
            me = await stub.GetNodeInfo(info, metadata=as_bob)
            assert (me.user, me.is_admin, me.auth_method) == ("bob", False, "token")
            assert await code_of(stub.ListTokens(client_pb2.ListTokensRequest(), metadata=as_bob)) == (
                grpc.StatusCode.PERMISSION_DENIED
            )
            listed = await stub.ListTokens(client_pb2.ListTokensRequest(), metadata=as_root)
            assert {t.name for t in listed.tokens} == {"root", "bob"}
            assert all(made.token not in str(t) for t in listed.tokens)
            stored = await node.store.list_tokens()
            assert all(t.token_hash != made.token and made.token not in t.token_hash for t in stored)
            await stub.RevokeToken(client_pb2.RevokeTokenRequest(name="bob"), metadata=as_root)
            assert await code_of(stub.GetNodeInfo(info, metadata=as_bob)) == grpc.StatusCode.UNAUTHENTICATED
        finally:
            await channel.close()
