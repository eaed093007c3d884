"""`flow test toy`: fate_client's connectivity test (a two-party toy_example job, followed to its end)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

import click

from fate_grpc.cli.client import FlowClient
from fate_grpc.cli.flow_cli import Settings, cli, pass_settings, run
from fate_grpc.cli.watch_view import EXIT_CODES
from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.flow_answers.jobs import job_status_name

# fate_client 2.2 submits the toy DAG with these parameters and this schema version.
TOY_PARAMETERS = {"data_num": 1024, "partition": 4}
TOY_SCHEMA_VERSION = "2.0.0.alpha"
TIMED_OUT = "timeout"


def toy_dag(guest_party_id: str, host_party_id: str) -> dict[str, Any]:
    """The DAG fate_client submits for `flow test toy` (its task cores are not part of it)."""
    return {
        "dag": {
            "parties": [
                {"party_id": [guest_party_id], "role": "guest"},
                {"party_id": [host_party_id], "role": "host"},
            ],
            "stage": "default",
            "tasks": {"toy_example_0": {"component_ref": "toy_example", "parameters": dict(TOY_PARAMETERS)}},
        },
        "schema_version": TOY_SCHEMA_VERSION,
    }


def log_hint(job_id: str) -> str:
    command = f"flow job download-log -j {job_id} -o $download_dir"
    return f"You can use the command of '{command}' to download the logs."


def party_status(view: common_pb2.JobView, party_id: str) -> str:
    """The job's status at `party_id` (the row fate_client prints), else the job's own status."""
    for party in view.parties:
        if party.party_id == party_id:
            return job_status_name(party.status)
    return job_status_name(view.status)


def follow_toy(
    views: Iterable[common_pb2.JobView], job_id: str, party_id: str, echo: Callable[[str], None]
) -> str:
    """Print `toy test job <id> is <status>` on every change until the job ends; the last status."""
    shown = ""
    for view in views:
        status = party_status(view, party_id)
        if status != shown:
            echo(f"toy test job {job_id} is {status}")
            shown = status
    return shown


@cli.group("test")
def test_group() -> None:
    """Connectivity tests."""


@test_group.command("toy")
@click.option("-gid", "--guest-party-id", required=True, help="The guest's party id.")
@click.option("-hid", "--host-party-id", required=True, help="The host's party id.")
@click.option("-t", "--timeout", type=int, default=300, show_default=True, help="Seconds to wait.")
@click.option("--task-cores", type=int, default=2, help="Accepted; not part of the DAG (as in fate_client).")
@pass_settings
def toy(settings: Settings, guest_party_id: str, host_party_id: str, timeout: int, task_cores: int) -> None:
    """Run FATE's toy_example between a guest and a host; exit status 0 only on success."""
    outcome: dict[str, str] = {}

    def action() -> None:
        if timeout <= 0:
            raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"-t/--timeout must be > 0 seconds, got {timeout}")
        dag = json.dumps(toy_dag(guest_party_id, host_party_id))
        with settings.client() as client:
            job_id = client.submit_job(dag, user_name=os.environ.get("USER", "")).job_id
            outcome["status"] = _run_to_end(client, job_id, guest_party_id, timeout)

    run(action)
    sys.exit(EXIT_CODES.get(outcome.get("status", ""), 1))


def _run_to_end(client: FlowClient, job_id: str, guest_party_id: str, timeout: int) -> str:
    party_id = _local_party(client, guest_party_id)
    try:
        status = follow_toy(client.watch_job(job_id, timeout_s=timeout), job_id, party_id, click.echo)
    except FateGrpcError as error:
        if error.code is not ErrorCode.DEADLINE_EXCEEDED:
            raise
        click.echo("timeout...")
        click.echo(log_hint(job_id))
        _try_stop(client, job_id)
        return TIMED_OUT
    if status != "success":
        click.echo(log_hint(job_id))
    return status


def _local_party(client: FlowClient, guest_party_id: str) -> str:
    """This node's party id (fate_client asks site info, and falls back to the guest's id)."""
    try:
        return client.node_info().party_id or guest_party_id
    except FateGrpcError:
        return guest_party_id


def _try_stop(client: FlowClient, job_id: str) -> None:
    try:
        client.stop_job(job_id)
    except FateGrpcError as error:
        click.echo(f"could not stop job {job_id}: {error.message}")
