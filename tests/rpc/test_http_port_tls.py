"""The HTTP port of a TLS node: HTTPS with the node's certificate, users authenticated as on the user
API (a bearer token of this party, or a client certificate of one of its users)."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from fate_grpc.client.v1 import client_pb2
from fate_grpc.errors import ErrorCode
from fate_grpc.node.config import ClientAuthSettings, HttpSettings
from fate_grpc.security.pki import party_dns_name
from tests.support.nodes import federation

HTTP = {"http": HttpSettings(listen="127.0.0.1:0")}


def _client_context(bundle: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(bundle))
    if cert is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


async def _get_metrics(
    address: str, context: ssl.SSLContext, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"https://{address}/metrics",
            ssl=context,
            server_hostname=party_dns_name("9999"),
            headers=headers or {},
        ) as answer,
    ):
        return answer.status, await answer.text()


async def test_with_token_users_allowed_metrics_need_a_token_or_a_user_certificate(tmp_path: Path) -> None:
    token_users = ClientAuthSettings(mode="required", certificates="none")
    async with federation(tmp_path, ["9999"], tls=True, client_auth=token_users, **HTTP) as fed:
        assert fed.pki is not None
        address = fed.nodes["9999"].addresses.http
        made = await fed.client("9999").CreateToken(client_pb2.CreateTokenRequest(name="prometheus"))
        plain = _client_context(fed.pki.bundle)
        as_root = _client_context(
            fed.pki.bundle, fed.pki.user_cert("9999", "root"), fed.pki.user_key("9999", "root")
        )

        anonymous = await _get_metrics(address, plain)
        bad_token = await _get_metrics(address, plain, {"Authorization": "Bearer fgt_not-a-token"})
        with_token = await _get_metrics(address, plain, {"Authorization": f"Bearer {made.token}"})
        with_certificate = await _get_metrics(address, as_root)

    assert anonymous[0] == 401 and f'"code": {int(ErrorCode.UNAUTHENTICATED)}' in anonymous[1]
    assert "needs a client certificate of the party or a token" in anonymous[1]
    assert bad_token[0] == 401 and "unknown or expired token" in bad_token[1]
    assert with_token[0] == 200 and "fate_grpc_cores_budget 32.0" in with_token[1]
    assert with_certificate[0] == 200 and "fate_grpc_jobs" in with_certificate[1]


async def test_by_default_the_handshake_demands_a_user_certificate_as_the_user_port_does(
    tmp_path: Path,
) -> None:
    async with federation(tmp_path, ["9999"], tls=True, **HTTP) as fed:
        assert fed.pki is not None
        address = fed.nodes["9999"].addresses.http
        made = await fed.client("9999").CreateToken(client_pb2.CreateTokenRequest(name="prometheus"))
        as_root = _client_context(
            fed.pki.bundle, fed.pki.user_cert("9999", "root"), fed.pki.user_key("9999", "root")
        )

        with pytest.raises(aiohttp.ClientError):
            await _get_metrics(
                address, _client_context(fed.pki.bundle), {"Authorization": f"Bearer {made.token}"}
            )
        with_certificate = await _get_metrics(address, as_root)

    assert with_certificate[0] == 200 and "fate_grpc_jobs" in with_certificate[1]


async def test_health_over_mutual_tls_answers_serving(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"], tls=True) as fed:
        health = health_pb2_grpc.HealthStub(fed.channel("9999"))

        answer = await health.Check(
            health_pb2.HealthCheckRequest(service="fate_grpc.control.v1.ControlService"), timeout=5
        )

    assert answer.status == health_pb2.HealthCheckResponse.SERVING
