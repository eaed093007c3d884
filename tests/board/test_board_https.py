"""The board on a TLS node's HTTP port: HTTPS with the node's certificate; its /api/ answers the
user API's users (a client certificate of the party, or a bearer token) and no one else, while the
page itself loads without credentials."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp

from fate_grpc.client.v1 import client_pb2
from fate_grpc.node.config import ClientAuthSettings, HttpSettings
from fate_grpc.security.pki import party_dns_name
from tests.support.nodes import federation

GUEST = "9999"
HTTP = {"http": HttpSettings(listen="127.0.0.1:0")}


def client_context(bundle: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(bundle))
    if cert is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


async def get(address: str, path: str, context: ssl.SSLContext, token: str = "") -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"https://{address}{path}", ssl=context, server_hostname=party_dns_name(GUEST), headers=headers
        ) as answer,
    ):
        return answer.status, await answer.text()


async def test_the_board_over_https_knows_the_user_apis_users(tmp_path: Path) -> None:
    token_users = ClientAuthSettings(mode="required", certificates="none")
    async with federation(tmp_path, [GUEST], tls=True, client_auth=token_users, **HTTP) as fed:
        assert fed.pki is not None
        address = fed.nodes[GUEST].addresses.http
        made = await fed.client(GUEST).CreateToken(client_pb2.CreateTokenRequest(name="ann"))
        plain = client_context(fed.pki.bundle)
        as_root = client_context(
            fed.pki.bundle, fed.pki.user_cert(GUEST, "root"), fed.pki.user_key(GUEST, "root")
        )

        page = await get(address, "/board/", plain)
        anonymous = await get(address, "/board/api/node", plain)
        with_token = await get(address, "/board/api/node", plain, made.token)
        with_certificate = await get(address, "/board/api/node", as_root)
        jobs = await get(address, "/board/api/jobs", as_root)

    assert page[0] == 200 and "board.js" in page[1]
    assert anonymous[0] == 401 and "needs a client certificate of the party or a token" in anonymous[1]
    assert with_token[0] == 200 and '"user": "ann", "auth_method": "token"' in with_token[1]
    assert (
        with_certificate[0] == 200 and '"user": "root", "auth_method": "certificate"' in with_certificate[1]
    )
    assert jobs == (200, '{"jobs": [], "count": 0, "offset": 0, "limit": 20}')
