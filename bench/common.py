"""Shared pieces of the benchmark scripts (run from the repository root: python bench/<script>.py)."""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from fate_grpc.cli.demo import upload
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2, control_pb2_grpc
from fate_grpc.flow_answers.jobs import job_status_name
from fate_grpc.security.pki import party_dns_name
from fate_grpc.transfer.v1 import transfer_pb2, transfer_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
FINISHED = re.compile(r"component finished in ([0-9.]+)s")
PSI_CHAIN = ("reader_0", "psi_0")
GUEST, HOST = "9999", "10000"


@dataclass(frozen=True)
class JobRun:
    status: str
    wall_s: float
    compute_s: float

    @property
    def overhead_per_task_s(self) -> float:
        return (self.wall_s - self.compute_s) / len(PSI_CHAIN)


def prepare_psi(cluster: LocalCluster) -> None:
    """Upload the breast tables; with TLS, let the guest run reader and psi at the host."""
    with cluster.client(GUEST) as guest, cluster.client(HOST) as host:
        upload(guest, ROOT / "examples" / "data" / "breast_hetero_guest.csv", "breast_hetero_guest", "y")
        upload(host, ROOT / "examples" / "data" / "breast_hetero_host.csv", "breast_hetero_host", "")
        if cluster.pki is not None:
            host.grant(GUEST, ["reader", "psi"], [("experiment", "*")])


def compute_seconds(cluster: LocalCluster, job_id: str, task: str) -> float:
    slowest = 0.0
    for party in cluster.parties.values():
        for log in (party.data_dir / "jobs" / job_id).glob(f"*/{task}/*/task.log"):
            found = FINISHED.search(log.read_text())
            if found:
                slowest = max(slowest, float(found.group(1)))
    return slowest


def wait_pools_warm(cluster: LocalCluster, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    for pid in cluster.parties:
        with cluster.client(pid) as client:
            while client.node_info().ready_task_processes < cluster.warm_processes:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.05)


def run_psi_job(cluster: LocalCluster) -> JobRun:
    dag = (ROOT / "examples" / "dags" / "psi.yaml").read_text()
    wait_pools_warm(cluster)
    with cluster.client(GUEST) as guest:
        started = time.monotonic()
        job_id = guest.submit_job(dag).job_id
        view = guest.wait_job(job_id, interval_s=0.01)
        wall = time.monotonic() - started
    compute = sum(compute_seconds(cluster, job_id, task) for task in PSI_CHAIN)
    return JobRun(job_status_name(view.status), wall, compute)


def median(values: list[float]) -> float:
    return statistics.median(values)


def create_waiting_job(cluster: LocalCluster, job_id: str) -> None:
    """Create a job at the host as its scheduler (the guest) would, so the host accepts objects for it."""
    request = control_pb2.CreateJobRequest(
        job_id=job_id,
        dag_yaml=(ROOT / "examples" / "dags" / "psi.yaml").read_text(),
        scheduler_party_id=GUEST,
        initiator_party_id=GUEST,
    )
    with guest_node_channel(cluster, HOST) as channel:
        created = control_pb2_grpc.ControlServiceStub(channel).CreateJob(
            request, timeout=30, metadata=(("x-fate-grpc-party-id", GUEST),)
        )
    if not created.created:
        raise SystemExit(f"the host refused the job: {created.violations}")


def guest_node_channel(cluster: LocalCluster, party_id: str) -> grpc.Channel:
    """A channel to `party_id`'s node presenting the guest node's identity (its certificate, with TLS)."""
    address = cluster.parties[party_id].address
    if cluster.pki is None:
        return grpc.insecure_channel(address)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=cluster.pki.bundle.read_bytes(),
        private_key=cluster.pki.node_key(GUEST).read_bytes(),
        certificate_chain=cluster.pki.node_cert(GUEST).read_bytes(),
    )
    return grpc.secure_channel(
        address, credentials, options=[("grpc.ssl_target_name_override", party_dns_name(party_id))]
    )


def push_requests(job_id: str, tag: str, size: int) -> Iterator[transfer_pb2.PushObjectRequest]:
    key = common_pb2.ObjectKey(
        job_id=job_id,
        task_name="psi_0",
        attempt=0,
        tag=tag,
        source=common_pb2.PartyRef(role="guest", party_id=GUEST),
        destination=common_pb2.PartyRef(role="host", party_id=HOST),
    )
    yield transfer_pb2.PushObjectRequest(header=transfer_pb2.PushObjectHeader(key=key, total_size=size))
    chunk = os.urandom(MIB)
    sent = 0
    while sent < size:
        part = chunk[: min(MIB, size - sent)]
        sent += len(part)
        yield transfer_pb2.PushObjectRequest(chunk=part)


def push_object(cluster: LocalCluster, job_id: str, tag: str, size: int) -> tuple[float, bool]:
    """Stream `size` bytes into the host's mailbox as the guest's node; returns (seconds, stored)."""
    with guest_node_channel(cluster, HOST) as channel:
        stub = transfer_pb2_grpc.TransferServiceStub(channel)
        started = time.monotonic()
        answer = stub.PushObject(
            push_requests(job_id, tag, size), timeout=600, metadata=(("x-fate-grpc-party-id", GUEST),)
        )
        return time.monotonic() - started, answer.stored


def peak_rss_mib(pid: int) -> float:
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine_line() -> str:
    return f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
