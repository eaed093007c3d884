"""Throughput of the ECDH-PSI primitives on this machine: ids/s for hash+blind and re-blind.

Compares the calling process alone (workers=1) with the process pool (one worker per available CPU;
the pool's start-up cost is included, as a psi task pays it on every call). With ``--repeat R`` each figure is
the best of R runs, which filters out noise from other load on the machine.

Run from the repository root: ``python bench/psi_crypto.py [--ids N] [--workers W] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fate_grpc.crypto import ecdh


def rate(label: str, count: int, action: Callable[[], object], repeat: int = 1) -> float:
    elapsed = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        action()
        elapsed = min(elapsed, time.perf_counter() - start)
    ids_per_s = count / elapsed
    print(f"{label:<28} {count:>8} ids  {elapsed:7.2f} s  {ids_per_s:>10,.0f} ids/s")
    return ids_per_s


def available_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=20_000, help="number of ids (default 20000)")
    parser.add_argument("--workers", type=int, default=None, help="pool size (default: available CPUs)")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs per figure (default 1)")
    args = parser.parse_args(argv)
    workers = args.workers or available_cpus()
    ids = [f"id-{index:09d}" for index in range(args.ids)]
    secret = ecdh.new_secret()
    points = ecdh.hash_and_blind(ids, secret, workers=1)
    print(
        f"CPUs available: {available_cpus()}; pool of {workers}; pool used from {ecdh.POOL_MIN_ITEMS} items"
    )

    single_hash = rate(
        "hash+blind, single process",
        len(ids),
        lambda: ecdh.hash_and_blind(ids, secret, workers=1),
        args.repeat,
    )
    pool_hash = rate(
        f"hash+blind, pool of {workers}",
        len(ids),
        lambda: ecdh.hash_and_blind(ids, secret, workers=workers),
        args.repeat,
    )
    single_reblind = rate(
        "re-blind, single process", len(ids), lambda: ecdh.reblind(points, secret, workers=1), args.repeat
    )
    pool_reblind = rate(
        f"re-blind, pool of {workers}",
        len(ids),
        lambda: ecdh.reblind(points, secret, workers=workers),
        args.repeat,
    )
    print(
        f"speed-up: hash+blind x{pool_hash / single_hash:.2f}, re-blind x{pool_reblind / single_reblind:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
