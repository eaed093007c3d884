"""Cost of mutual TLS: job wall time and transfer throughput, plaintext vs mTLS, measured in one run.

For each mode it starts a guest (9999) and a host (10000) node as separate processes on loopback, runs
the reader -> psi job N times (median submit-to-success) and streams a 256 MiB object node to node
three times (median MiB/s), then prints both figures and the mTLS/plaintext ratios.

Usage: python bench/tls_overhead.py [--runs 5] [--mib 256]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import MIB, create_waiting_job, machine_line, median, prepare_psi, push_object, run_psi_job

from fate_grpc.cli.local_cluster import LocalCluster


def measure(tls: bool, runs: int, mib: int) -> tuple[float, float]:
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalCluster(Path(workdir), ["9999", "10000"], tls=tls) as cluster,
    ):
        prepare_psi(cluster)
        walls = [run_psi_job(cluster).wall_s for _ in range(runs)]
        create_waiting_job(cluster, "bench_tls")
        rates = []
        for attempt in range(3):
            seconds, _ = push_object(cluster, "bench_tls", f"bench.{attempt}", mib * MIB)
            rates.append(mib / seconds)
    return median(walls), median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    plain_wall, plain_rate = measure(False, args.runs, args.mib)
    tls_wall, tls_rate = measure(True, args.runs, args.mib)
    print(f"plaintext: job median {plain_wall:.3f}s, transfer median {plain_rate:.1f} MiB/s")
    print(f"mTLS:      job median {tls_wall:.3f}s, transfer median {tls_rate:.1f} MiB/s")
    job_ratio, rate_ratio = tls_wall / plain_wall, tls_rate / plain_rate
    print(f"ratio mTLS/plaintext: job wall time x{job_ratio:.2f}, throughput x{rate_ratio:.2f}")
    print(machine_line())


if __name__ == "__main__":
    main()
