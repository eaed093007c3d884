"""Small helpers shared by the RPC tests: DAG edits, error decoding, store snapshots."""

from __future__ import annotations

import copy
import socket
from collections.abc import Awaitable
from typing import Any

import grpc
import pytest
import yaml

from fate_grpc.client.v1 import client_pb2
from fate_grpc.control.v1 import control_pb2
from fate_grpc.errors import FateGrpcError
from fate_grpc.security.identity import CALLER_METADATA_KEY
from fate_grpc.wire.rpc_errors import error_from_rpc
from tests.support.nodes import DAGS, Federation

PSI_YAML = (DAGS / "psi.yaml").read_text()


def psi_dag() -> dict[str, Any]:
    """The example reader -> psi DAG as a mutable document."""
    return copy.deepcopy(yaml.safe_load(PSI_YAML))


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False)


def with_host(document: dict[str, Any], host: str) -> dict[str, Any]:
    """The DAG with the host party 10000 replaced by `host` everywhere."""
    text = dump(document).replace("'10000'", f"'{host}'").replace("host_10000", f"host_{host}")
    return yaml.safe_load(text)


def as_party(party_id: str) -> tuple[tuple[str, str], ...]:
    """Call metadata of a partner node that says which party it is (plaintext simulation)."""
    return ((CALLER_METADATA_KEY, party_id),)


async def rpc_error(call: Awaitable[Any], status: grpc.StatusCode | None = None) -> FateGrpcError:
    """Await a call that must fail; return the error as the node described it."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    if status is not None:
        assert info.value.code() == status, (info.value.code(), info.value.details())
    return error_from_rpc(info.value)


async def assert_serving(fed: Federation, party_id: str) -> None:
    """The node still answers a plain call."""
    info = await fed.client(party_id).GetNodeInfo(client_pb2.GetNodeInfoRequest(), timeout=5)
    assert info.party_id == party_id


async def job_ids(fed: Federation) -> dict[str, list[str]]:
    """Job ids stored at every party."""
    return {pid: [j.job_id for j in await node.store.list_jobs()] for pid, node in fed.nodes.items()}


async def assert_no_job_anywhere(fed: Federation) -> None:
    assert await job_ids(fed) == {pid: [] for pid in fed.nodes}


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def create_job_at(fed: Federation, party_id: str, job_id: str, *, scheduler: str = "9999") -> None:
    """Store the example psi job at one party through its ControlService (as a scheduler would)."""
    answer = await fed.control(party_id).CreateJob(
        control_pb2.CreateJobRequest(
            job_id=job_id,
            dag_yaml=PSI_YAML,
            scheduler_party_id=scheduler,
            initiator_party_id=scheduler,
            create_time_ms=1,
        ),
        timeout=10,
        metadata=as_party(scheduler),
    )
    assert answer.created, list(answer.violations)
