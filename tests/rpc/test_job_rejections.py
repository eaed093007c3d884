"""Submit-time rejections: the submitter gets a coded error naming the culprit, and no party keeps the job."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2
from fate_grpc.errors import ErrorCode, FieldViolation
from tests.rpc.helpers import (
    assert_no_job_anywhere,
    closed_port,
    dump,
    psi_dag,
    rpc_error,
    with_host,
)
from tests.support.nodes import DATA, federation


def unknown_component(dag: dict[str, Any]) -> None:
    dag["dag"]["tasks"]["psi_0"]["component_ref"] = "no_such_component"


def cycle(dag: dict[str, Any]) -> None:
    dag["dag"]["tasks"]["reader_0"]["dependent_tasks"] = ["psi_0"]


def missing_producer(dag: dict[str, Any]) -> None:
    channel = dag["dag"]["tasks"]["psi_0"]["inputs"]["data"]["input_data"]["task_output_artifact"]
    channel["producer_task"] = "ghost_0"
    dag["dag"]["tasks"]["psi_0"]["dependent_tasks"] = []


def undeclared_party(dag: dict[str, Any]) -> None:
    dag["dag"]["tasks"]["reader_0"]["parties"][1]["party_id"] = ["10001"]


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (unknown_component, "dag.tasks.psi_0.component_ref", "no_such_component"),
        (cycle, "dag.tasks.", "cycle"),
        (
            missing_producer,
            "dag.tasks.psi_0.inputs.data.input_data.task_output_artifact.producer_task",
            "ghost_0",
        ),
        (undeclared_party, "dag.tasks.reader_0.parties[1].party_id", "10001"),
    ],
    ids=["unknown-component", "cycle", "missing-producer", "undeclared-party"],
)
async def test_invalid_dag_is_rejected_before_any_party_is_asked(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mutate: Callable[[dict[str, Any]], None],
    field: str,
    words: str,
) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        checked: list[str] = []
        for node in fed.nodes.values():
            real_check = node.participant.check_job

            async def recording_check(
                job_id: str, dag_yaml: str, _real: Any = real_check, **kwargs: str
            ) -> list[FieldViolation]:
                checked.append(job_id)
                return await _real(job_id, dag_yaml, **kwargs)

            monkeypatch.setattr(node.participant, "check_job", recording_check)
        dag = psi_dag()
        mutate(dag)

        error = await rpc_error(
            fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dump(dag)), timeout=30),
            grpc.StatusCode.INVALID_ARGUMENT,
        )

        assert error.code is ErrorCode.INVALID_DAG
        matching = [v for v in error.violations if v.field.startswith(field)]
        assert matching, [str(v) for v in error.violations]
        assert any(words in v.reason for v in matching), [str(v) for v in matching]
        assert checked == []
        await assert_no_job_anywhere(fed)


async def test_missing_host_table_rejects_the_job_naming_the_host_and_table(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload("9999", DATA / "breast_hetero_guest.csv", "breast_hetero_guest", label="y")

        error = await rpc_error(
            fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dump(psi_dag())), timeout=30),
            grpc.StatusCode.FAILED_PRECONDITION,
        )

        assert error.code is ErrorCode.JOB_REJECTED
        assert error.fields.get("party_id") == "10000"
        assert [(v.field, v.party_id) for v in error.violations] == [
            ("dag.tasks.reader_0.parameters", "10000")
        ]
        assert "experiment.breast_hetero_host" in error.violations[0].reason
        assert "10000" in error.message
        await assert_no_job_anywhere(fed)


async def test_unreachable_party_fails_the_submit_naming_party_and_address(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        dead = f"127.0.0.1:{closed_port()}"
        fed.nodes["9999"].gateway.set_route("10001", dead)
        dag = with_host(psi_dag(), "10001")

        error = await rpc_error(
            fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dump(dag)), timeout=30),
            grpc.StatusCode.UNAVAILABLE,
        )

        assert error.code is ErrorCode.PARTY_UNAVAILABLE
        assert error.fields == {"party_id": "10001", "address": dead}
        assert "10001" in error.message
        assert dead in error.message
        await assert_no_job_anywhere(fed)


async def test_party_without_a_route_fails_the_submit_naming_the_party(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        dag = with_host(psi_dag(), "10002")

        error = await rpc_error(
            fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dump(dag)), timeout=30),
            grpc.StatusCode.UNAVAILABLE,
        )

        assert error.code is ErrorCode.PARTY_UNAVAILABLE
        assert error.fields.get("party_id") == "10002"
        assert "10002" in error.message
        await assert_no_job_anywhere(fed)


async def test_party_refusing_create_after_check_leaves_no_job_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        guest, host = fed.nodes["9999"], fed.nodes["10000"]

        async def refuse(request: control_pb2.CreateJobRequest) -> list[FieldViolation]:
            return [FieldViolation("dag", "the disk is full", "10000")]

        monkeypatch.setattr(host.participant, "create_job", refuse)
        created_at_guest: list[str] = []
        aborted: list[tuple[str, bool]] = []
        real_create, real_abort = guest.participant.create_job, guest.participant.abort_job

        async def recording_create(request: control_pb2.CreateJobRequest) -> list[FieldViolation]:
            problems = await real_create(request)
            if not problems:
                created_at_guest.append(request.job_id)
            return problems

        async def recording_abort(job_id: str) -> bool:
            removed = await real_abort(job_id)
            aborted.append((job_id, removed))
            return removed

        monkeypatch.setattr(guest.participant, "create_job", recording_create)
        monkeypatch.setattr(guest.participant, "abort_job", recording_abort)

        error = await rpc_error(
            fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dump(psi_dag())), timeout=30),
            grpc.StatusCode.FAILED_PRECONDITION,
        )

        assert error.code is ErrorCode.JOB_REJECTED
        assert error.fields.get("party_id") == "10000"
        assert [(v.field, v.reason, v.party_id) for v in error.violations] == [
            ("dag", "the disk is full", "10000")
        ]
        assert len(created_at_guest) == 1
        assert aborted == [(created_at_guest[0], True)]
        await assert_no_job_anywhere(fed)
        assert await guest.store.list_tasks(created_at_guest[0]) == []


async def crash_in_create(request: control_pb2.CreateJobRequest) -> list[FieldViolation]:
    raise OSError("disk I/O error")


async def test_party_crashing_in_create_leaves_no_job_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        monkeypatch.setattr(fed.nodes["10000"].participant, "create_job", crash_in_create)

        await rpc_error(
            fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dump(psi_dag())), timeout=30)
        )

        await assert_no_job_anywhere(fed)


async def test_party_crashing_in_create_is_named_in_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        monkeypatch.setattr(fed.nodes["10000"].participant, "create_job", crash_in_create)

        error = await rpc_error(
            fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dump(psi_dag())), timeout=30)
        )

        assert error.fields.get("party_id") == "10000", (error.code, error.message, error.fields)
        assert "10000" in error.message


async def test_submit_at_a_non_scheduler_party_is_forwarded_and_runs(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()

        submitted = await fed.client("10000").SubmitJob(
            client_pb2.SubmitJobRequest(dag_yaml=dump(psi_dag()), user_name="alice"), timeout=30
        )
        view = await fed.wait_job("10000", submitted.job_id)

        assert submitted.scheduler_party_id == "9999"
        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
        assert (view.initiator_party_id, view.scheduler_party_id) == ("10000", "9999")
        assert view.from_scheduler
        assert view.answered_by_party_id == "9999"
        guest_job = await fed.nodes["9999"].store.get_job(submitted.job_id)
        host_job = await fed.nodes["10000"].store.get_job(submitted.job_id)
        assert (guest_job.is_scheduler, host_job.is_scheduler) == (True, False)
        assert guest_job.initiator_party_id == host_job.initiator_party_id == "10000"
        assert guest_job.user_name == host_job.user_name == "alice"
