"""`flow test toy`: the DAG fate_client submits, the lines it prints, what it does on a timeout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest

from fate_grpc.cli import flow_test
from fate_grpc.cli.client import FlowClient
from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError

RUNNING = common_pb2.JOB_STATUS_RUNNING
SUCCESS = common_pb2.JOB_STATUS_SUCCESS
FAILED = common_pb2.JOB_STATUS_FAILED


def view(job_status: common_pb2.JobStatus, **party_statuses: common_pb2.JobStatus) -> common_pb2.JobView:
    parties = [common_pb2.PartyJobView(role="guest", party_id=p, status=s) for p, s in party_statuses.items()]
    return common_pb2.JobView(job_id="j1", status=job_status, parties=parties)


class FakeNode:
    """A node whose job goes through `views`, then (with `deadline`) exceeds the client's deadline."""

    def __init__(self, views: list[common_pb2.JobView], *, deadline: bool = False) -> None:
        self.views = views
        self.deadline = deadline
        self.stopped: list[str] = []
        self.watch_timeouts: list[float] = []

    def node_info(self) -> client_pb2.GetNodeInfoResponse:
        return client_pb2.GetNodeInfoResponse(party_id="9999")

    def watch_job(self, job_id: str, *, timeout_s: float) -> Iterator[common_pb2.JobView]:
        self.watch_timeouts.append(timeout_s)
        yield from self.views
        if self.deadline:
            raise FateGrpcError(ErrorCode.DEADLINE_EXCEEDED, "node did not answer in time")

    def stop_job(self, job_id: str) -> Any:
        self.stopped.append(job_id)


def run_to_end(node: FakeNode, timeout: int = 300) -> str:
    return flow_test._run_to_end(cast(FlowClient, node), "j1", "9999", timeout)


def test_the_dag_is_fate_clients() -> None:
    assert flow_test.toy_dag("9999", "10000") == {
        "dag": {
            "parties": [{"party_id": ["9999"], "role": "guest"}, {"party_id": ["10000"], "role": "host"}],
            "stage": "default",
            "tasks": {
                "toy_example_0": {
                    "component_ref": "toy_example",
                    "parameters": {"data_num": 1024, "partition": 4},
                }
            },
        },
        "schema_version": "2.0.0.alpha",
    }


def test_a_line_per_change_of_this_partys_status(capsys: pytest.CaptureFixture[str]) -> None:
    node = FakeNode(
        [
            view(RUNNING, **{"9999": RUNNING}),
            view(RUNNING, **{"9999": RUNNING}),
            view(SUCCESS, **{"9999": SUCCESS}),
        ]
    )
    assert run_to_end(node, timeout=30) == "success"
    assert capsys.readouterr().out.splitlines() == [
        "toy test job j1 is running",
        "toy test job j1 is success",
    ]
    assert node.watch_timeouts == [30] and node.stopped == []


def test_a_failed_job_prints_fates_log_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_to_end(FakeNode([view(FAILED, **{"9999": FAILED})])) == "failed"
    assert capsys.readouterr().out.splitlines() == [
        "toy test job j1 is failed",
        "You can use the command of 'flow job download-log -j j1 -o $download_dir' to download the logs.",
    ]


def test_a_timeout_prints_timeout_and_the_hint_and_stops_the_job(capsys: pytest.CaptureFixture[str]) -> None:
    node = FakeNode([view(RUNNING, **{"9999": RUNNING})], deadline=True)
    assert run_to_end(node, timeout=5) == "timeout"
    assert capsys.readouterr().out.splitlines() == [
        "toy test job j1 is running",
        "timeout...",
        "You can use the command of 'flow job download-log -j j1 -o $download_dir' to download the logs.",
    ]
    assert node.stopped == ["j1"]


def test_without_this_partys_row_the_jobs_status_is_shown() -> None:
    assert flow_test.party_status(view(RUNNING, **{"10000": SUCCESS}), "9999") == "running"
