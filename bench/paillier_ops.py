"""Throughput of the Paillier layer (fate_grpc.crypto.paillier) against raw gmpy2 loops, on this machine.

For each key size: key generation; encryption (textbook r^n powmod, fixed-base obfuscators, a precomputed
obfuscator pool, worker processes and threads); decryption (textbook vs CRT, processes, threads); ct+ct;
ct*scalar; the binning group-by sum (30,000 rows into 10 groups, and 10 features at once); ciphertext packing.
The "raw" column runs the same arithmetic as bare gmpy2 loops (``powmod(r, n, n2)``, ``(1 + m n) rn % n2``,
``c1 c2 % n2``, ...) in the same run, so layer/raw is the layer's cost relative to bare gmpy2 (above 1 means
faster). It also checks whether gmpy2 releases the GIL in powmod, by timing the same work on 1 and 2 threads.
Each figure is the best of ``--repeat`` runs; pool start-up is excluded (the pools are warmed first).

Run from the repository root: ``python bench/paillier_ops.py [--bits 1024 2048] [--n 2000] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from pathlib import Path

import gmpy2
import numpy as np
from gmpy2 import mpz

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fate_grpc.crypto import paillier, paillier_pool
from fate_grpc.crypto.paillier import PrivateKey, PublicKey

ROWS, GROUPS, FEATURES = 30_000, 10, 10


def best_seconds(action: Callable[[], object], repeat: int) -> float:
    elapsed = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        action()
        elapsed = min(elapsed, time.perf_counter() - start)
    return elapsed


def row(label: str, count: int, seconds: float, raw_seconds: float | None = None) -> None:
    rate = count / seconds
    line = f"{label:<44} {count:>7} {seconds:9.3f} s {rate:>12,.0f}/s"
    if raw_seconds is not None:
        raw_rate = count / raw_seconds
        line += f" {raw_rate:>12,.0f}/s  x{rate / raw_rate:5.2f}"
    print(line)


def available_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def raw_encrypt(n: mpz, plaintexts: list[int]) -> list[mpz]:
    n2 = n * n
    return [
        (1 + m * n) * gmpy2.powmod(mpz(secrets.randbelow(int(n) - 1) + 1), n, n2) % n2 for m in plaintexts
    ]


def raw_decrypt(private_key: PrivateKey, ciphertexts: list[mpz]) -> list[mpz]:
    n = private_key.public_key.n
    n2 = n * n
    lam = gmpy2.lcm(mpz(private_key.p) - 1, mpz(private_key.q) - 1)
    mu = gmpy2.invert((gmpy2.powmod(n + 1, lam, n2) - 1) // n, n)
    return [(gmpy2.powmod(c, lam, n2) - 1) // n * mu % n for c in ciphertexts]


def raw_group_sum(ciphertexts: list[mpz], groups: list[int], n2: mpz) -> list[mpz]:
    sums = [mpz(1)] * GROUPS
    for c, g in zip(ciphertexts, groups, strict=True):
        sums[g] = sums[g] * c % n2
    return sums


def gil_check(n: mpz, count: int, repeat: int) -> None:
    """Time ``count`` full powmods on 1 thread and split over 2, with and without allow_release_gil."""
    n2 = n * n
    bases = [mpz(secrets.randbits(int(n.bit_length()) - 1)) for _ in range(count)]

    def work(chunk: list[mpz], release: bool) -> None:
        with gmpy2.context(gmpy2.get_context(), allow_release_gil=release):
            for b in chunk:
                gmpy2.powmod(b, n, n2)

    halves = [bases[: count // 2], bases[count // 2 :]]
    with ThreadPoolExecutor(2) as threads:

        def on_two_threads(release: bool) -> None:
            list(threads.map(work, halves, [release, release]))

        for release in (False, True):
            one = best_seconds(partial(work, bases, release), repeat)
            two = best_seconds(partial(on_two_threads, release), repeat)
            print(f"GIL check: powmod on 2 threads vs 1, allow_release_gil={release}: x{one / two:.2f}")


def bench_key(bits: int, count: int, slow_count: int, repeat: int, executors: dict[str, Executor]) -> None:
    # Prime search time is random: report the median of several key generations.
    keygen = statistics.median(best_seconds(lambda: paillier.generate_keypair(bits), 1) for _ in range(5))
    public_key, private_key = paillier.generate_keypair(bits)
    n, n2 = public_key.n, public_key.n2
    table_s = best_seconds(lambda: paillier_pool.FixedBaseObfuscator(int(n)), 1)
    paillier_pool.fixed_base(int(n))
    print(f"\n== {bits}-bit key: keygen {keygen:.3f} s (median of 5); fixed-base table {table_s:.3f} s")
    print(f"{'operation':<44} {'count':>7} {'time':>11} {'layer':>14} {'raw gmpy2':>14}  layer/raw")
    for executor in executors.values():  # warm the workers: imports and their own fixed-base tables
        paillier.encrypt(public_key, np.zeros(64), executor=executor, parallel_min_items=1)

    floats = np.random.default_rng(1).normal(size=count)
    residues = [int(m) for m in paillier.fixedpoint.encode(floats, int(n), 32)]
    raw_enc = best_seconds(lambda: raw_encrypt(n, residues[:slow_count]), repeat)
    full = best_seconds(
        lambda: paillier_pool.encrypt_ints(
            n, residues[:slow_count], paillier_pool.full_obfuscators(int(n), slow_count)
        ),
        repeat,
    )
    row("encrypt, textbook r^n powmod", slow_count, full, raw_enc)
    fixed = best_seconds(lambda: paillier.encrypt(public_key, floats), repeat)
    row("encrypt, fixed-base obfuscators (default)", count, fixed, raw_enc * count / slow_count)
    pool = paillier.ObfuscatorPool(int(n))
    fill = best_seconds(lambda: pool.fill(count), 1)
    online = best_seconds(lambda: paillier.encrypt(public_key, floats, pool=pool), 1)
    row("  precomputed pool: fill (offline)", count, fill)
    row("  precomputed pool: encrypt (online)", count, online, raw_enc * count / slow_count)
    for name, executor in executors.items():
        took = best_seconds(partial(paillier.encrypt, public_key, floats, executor=executor), repeat)
        row(f"encrypt, fixed-base, {name}", count, took, raw_enc * count / slow_count)

    vec = paillier.encrypt(public_key, floats)
    raw_dec = best_seconds(lambda: raw_decrypt(private_key, vec.ciphertexts[:slow_count]), repeat)
    naive = best_seconds(
        lambda: [private_key.decrypt_int_naive(c) for c in vec.ciphertexts[:slow_count]], repeat
    )
    row("decrypt, textbook (c^lambda mod n^2)", slow_count, naive, raw_dec)
    crt = best_seconds(lambda: paillier.decrypt(private_key, vec), repeat)
    row("decrypt, CRT (default, incl. decoding)", count, crt, raw_dec * count / slow_count)
    for name, executor in executors.items():
        took = best_seconds(partial(paillier.decrypt, private_key, vec, executor=executor), repeat)
        row(f"decrypt, CRT, {name}", count, took, raw_dec * count / slow_count)

    other = paillier.encrypt(public_key, floats)
    cs, ds = vec.ciphertexts, other.ciphertexts
    raw_add = best_seconds(lambda: [a * b % n2 for a, b in zip(cs, ds, strict=True)], repeat)
    row("ct + ct", count, best_seconds(lambda: vec + other, repeat), raw_add)
    factor = paillier.fixedpoint.encode_scalar(0.731, 32)
    raw_mul = best_seconds(lambda: [gmpy2.powmod(c, factor, n2) for c in cs], repeat)
    row("ct * float scalar (33-bit exponent)", count, best_seconds(lambda: vec * 0.731, repeat), raw_mul)
    raw_mul_int = best_seconds(lambda: [gmpy2.powmod(c, 3, n2) for c in cs], repeat)
    row("ct * int scalar (3)", count, best_seconds(lambda: vec * 3, repeat), raw_mul_int)
    bench_groups(public_key, private_key, count, repeat)


def bench_groups(public_key: PublicKey, private_key: PrivateKey, count: int, repeat: int) -> None:
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, size=count)
    encrypted = paillier.encrypt(public_key, labels)
    # 30,000 rows by repeating the encrypted labels: the sum's cost does not depend on the values.
    rows = [encrypted.ciphertexts[i % count] for i in range(ROWS)]
    row_labels = labels[np.arange(ROWS) % count]
    vec = paillier.EncryptedVector(public_key, rows, 0)
    groups = rng.integers(0, GROUPS, size=(ROWS, FEATURES))
    first = groups[:, 0]
    raw = best_seconds(lambda: raw_group_sum(rows, first.tolist(), public_key.n2), repeat)
    plain = best_seconds(lambda: vec.sum_by_group(first, GROUPS, rerandomize=False), repeat)
    row(f"group-by sum {ROWS} rows -> {GROUPS} groups", ROWS, plain, raw)
    rerandomised = best_seconds(lambda: vec.sum_by_group(first, GROUPS), repeat)
    row("  same, outputs re-randomised (default)", ROWS, rerandomised, raw)
    sums = vec.sum_by_groups(groups, GROUPS)
    took = best_seconds(lambda: vec.sum_by_groups(groups, GROUPS), repeat)
    row(f"group-by sum, {FEATURES} features (rows x features)", ROWS * FEATURES, took, raw * FEATURES)
    expected = np.stack(
        [np.bincount(groups[:, f], weights=row_labels, minlength=GROUPS) for f in range(FEATURES)]
    )
    assert np.array_equal(paillier.decrypt(private_key, sums).reshape(FEATURES, GROUPS), expected)
    packed, layout = paillier.pack_ciphertexts(sums, slot_bits=16)
    pack_s = best_seconds(lambda: paillier.pack_ciphertexts(sums, slot_bits=16), repeat)
    row(f"pack {len(sums)} sums -> {len(packed)} ct (16-bit slots)", len(sums), pack_s)
    unpacked_s = best_seconds(lambda: paillier.decrypt(private_key, sums), repeat)
    packed_s = best_seconds(lambda: paillier.decrypt_packed(private_key, packed, layout), repeat)
    row(f"  decrypt {len(sums)} sums, unpacked", len(sums), unpacked_s)
    row(f"  decrypt {len(sums)} sums, packed", len(sums), packed_s)
    print(f"  bytes sent back: {len(sums.to_bytes()):,} unpacked, {len(packed.to_bytes()):,} packed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--bits", type=int, nargs="+", default=[1024, 2048], help="key sizes (default 1024 2048)"
    )
    parser.add_argument("--n", type=int, default=2000, help="values per vector (default 2000)")
    parser.add_argument("--slow-n", type=int, default=300, help="values for the textbook paths (default 300)")
    parser.add_argument("--workers", type=int, default=None, help="pool size (default: available CPUs)")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs per figure (default 1)")
    args = parser.parse_args(argv)
    workers = args.workers or available_cpus()
    slow = min(args.slow_n, args.n)
    versions = f"gmpy2 {gmpy2.version()}, {gmpy2.mp_version()}"
    print(f"CPUs available: {available_cpus()}; pools of {workers}; {versions}")
    print(f"load average before the run: {os.getloadavg()[0]:.2f} (other load skews the pool figures)")
    gil_check(paillier.generate_keypair(1024)[0].n, 400, max(args.repeat, 3))
    executors: dict[str, Executor] = {
        f"{workers} processes": paillier.make_executor(workers, "process"),
        f"{workers} threads": paillier.make_executor(workers, "thread"),
    }
    try:
        for bits in args.bits:
            bench_key(bits, args.n, slow, args.repeat, executors)
    finally:
        for executor in executors.values():
            executor.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
