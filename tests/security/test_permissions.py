"""Partner permissions: a job-create without a grant is refused naming it; a granted job runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import ErrorCode
from fate_grpc.wire.rpc_errors import error_from_rpc
from tests.support.nodes import DAGS, federation

GUEST, HOST = "9999", "10000"


async def submit(fed, dag: str) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        await fed.client(GUEST).SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dag), timeout=30)
    return caught.value


async def test_job_create_without_grants_is_refused_naming_what_is_missing(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], tls=True) as fed:
        await fed.upload_breast()
        dag = (DAGS / "psi.yaml").read_text()

        error = error_from_rpc(await submit(fed, dag))
        assert error.code is ErrorCode.JOB_REJECTED
        assert "party 9999 may not create jobs at host 10000" in error.message
        assert "flow permission grant -p 9999" in error.message
        assert [await node.store.list_jobs() for node in fed.nodes.values()] == [[], []]

        # Jobs allowed, but only reader: psi and the table are still named.
        await fed.client(HOST).GrantPermission(
            client_pb2.GrantPermissionRequest(party_id=GUEST, components=["reader"])
        )
        error = error_from_rpc(await submit(fed, dag))
        reasons = [v.reason for v in error.violations]
        assert any("may not run component psi at host 10000" in r for r in reasons)
        assert any("may not read table experiment.breast_hetero_host" in r for r in reasons)
        assert all(v.party_id == HOST for v in error.violations)

        await fed.client(HOST).GrantPermission(
            client_pb2.GrantPermissionRequest(
                party_id=GUEST,
                components=["psi"],
                datasets=[client_pb2.DatasetRef(namespace="experiment", name="*")],
            )
        )
        submitted = await fed.client(GUEST).SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dag), timeout=30)
        view = await fed.wait_job(GUEST, submitted.job_id)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason

        grants = (await fed.client(HOST).QueryPermission(client_pb2.QueryPermissionRequest())).grants
        assert {(g.kind, g.value) for g in grants} == {
            ("job", "*"),
            ("component", "reader"),
            ("component", "psi"),
            ("dataset", "experiment/*"),
        }
        answer = await fed.client(HOST).RevokePermission(
            client_pb2.RevokePermissionRequest(party_id=GUEST, all=True)
        )
        assert answer.removed == 4
        error = error_from_rpc(await submit(fed, dag))
        assert error.code is ErrorCode.JOB_REJECTED


async def test_the_loopback_simulation_allows_partners_by_default(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST]) as fed:
        answer = await fed.client(HOST).QueryPermission(client_pb2.QueryPermissionRequest())
        assert answer.default_policy == "allow"


async def test_a_flood_of_job_creates_from_one_partner_is_bounded(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST]) as fed:
        checks = fed.nodes[HOST].job_checks
        checks.limits = replace(checks.limits, max_unfinished_jobs_per_partner=0)
        await fed.upload_breast()
        error = error_from_rpc(await submit(fed, (DAGS / "psi.yaml").read_text()))
        assert error.code is ErrorCode.JOB_REJECTED
        assert "unfinished jobs at party 10000" in error.message
