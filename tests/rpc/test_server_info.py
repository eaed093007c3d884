"""`flow server info` for operators: certificate expiry, cores, the HTTP port, partners' round trips."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from cryptography import x509

from fate_grpc.cli.flow_cli import CONF_ENV, main
from fate_grpc.client.v1 import client_pb2
from fate_grpc.node.config import HttpSettings, Resources
from tests.support.nodes import federation

HTTP = {"http": HttpSettings(listen="127.0.0.1:0")}


async def test_node_info_shows_certificate_expiry_cores_and_http_port(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"], tls=True, resources=Resources(cores=12), **HTTP) as fed:
        assert fed.pki is not None
        node = fed.nodes["9999"]
        cert = x509.load_pem_x509_certificate(fed.pki.node_cert("9999").read_bytes())

        info = await fed.client("9999").GetNodeInfo(client_pb2.GetNodeInfoRequest(), timeout=5)

    assert info.tls_cert_expire_time_ms == int(cert.not_valid_after_utc.timestamp() * 1000)
    assert (info.cores_total, info.cores_in_use) == (12, 0)
    assert info.http_address == node.addresses.http != ""


async def test_flow_server_info_adds_operator_fields_and_partner_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(CONF_ENV, str(tmp_path / "flow.yaml"))
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        argv = ["--node", fed.address("9999"), "server", "info", "--timeout", "5"]

        code = await anyio.to_thread.run_sync(main, argv)

    answer = json.loads(capsys.readouterr().out)
    data = answer["data"]
    assert code == 0 and answer["code"] == 0
    assert (data["party_id"], data["tls"], data["tls_cert_expire_time"], data["http"]) == (
        "9999",
        False,
        None,
        None,
    )
    assert data["cores"] == {"total": 32, "in_use": 0}
    [partner] = data["partners"]
    assert (partner["party_id"], partner["reachable"]) == ("10000", True) and partner["latency_ms"] >= 0
