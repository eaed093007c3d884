"""Node-to-node object transfer: throughput and the receiving node's peak memory.

Starts a guest (9999) and a host (10000) node as separate processes, creates a reader -> psi job at the
host as its scheduler would (so the host expects objects for it), then streams objects of growing size
(1 MiB chunks) into the host's TransferService as the guest's node would, and prints MiB/s and the
host node's peak resident memory (VmHWM) after each. The host spills objects above its memory budget
to disk, so its peak memory should stay flat.

Usage: python bench/transfer.py [--max-mib 1024] [--tls]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import HOST, MIB, create_waiting_job, machine_line, peak_rss_mib, prepare_psi, push_object

from fate_grpc.cli.local_cluster import LocalCluster


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-mib", type=int, default=1024)
    parser.add_argument("--tls", action="store_true", help="provision certificates and use mutual TLS")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalCluster(Path(workdir), ["9999", "10000"], tls=args.tls) as cluster,
    ):
        prepare_psi(cluster)
        create_waiting_job(cluster, "bench_transfer")
        host_pid = cluster.parties[HOST].process.pid  # type: ignore[union-attr]
        print(f"host node peak RSS before: {peak_rss_mib(host_pid):.0f} MiB")
        size_mib = 16
        while size_mib <= args.max_mib:
            seconds, stored = push_object(cluster, "bench_transfer", f"bench.{size_mib}", size_mib * MIB)
            print(
                f"{size_mib:>5} MiB in {seconds:6.2f}s = {size_mib / seconds:7.1f} MiB/s (stored={stored});"
                f" host node peak RSS {peak_rss_mib(host_pid):.0f} MiB"
            )
            size_mib *= 4
    print(machine_line())


if __name__ == "__main__":
    main()
