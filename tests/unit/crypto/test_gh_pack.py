"""Encrypted SecureBoost histograms: decrypted sums equal the plaintext fixed-point sums exactly."""

from __future__ import annotations

import numpy as np
import pytest

from fate_grpc.crypto import gh_pack, paillier
from fate_grpc.crypto.gh_pack import GHCodec
from fate_grpc.ml.secureboost import histogram as hist

ROWS, FEATURES, N_BINS, NODES = 120, 3, 5, 2


@pytest.fixture(scope="module")
def problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    p = rng.uniform(size=ROWS)
    y = rng.integers(0, 2, size=ROWS)
    bins = rng.integers(0, N_BINS, size=(ROWS, FEATURES))
    node = rng.integers(-1, NODES, size=ROWS)
    return p - y, p * (1 - p), bins, node


def test_fate_shift_bits_for_breast_and_default_credit_sizes() -> None:
    assert GHCodec.for_gradients(np.zeros(1), 569, regression=False).shift_bit == 63
    assert GHCodec.for_gradients(np.zeros(1), 30000, regression=False).shift_bit == 68


def test_regression_offset_makes_every_gradient_non_negative() -> None:
    g = np.array([-6.0, 1.0, 4.0])

    codec = GHCodec.for_gradients(g, 3, regression=True)

    assert codec.g_offset == 6.0
    big_g, _ = codec.integers(g, np.full(3, 2.0))
    assert min(big_g) == 0


@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.parametrize("split_info_pack", [True, False])
def test_decrypted_histogram_equals_the_plaintext_one_exactly(
    keypair: tuple[paillier.PublicKey, paillier.PrivateKey], problem, packed: bool, split_info_pack: bool
) -> None:
    public_key, private_key = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False, packed=packed)

    encrypted = gh_pack.encrypt_gh(public_key, codec, g, h)
    sent = [
        gh_pack.pack_for_guest(
            gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS), codec, pack=split_info_pack
        )
        for vector in encrypted
    ]
    big_g, big_h = gh_pack.decrypt_histogram(private_key, sent, codec)

    assert (big_g, big_h) == gh_pack.integer_histogram(codec, g, h, bins, node, NODES, N_BINS)
    plain = hist.histogram(bins, g, h, node, NODES, N_BINS)
    g_sums, h_sums = codec.to_floats(big_g, big_h, plain.count.reshape(-1))
    np.testing.assert_allclose(g_sums, plain.g.reshape(-1), atol=1e-9)
    np.testing.assert_allclose(h_sums, plain.h.reshape(-1), atol=1e-9)


def test_packing_sends_several_bins_per_ciphertext(keypair, problem) -> None:
    public_key, _ = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False)

    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)
    packed, layout = gh_pack.pack_for_guest(
        gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS), codec
    )

    assert layout is not None and layout.slots == 1023 // codec.slot_bits
    assert len(packed) == -(-NODES * FEATURES * N_BINS // layout.slots)


def test_block_partials_cumulative_sums_and_subtraction_under_encryption(keypair, problem) -> None:
    public_key, private_key = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False)
    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)
    parent_index = np.where(node >= 0, 0, -1)
    child_index = np.where(node == 0, 0, -1)
    sibling_index = np.where(node == 1, 0, -1)

    half = ROWS // 2
    first = gh_pack.encrypted_histogram(
        vector.take(np.arange(half)), bins[:half], parent_index[:half], 1, N_BINS
    )
    rest = gh_pack.encrypted_histogram(
        vector.take(np.arange(half, ROWS)), bins[half:], parent_index[half:], 1, N_BINS
    )
    parent = first + rest
    child = gh_pack.encrypted_histogram(vector, bins, child_index, 1, N_BINS)
    sibling = gh_pack.cumulative(gh_pack.subtract(parent, child), N_BINS)

    decrypted = gh_pack.decrypt_histogram(private_key, [(sibling, None)], codec)
    expected_g, expected_h = gh_pack.integer_histogram(codec, g, h, bins, sibling_index, 1, N_BINS)
    running = np.cumsum(np.asarray(expected_g, dtype=object).reshape(FEATURES, N_BINS), axis=1)
    assert decrypted[0] == running.reshape(-1).tolist()
    running_h = np.cumsum(np.asarray(expected_h, dtype=object).reshape(FEATURES, N_BINS), axis=1)
    assert decrypted[1] == running_h.reshape(-1).tolist()


def test_parallel_histogram_equals_the_serial_one(keypair, problem) -> None:
    public_key, private_key = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False)
    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)
    executor = paillier.make_executor(2, kind="thread")

    try:
        chunks = gh_pack._parallel_group_sums(  # the process-pool path, on threads to stay fast here
            vector.take(np.flatnonzero(node >= 0)),
            (node[node >= 0, None] * N_BINS + bins[node >= 0]),
            NODES * N_BINS,
            executor,
        )
    finally:
        executor.shutdown()
    serial = vector.take(np.flatnonzero(node >= 0)).sum_by_groups(
        node[node >= 0, None] * N_BINS + bins[node >= 0], NODES * N_BINS, rerandomize=False
    )
    assert private_key.decrypt_ints(chunks) == private_key.decrypt_ints(serial.ciphertexts)


def test_histogram_on_worker_processes_is_bit_identical(keypair, problem, monkeypatch) -> None:
    public_key, _ = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False)
    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)
    serial = gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS)
    monkeypatch.setattr(gh_pack, "PARALLEL_MIN_CELLS", 0)
    executor = paillier.make_executor(2)  # 3 features over 2 workers: blocks of unequal size

    try:
        parallel = gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS, executor=executor)
    finally:
        executor.shutdown()

    assert parallel.ciphertexts == serial.ciphertexts


def test_parallel_packing_decrypts_to_the_same_sums(keypair, problem, monkeypatch) -> None:
    public_key, private_key = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False)
    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)
    histogram = gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS)
    monkeypatch.setattr(gh_pack, "PARALLEL_MIN_PACKED", 1)
    executor = paillier.make_executor(2, kind="thread")

    try:
        parallel = gh_pack.pack_for_guest(histogram, codec, executor=executor)
    finally:
        executor.shutdown()

    serial = gh_pack.pack_for_guest(histogram, codec)
    assert len(parallel[0]) == len(serial[0])
    assert gh_pack.decrypt_histogram(private_key, [parallel], codec) == gh_pack.decrypt_histogram(
        private_key, [serial], codec
    )
