"""Okamoto-Uchiyama (FATE's he_param kind "ou") and SecureBoost histograms under it."""

from __future__ import annotations

import numpy as np
import pytest

from fate_grpc.crypto import gh_pack, ou, paillier
from fate_grpc.crypto.gh_pack import GHCodec

ROWS, FEATURES, N_BINS, NODES = 90, 3, 4, 2


@pytest.fixture(scope="module")
def ou_keys() -> tuple[ou.OUPublicKey, ou.OUPrivateKey]:
    return ou.generate_keypair(1024)


def test_round_trip_sums_and_serialisation(ou_keys) -> None:
    public_key, private_key = ou_keys
    values = [0, 5, 2**200, 7]

    vector = ou.encrypt(public_key, values)
    total = vector.sum(rerandomize=True)
    parsed = paillier.EncryptedVector.from_bytes(public_key, vector.to_bytes())

    assert ou.decrypt_residues(private_key, parsed) == values
    assert ou.decrypt_residues(private_key, total) == [sum(values)]
    assert ou.decrypt_residues(private_key, vector - vector.rerandomize()) == [0, 0, 0, 0]
    assert ou.OUPublicKey.from_bytes(public_key.to_bytes()) == public_key
    assert public_key.key_bits == 1024 and vector.ciphertexts != ou.encrypt(public_key, values).ciphertexts


def test_plaintexts_beyond_p_or_negative_are_refused(ou_keys) -> None:
    public_key, _ = ou_keys

    with pytest.raises(ValueError, match="OU plaintexts"):
        ou.encrypt(public_key, [-1])
    with pytest.raises(ValueError, match="OU plaintexts"):
        ou.encrypt(public_key, [1 << public_key.plaintext_bits()])


def test_a_paillier_key_is_not_an_ou_key(ou_keys) -> None:
    with pytest.raises(ValueError, match="not an OU public key"):
        ou.OUPublicKey.from_bytes(paillier.generate_keypair(1024)[0].to_bytes())


def test_decrypted_ou_histogram_equals_the_plaintext_one_exactly(ou_keys) -> None:
    public_key, private_key = ou_keys
    rng = np.random.default_rng(4)
    p = rng.uniform(size=ROWS)
    g, h = p - rng.integers(0, 2, size=ROWS), p * (1 - p)
    bins, node = rng.integers(0, N_BINS, size=(ROWS, FEATURES)), rng.integers(-1, NODES, size=ROWS)
    codec = GHCodec.for_gradients(g, ROWS, regression=False)

    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)
    summed = gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS)
    executor = paillier.make_executor(2, kind="thread")
    try:
        parallel = gh_pack._parallel_group_sums(  # the worker path, on threads to stay fast here
            vector.take(np.flatnonzero(node >= 0)), node[node >= 0, None] * N_BINS + bins[node >= 0],
            NODES * N_BINS, executor,
        )  # fmt: skip
    finally:
        executor.shutdown()
    sent, layout = gh_pack.pack_for_guest(summed, codec, pack=False)

    expected = gh_pack.integer_histogram(codec, g, h, bins, node, NODES, N_BINS)
    assert layout is None
    assert gh_pack.decrypt_histogram(private_key, [(sent, None)], codec) == expected
    serial = vector.take(np.flatnonzero(node >= 0)).sum_by_groups(
        node[node >= 0, None] * N_BINS + bins[node >= 0], NODES * N_BINS, rerandomize=False
    )
    assert private_key.decrypt_ints(parallel) == private_key.decrypt_ints(serial.ciphertexts)
