"""Table download: throughput of `flow data download`'s stream, and peak memory of node and client.

Starts one node (9999) as a separate process, uploads a generated CSV of about --mib MiB (breast rows
repeated with fresh ids), then downloads it through the client API's DownloadTable stream into a file,
as `flow data download` does. Prints MiB/s, the node's peak resident memory (VmHWM) before and after,
and this client's peak. Both should stay far below the table's size: the node reads 1 MiB at a time
in worker threads and the client writes each chunk as it arrives.

Usage: python bench/download.py [--mib 1024]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from common import MIB, machine_line, peak_rss_mib

from fate_grpc.cli.downloads import write_single_file
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2, outputs_pb2

GUEST = "9999"
SOURCE = Path(__file__).resolve().parents[1] / "examples" / "data" / "breast_hetero_guest.csv"


def make_csv(path: Path, target_bytes: int) -> int:
    """Write breast guest rows again and again with new ids until the file reaches target_bytes."""
    header, *rows = SOURCE.read_text().splitlines()
    bodies = [row.split(",", 1)[1] for row in rows]
    written = 0
    count = 0
    with path.open("w") as out:
        out.write(header + "\n")
        while written < target_bytes:
            block = "".join(f"{count + i},{body}\n" for i, body in enumerate(bodies))
            out.write(block)
            written += len(block)
            count += len(bodies)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, LocalCluster(Path(workdir), [GUEST]) as cluster:
        source = Path(workdir) / "big.csv"
        rows = make_csv(source, args.mib * MIB)
        size = source.stat().st_size
        node_pid = cluster.parties[GUEST].process.pid  # type: ignore[union-attr]
        with cluster.client(GUEST, timeout_s=3600) as client:
            header = client_pb2.UploadTableHeader(
                namespace="bench", name="big", head=True, delimiter=",", match_id_name="id", label_name="y"
            )
            started = time.perf_counter()
            client.upload_table(header, source)
            upload_s = time.perf_counter() - started
            print(f"uploaded {size / MIB:.0f} MiB ({rows} rows) in {upload_s:.1f}s")
            before = peak_rss_mib(node_pid)
            client_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            target = Path(workdir) / "downloaded.csv"
            started = time.perf_counter()
            request = outputs_pb2.DownloadTableRequest(namespace="bench", name="big")
            write_single_file(client.stream("DownloadTable", request), target)
            seconds = time.perf_counter() - started
        same = target.stat().st_size == size
        client_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"downloaded {size / MIB:.0f} MiB in {seconds:.2f}s = {size / MIB / seconds:.1f} MiB/s"
            f" (same size: {same})"
        )
        print(f"node peak RSS: {before:.0f} MiB before the download, {peak_rss_mib(node_pid):.0f} MiB after")
        print(f"client peak RSS: {client_before:.0f} MiB before, {client_after:.0f} MiB after")
    print(machine_line())


if __name__ == "__main__":
    main()
