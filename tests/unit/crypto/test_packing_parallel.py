"""Plaintext and ciphertext packing, fixed-point encoding edge cases, obfuscator pools and executors."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor

import numpy as np
import pytest

from fate_grpc.crypto import fixedpoint, paillier, paillier_pool
from fate_grpc.crypto.paillier import PrivateKey, PublicKey

RNG = np.random.default_rng(7)


def test_plaintext_packing_roundtrip(public_key: PublicKey, private_key: PrivateKey) -> None:
    values = RNG.integers(0, 2**16, size=130)
    vec, layout = paillier.encrypt_packed(public_key, values, slot_bits=20)
    assert layout.slots == 1023 // 20
    assert len(vec) == -(-130 // layout.slots)
    assert np.array_equal(paillier.decrypt_packed(private_key, vec, layout), values)
    # Packed vectors add slot-wise while the 4 spare bits per slot absorb the carries.
    doubled = vec + vec
    assert np.array_equal(paillier.decrypt_packed(private_key, doubled, layout), 2 * values)


def test_packing_refuses_overflow_and_negatives(public_key: PublicKey) -> None:
    with pytest.raises(OverflowError):
        paillier.encrypt_packed(public_key, np.array([0, 2**8]), slot_bits=8)
    with pytest.raises(ValueError):
        paillier.encrypt_packed(public_key, np.array([1, -1]), slot_bits=8)
    with pytest.raises(ValueError):
        paillier.encrypt_packed(public_key, np.array([0.5]), slot_bits=8)
    with pytest.raises(ValueError):
        paillier.encrypt_packed(public_key, np.array([1]), slot_bits=1024)


def test_ciphertext_packing_of_counts(public_key: PublicKey, private_key: PrivateKey) -> None:
    labels = RNG.integers(0, 2, size=2000)
    bins = RNG.integers(0, 10, size=(2000, 10))
    sums = paillier.encrypt(public_key, labels).sum_by_groups(bins, 10)
    packed, layout = paillier.pack_ciphertexts(sums, slot_bits=16)
    assert layout.slots == 63 and len(packed) == 2  # 100 sums in 2 ciphertexts
    expected = np.stack([np.bincount(bins[:, f], weights=labels, minlength=10) for f in range(10)])
    unpacked = paillier.decrypt_packed(private_key, packed, layout)
    assert unpacked.dtype == np.int64
    assert np.array_equal(unpacked.reshape(10, 10), expected.astype(np.int64))
    assert len(packed.to_bytes()) < len(sums.to_bytes()) // 40


def test_ciphertext_packing_of_negative_floats_with_offset(
    public_key: PublicKey, private_key: PrivateKey
) -> None:
    gradients = RNG.uniform(-1, 1, size=25)
    vec = paillier.encrypt(public_key, gradients)
    # Each value + 1 lies in [0, 2), i.e. below 2^(1 + 32) at scale 32.
    packed, layout = paillier.pack_ciphertexts(vec, slot_bits=34, offset=1.0)
    assert layout.offset == 2**32 and layout.scale == 32
    assert len(packed) == 1
    np.testing.assert_allclose(paillier.decrypt_packed(private_key, packed, layout), gradients, atol=1e-9)


def test_ciphertext_packing_detects_negative_top_slot(public_key: PublicKey, private_key: PrivateKey) -> None:
    vec = paillier.encrypt(public_key, np.array([3, -2]))
    packed, layout = paillier.pack_ciphertexts(vec, slot_bits=8)
    with pytest.raises(OverflowError):
        paillier.decrypt_packed(private_key, packed, layout)
    mismatched = fixedpoint.PackingLayout(count=999, slot_bits=8, slots=layout.slots, scale=0, offset=0)
    with pytest.raises(ValueError):
        paillier.decrypt_packed(private_key, packed, mismatched)


def test_fixed_point_encoding_edges() -> None:
    n = 2**1024 + 643  # any odd modulus works for encoding
    huge = np.array([1e290, -1e290])  # beyond int64 and beyond float64 once scaled by 2^32
    encoded = fixedpoint.encode(huge, n, 32)
    assert encoded[0] == int(1e290) << 32 and encoded[1] == n - (int(1e290) << 32)
    with pytest.raises(OverflowError):
        fixedpoint.encode(np.array([1e300]), n, 32)
    assert np.array_equal(fixedpoint.decode(encoded, n, 32), huge)
    assert fixedpoint.encode(np.array([0.5, -0.5, 1.5]), n, 0) == [0, 0, 2]  # round half to even
    assert fixedpoint.encode_scalar(-0.25, 4) == -4
    big_ints = fixedpoint.decode([2**70, n - 2**70], n, 0)
    assert big_ints.dtype == object and big_ints.tolist() == [2**70, -(2**70)]
    with pytest.raises(OverflowError):
        fixedpoint.decode([n // 2], n, 0)
    with pytest.raises(ValueError):
        fixedpoint.encode(np.array(["a"]), n, 0)
    assert fixedpoint.unpack(fixedpoint.pack(np.array([1, 2, 3]), 4, 2), 4, 2, 3) == [1, 2, 3]


def test_obfuscator_pool(
    public_key: PublicKey, private_key: PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = paillier.ObfuscatorPool(int(public_key.n))
    pool.fill(50)
    assert len(pool) == 50
    values = RNG.normal(size=30)
    vec = paillier.encrypt(public_key, values, pool=pool)
    assert len(pool) == 20
    np.testing.assert_allclose(paillier.decrypt(private_key, vec), values, atol=1e-9)
    # Asking for more than the pool holds computes the rest; nothing is handed out twice.
    taken = pool.take(40)
    assert len(taken) == 40 and len(set(taken)) == 40 and len(pool) == 0
    pool.fill(5)
    monkeypatch.setattr(paillier_pool.os, "getpid", lambda: -1)  # as in a forked child
    assert len(pool) == 0
    other_key, _ = paillier.generate_keypair(1024)
    with pytest.raises(ValueError):
        paillier.encrypt(other_key, values, pool=pool)


@pytest.fixture(scope="module")
def spawn_executor() -> Iterator[Executor]:
    executor = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"))
    with executor:
        yield executor


@pytest.mark.parametrize("kind", ["spawn", "thread"])
def test_executor_paths_match_in_process(
    kind: str, spawn_executor: Executor, public_key: PublicKey, private_key: PrivateKey
) -> None:
    executor = spawn_executor if kind == "spawn" else paillier.make_executor(2, "thread")
    values = RNG.normal(size=1200)
    vec = paillier.encrypt(public_key, values, executor=executor, parallel_min_items=100)
    assert len(set(vec.ciphertexts)) == len(values)  # workers never share obfuscators
    in_process = paillier.decrypt(private_key, vec)
    np.testing.assert_allclose(in_process, values, atol=1e-9)
    pooled = paillier.decrypt(private_key, vec, executor=executor, parallel_min_items=100)
    assert np.array_equal(pooled, in_process)
    pool = paillier.ObfuscatorPool(int(public_key.n))
    pool.fill(1200, executor=executor)
    assert len(set(pool.take(1200))) == 1200
    if kind == "thread":
        executor.shutdown()
