"""Node-to-node object transfer: throughput and the receiving node's peak memory.

Starts a guest (9999) and a host (10000) node as separate processes, runs one reader -> psi job so that
both know a job, then streams objects of growing size (1 MiB chunks) into the host's TransferService as
the guest's node would, and prints MiB/s and the host node's peak resident memory (VmHWM) after each.
The host spills objects above its memory budget to disk, so its peak memory should stay flat.

Usage: python bench/transfer.py [--max-mib 1024]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc

from fate_grpc.cli.demo import upload
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.common.v1 import common_pb2
from fate_grpc.transfer.v1 import transfer_pb2, transfer_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024


def peak_rss_mib(pid: int) -> float:
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def requests(job_id: str, tag: str, size: int) -> Iterator[transfer_pb2.PushObjectRequest]:
    key = common_pb2.ObjectKey(
        job_id=job_id,
        task_name="psi_0",
        attempt=0,
        tag=tag,
        source=common_pb2.PartyRef(role="guest", party_id="9999"),
        destination=common_pb2.PartyRef(role="host", party_id="10000"),
    )
    yield transfer_pb2.PushObjectRequest(header=transfer_pb2.PushObjectHeader(key=key, total_size=size))
    chunk = os.urandom(MIB)
    sent = 0
    while sent < size:
        part = chunk[: min(MIB, size - sent)]
        sent += len(part)
        yield transfer_pb2.PushObjectRequest(chunk=part)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, LocalCluster(Path(workdir), ["9999", "10000"]) as cluster:
        guest, host = cluster.client("9999"), cluster.client("10000")
        upload(guest, ROOT / "examples" / "data" / "breast_hetero_guest.csv", "breast_hetero_guest", "y")
        upload(host, ROOT / "examples" / "data" / "breast_hetero_host.csv", "breast_hetero_host", "")
        job_id = guest.submit_job((ROOT / "examples" / "dags" / "psi.yaml").read_text()).job_id
        guest.wait_job(job_id)
        host_pid = cluster.parties["10000"].process.pid  # type: ignore[union-attr]
        channel = grpc.insecure_channel(cluster.parties["10000"].address)
        stub = transfer_pb2_grpc.TransferServiceStub(channel)
        print(f"host node peak RSS before: {peak_rss_mib(host_pid):.0f} MiB")
        size_mib = 16
        while size_mib <= args.max_mib:
            started = time.monotonic()
            answer = stub.PushObject(requests(job_id, f"bench.{size_mib}", size_mib * MIB), timeout=600)
            seconds = time.monotonic() - started
            print(
                f"{size_mib:>5} MiB in {seconds:6.2f}s = {size_mib / seconds:7.1f} MiB/s"
                f" (stored={answer.stored}); host node peak RSS {peak_rss_mib(host_pid):.0f} MiB"
            )
            size_mib *= 4
        channel.close()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
