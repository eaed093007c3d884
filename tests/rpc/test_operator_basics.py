"""Operator basics on in-process nodes: gRPC health and reflection, /metrics on the HTTP port, and the
structured log of a job."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from fate_grpc.client.v1 import client_pb2, jobs_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.node.config import ClientAuthSettings, HttpSettings
from fate_grpc.observability.log_setup import configure_logging
from fate_grpc.security.identity import hash_token
from fate_grpc.store.records import TokenRecord
from tests.rpc.helpers import closed_port, rpc_error
from tests.support.nodes import DAGS, federation

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
HTTP = {"http": HttpSettings(listen="127.0.0.1:0")}
TOKEN = "fgt_operator-basics-test-token"


async def test_health_is_serving_per_service_and_not_serving_once_shutdown_begins(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        node = fed.nodes["9999"]
        health = health_pb2_grpc.HealthStub(fed.channel("9999"))
        services = ["", "fate_grpc.control.v1.ControlService", "fate_grpc.client.v1.ClientService"]

        answers = [await health.Check(health_pb2.HealthCheckRequest(service=s), timeout=5) for s in services]
        watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=30)
        first = await watch.read()
        shutdown = asyncio.ensure_future(node.shutdown())
        second = await watch.read()
        watch.cancel()  # else the server waits out its grace period for this stream
        await shutdown

        assert [a.status for a in answers] == [SERVING] * len(services)
        assert (first.status, second.status) == (SERVING, NOT_SERVING)


async def test_health_answers_not_found_for_a_service_the_node_does_not_have(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        health = health_pb2_grpc.HealthStub(fed.channel("9999"))

        try:
            await health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()

        assert code == grpc.StatusCode.NOT_FOUND


async def _reflection_services(channel: grpc.aio.Channel) -> list[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def one_request() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    answers = [a async for a in stub.ServerReflectionInfo(one_request(), timeout=5)]
    return sorted(s.name for s in answers[0].list_services_response.service)


async def test_reflection_lists_every_service_of_the_port(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        names = await _reflection_services(fed.channel("9999"))

    assert names == [
        "fate_grpc.client.v1.ClientService",
        "fate_grpc.control.v1.ControlService",
        "fate_grpc.transfer.v1.TransferService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ]


async def _scrape(address: str, **kwargs: object) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Samples of /metrics: name -> {sorted labels -> value}."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{address}/metrics", **kwargs) as answer,
    ):
        assert answer.status == 200, await answer.text()
        text = await answer.text()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _total(samples: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for k, v in samples.get(name, {}).items() if wanted <= set(k))


async def test_a_job_moves_the_metrics_of_both_nodes(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"], **HTTP) as fed:
        await fed.upload_breast()
        guest = fed.nodes["9999"].addresses.http
        before = await _scrape(guest)

        job_id = await fed.submit("9999", (DAGS / "psi.yaml").read_text())
        view = await fed.wait_job("9999", job_id)
        after = await _scrape(guest)
        host = await _scrape(fed.nodes["10000"].addresses.http)

    assert view.status == common_pb2.JOB_STATUS_SUCCESS
    assert _total(before, "fate_grpc_jobs", status="success") == 0
    assert _total(after, "fate_grpc_jobs", status="success") == 1
    assert _total(after, "fate_grpc_tasks", status="success") == 2  # reader_0 and psi_0 at the guest
    assert _total(after, "fate_grpc_task_duration_seconds_count", component="psi", status="success") == 1
    assert _total(after, "fate_grpc_queue_wait_seconds_count") == 1
    assert _total(after, "fate_grpc_queue_jobs") == 0
    assert _total(after, "fate_grpc_cores_budget") == 32
    assert _total(after, "fate_grpc_cores_in_use") == 0
    assert _total(after, "process_resident_memory_bytes") > 0
    assert _total(after, "fate_grpc_rpc_duration_seconds_count", side="client", peer="10000") > 0
    assert _total(after, "fate_grpc_rpc_duration_seconds_count", side="server", peer="user") > 0
    assert _total(host, "fate_grpc_rpc_duration_seconds_count", side="server", peer="9999") > 0
    # PSI sends the guest's blinded points (569 rows) to the host: both nodes count them.
    assert _total(after, "fate_grpc_peer_bytes_total", peer="10000", direction="sent") > 15_000
    assert _total(host, "fate_grpc_peer_bytes_total", peer="9999", direction="received") > 15_000
    assert _total(after, "fate_grpc_store_call_duration_seconds_count", operation="transition_job") > 0
    assert _total(host, "fate_grpc_task_duration_seconds_count", component="psi", status="success") == 1


async def test_job_log_lines_carry_job_task_attempt_and_party(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging("info", fmt="json", stream=stream)
    try:
        async with federation(tmp_path, ["9999", "10000"]) as fed:
            await fed.upload_breast()
            job_id = await fed.submit("9999", (DAGS / "psi.yaml").read_text())
            await fed.wait_job("9999", job_id)
            refused = fed.client("9999").StopJob(client_pb2.StopJobRequest(job_id=job_id), timeout=10)
            await rpc_error(refused, grpc.StatusCode.FAILED_PRECONDITION)
    finally:
        logging.basicConfig(force=True)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    of_job = [line for line in lines if line.get("job_id") == job_id]
    submitted = [line for line in of_job if line["message"] == "job submitted"]
    ended = [line for line in of_job if line["logger"] == "fate_grpc.tasks"]
    assert len(submitted) == 1 and submitted[0]["level"] == "info"
    assert submitted[0]["rpc"] == "ClientService/SubmitJob" and submitted[0]["request_id"]
    assert {(e["task"], e["attempt"], e["party"], e["status"]) for e in ended} == {
        ("reader_0", 0, "9999", "success"),
        ("reader_0", 0, "10000", "success"),
        ("psi_0", 0, "9999", "success"),
        ("psi_0", 0, "10000", "success"),
    }
    # The stop of an ended job is answered with an error: it is not logged as a stop.
    assert not [line for line in of_job if line["message"] == "job stop requested"]


async def test_refusals_and_partner_errors_are_logged_at_info_with_their_fields(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging("info", fmt="json", stream=stream)
    try:
        away = f"127.0.0.1:{closed_port()}"
        async with federation(
            tmp_path, ["9999"], client_auth=ClientAuthSettings(mode="required"), routes={"10000": away}
        ) as fed:
            client = fed.client("9999")
            await rpc_error(
                client.GetNodeInfo(client_pb2.GetNodeInfoRequest()), grpc.StatusCode.UNAUTHENTICATED
            )
            await fed.nodes["9999"].store.put_token(TokenRecord(hash_token(TOKEN), "ops", is_admin=True))
            as_ops = (("authorization", f"Bearer {TOKEN}"),)
            await client.CheckPartners(
                jobs_pb2.CheckPartnersRequest(timeout_s=2), metadata=as_ops, timeout=10
            )
    finally:
        logging.basicConfig(force=True)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [refusal] = [line for line in lines if line["message"].startswith("refused ClientService/GetNodeInfo")]
    assert (refusal["level"], refusal["code"], refusal["peer"]) == ("info", "UNAUTHENTICATED", "user")
    assert refusal["rpc"] == "ClientService/GetNodeInfo" and refusal["request_id"]
    [failure] = [line for line in lines if line["message"].startswith("call ControlService/GetJobView")]
    assert (failure["level"], failure["peer"], failure["code"]) == ("info", "10000", "UNAVAILABLE")
    assert "to party 10000 failed" in failure["message"]
