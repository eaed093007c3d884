"""Mutual TLS between nodes: a full job over mTLS, and every way a peer can fail to prove who it is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import grpc
import pytest

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2, control_pb2_grpc
from fate_grpc.errors import ErrorCode
from fate_grpc.security import pki
from fate_grpc.security.provision import PartySpec, provision
from fate_grpc.wire.rpc_errors import error_from_rpc
from tests.support.nodes import DAGS, Federation, federation

GUEST, HOST = "9999", "10000"


async def grant_guest_everything(fed: Federation) -> None:
    await fed.client(HOST).GrantPermission(
        client_pb2.GrantPermissionRequest(
            party_id=GUEST,
            components=["reader", "psi"],
            datasets=[client_pb2.DatasetRef(namespace="experiment", name="breast_hetero_host")],
        )
    )


async def still_serving(fed: Federation, party_id: str) -> None:
    info = await fed.client(party_id).GetNodeInfo(client_pb2.GetNodeInfoRequest(), timeout=5)
    assert info.party_id == party_id and info.tls


def credentials(root: bytes, issued: pki.Issued) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=root, private_key=issued.key_pem, certificate_chain=issued.cert_pem
    )


async def call_check_job(
    fed: Federation, target: str, creds: grpc.ChannelCredentials, *, scheduler: str
) -> grpc.RpcError:
    channel = fed.channel(target, creds)
    request = control_pb2.CheckJobRequest(
        job_id="j1",
        dag_yaml=(DAGS / "psi.yaml").read_text(),
        scheduler_party_id=scheduler,
        initiator_party_id=scheduler,
    )
    with pytest.raises(grpc.RpcError) as caught:
        await control_pb2_grpc.ControlServiceStub(channel).CheckJob(request, timeout=5)
    return caught.value


async def test_a_job_runs_over_mutual_tls(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], tls=True) as fed:
        await fed.upload_breast()
        await grant_guest_everything(fed)

        submitted = await fed.client(GUEST).SubmitJob(
            client_pb2.SubmitJobRequest(dag_yaml=(DAGS / "psi.yaml").read_text()), timeout=30
        )
        view = await fed.wait_job(GUEST, submitted.job_id)

        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
        info = await fed.client(GUEST).GetNodeInfo(client_pb2.GetNodeInfoRequest())
        assert info.tls and info.user == "root" and info.is_admin and info.auth_method == "certificate"


async def test_a_node_cannot_call_as_another_party(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST, "9998"], tls=True) as fed:
        assert fed.pki is not None
        # 9998 holds a valid node certificate, but claims to be the scheduler 9999.
        error = await call_check_job(
            fed,
            HOST,
            credentials(
                fed.pki.bundle.read_bytes(), pki.load(fed.pki.node_key("9998"), fed.pki.node_cert("9998"))
            ),
            scheduler=GUEST,
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "9998" in error.details() and "9999" in error.details()
        # ... and it cannot push data as another party either, or report another party's task status.
        stub = fed.control(HOST, as_party="9998")
        with pytest.raises(grpc.RpcError) as caught:
            await stub.ReportTaskStatus(
                control_pb2.ReportTaskStatusRequest(
                    job_id="j1",
                    task_name="psi_0",
                    attempt=0,
                    role="guest",
                    party_id=GUEST,
                    status=common_pb2.TASK_STATUS_SUCCESS,
                ),
                timeout=5,
            )
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_from_rpc(caught.value).code is ErrorCode.PERMISSION_DENIED
        await still_serving(fed, HOST)


async def test_a_user_certificate_is_not_a_node(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], tls=True) as fed:
        assert fed.pki is not None
        user = pki.load(fed.pki.user_key(GUEST, "root"), fed.pki.user_cert(GUEST, "root"))
        error = await call_check_job(
            fed, HOST, credentials(fed.pki.bundle.read_bytes(), user), scheduler=GUEST
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED and "node certificate" in error.details()


async def test_a_certificate_from_another_ca_is_refused(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], tls=True) as fed:
        assert fed.pki is not None
        other = provision(tmp_path / "other", [PartySpec(GUEST, "127.0.0.1:0")])
        foreign = pki.load(other.node_key(GUEST), other.node_cert(GUEST))
        # Trust the real CA for the server, but present a certificate the federation never issued.
        error = await call_check_job(
            fed, HOST, credentials(fed.pki.bundle.read_bytes(), foreign), scheduler=GUEST
        )
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        await still_serving(fed, HOST)


async def test_an_expired_certificate_is_refused(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], tls=True) as fed:
        assert fed.pki is not None
        ca = pki.load(fed.pki.root / "ca" / "ca.key", fed.pki.root / "ca" / "ca.crt")
        past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        expired = pki.issue_node_cert(ca, GUEST, days=1, not_before=past)
        assert expired.certificate.not_valid_after_utc < dt.datetime.now(dt.UTC)
        error = await call_check_job(
            fed, HOST, credentials(fed.pki.bundle.read_bytes(), expired), scheduler=GUEST
        )
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        await still_serving(fed, HOST)


async def test_plaintext_to_a_tls_node_is_refused(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], tls=True) as fed:
        stub = fed.control(HOST)  # no credentials: a plaintext channel
        with pytest.raises(grpc.RpcError) as caught:
            await stub.CheckJob(control_pb2.CheckJobRequest(job_id="j1"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        await still_serving(fed, HOST)


async def test_a_server_must_prove_it_is_the_party_called(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], tls=True) as fed:
        assert fed.pki is not None
        # A route that points the guest at the host's address: the host cannot pass as party 9998.
        fed.nodes[GUEST].gateway.set_route("9998", fed.address(HOST))
        with pytest.raises(Exception) as caught:
            await fed.nodes[GUEST].gateway.check_job(
                "9998", control_pb2.CheckJobRequest(job_id="j1"), deadline_s=5
            )
        assert getattr(caught.value, "code", None) is ErrorCode.PARTY_UNAVAILABLE
