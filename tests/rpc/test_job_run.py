"""A whole reader -> psi job across two in-process nodes (real gRPC, real task processes)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from tests.support.nodes import DAGS, federation


async def test_reader_psi_job_succeeds_at_both_parties(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        dag = (DAGS / "psi.yaml").read_text()

        submitted = await fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dag), timeout=30)
        view = await fed.wait_job("9999", submitted.job_id)

        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
        assert view.progress == 100
        tasks = {(t.task_name, t.role, t.party_id): t for t in view.tasks}
        assert set(tasks) == {
            ("reader_0", "guest", "9999"),
            ("reader_0", "host", "10000"),
            ("psi_0", "guest", "9999"),
            ("psi_0", "host", "10000"),
        }
        assert all(t.status == common_pb2.TASK_STATUS_SUCCESS for t in tasks.values())
        for pid, role in (("9999", "guest"), ("10000", "host")):
            table = (
                await fed.client(pid).QueryTable(
                    client_pb2.QueryTableRequest(
                        namespace=f"{submitted.job_id}_psi_0", name=f"{role}_{pid}_output_data_0"
                    )
                )
            ).table
            assert table.count == 569
        guest_rows = pd.read_csv(
            fed.nodes["9999"].paths.jobs_dir
            / submitted.job_id
            / "guest_9999"
            / "psi_0"
            / "0"
            / "outputs"
            / "output_data.csv"
        )
        host_rows = pd.read_csv(
            fed.nodes["10000"].paths.jobs_dir
            / submitted.job_id
            / "host_10000"
            / "psi_0"
            / "0"
            / "outputs"
            / "output_data.csv"
        )
        assert list(guest_rows["id"]) == list(host_rows["id"])
        # The host's own view agrees (every party shows the same status).
        host_view = (
            await fed.client("10000").QueryJob(client_pb2.QueryJobRequest(job_id=submitted.job_id))
        ).job
        assert host_view.status == common_pb2.JOB_STATUS_SUCCESS
