"""The HEU histogram kernel against the gmpy2 loop: same key, same rows, the same ciphertexts bit for bit, and
decrypted sums equal to the plaintext fixed-point sums; the gmpy2 path whenever HEU cannot serve. And the
host's packing on threads (no HEU needed) against packing in one thread."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from fate_grpc.crypto import gh_pack, heu_kernel, ou, paillier
from fate_grpc.crypto.gh_pack import GHCodec

requires_heu = pytest.mark.skipif(heu_kernel.hnp is None, reason="sf-heu is not installed on this platform")
ROWS, FEATURES, N_BINS, NODES = 400, 4, 8, 4


@pytest.fixture(autouse=True)
def fresh_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test decides for itself whether HEU is on; key views are rebuilt per test."""
    monkeypatch.delenv(heu_kernel.KERNEL_ENV, raising=False)
    heu_kernel._keys.clear()
    yield
    heu_kernel._keys.clear()


@pytest.fixture(scope="module")
def ou_keypair() -> tuple[ou.OUPublicKey, ou.OUPrivateKey]:
    return ou.generate_keypair(1024)


@pytest.fixture(scope="module")
def problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """g/h of a binary objective, bins with an always-empty bin, a node with no rows and left-out rows."""
    rng = np.random.default_rng(5)
    p = rng.uniform(size=ROWS)
    y = rng.integers(0, 2, size=ROWS)
    bins = rng.integers(0, N_BINS, size=(ROWS, FEATURES))
    bins[bins == 3] = 4  # bin 3 stays empty in every feature
    node = rng.integers(-1, NODES, size=ROWS)
    node[node == 2] = -1  # node 2 has no rows
    return p - y, p * (1 - p), bins, node


def gmpy2_histogram(
    monkeypatch: pytest.MonkeyPatch, vector: paillier.EncryptedVector, bins: np.ndarray, node: np.ndarray
) -> list:
    with monkeypatch.context() as patched:
        patched.setenv(heu_kernel.KERNEL_ENV, "gmpy2")
        assert gh_pack.histogram_kernel(vector.public_key, N_BINS) == "gmpy2"
        return gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS).ciphertexts


@requires_heu
def test_paillier_histogram_is_bit_identical_to_gmpy2_and_decrypts_to_the_plaintext_sums(
    monkeypatch: pytest.MonkeyPatch,
    keypair: tuple[paillier.PublicKey, paillier.PrivateKey],
    problem: tuple[np.ndarray, ...],
) -> None:
    public_key, private_key = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False)
    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)

    assert gh_pack.histogram_kernel(public_key, N_BINS) == "heu"
    by_heu = gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS)

    assert by_heu.ciphertexts == gmpy2_histogram(monkeypatch, vector, bins, node)
    decrypted = gh_pack.decrypt_histogram(private_key, [(by_heu, None)], codec)
    assert decrypted == gh_pack.integer_histogram(codec, g, h, bins, node, NODES, N_BINS)


@requires_heu
def test_ou_histogram_is_bit_identical_to_gmpy2_and_decrypts_to_the_plaintext_sums(
    monkeypatch: pytest.MonkeyPatch,
    ou_keypair: tuple[ou.OUPublicKey, ou.OUPrivateKey],
    problem: tuple[np.ndarray, ...],
) -> None:
    public_key, private_key = ou_keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False)
    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)

    assert gh_pack.histogram_kernel(public_key, N_BINS) == "heu"
    by_heu = gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS)

    assert by_heu.ciphertexts == gmpy2_histogram(monkeypatch, vector, bins, node)
    decrypted = gh_pack.decrypt_histogram(private_key, [(by_heu, None)], codec)
    assert decrypted == gh_pack.integer_histogram(codec, g, h, bins, node, NODES, N_BINS)


@requires_heu
def test_unpacked_g_and_h_channels_match_gmpy2(
    monkeypatch: pytest.MonkeyPatch,
    keypair: tuple[paillier.PublicKey, paillier.PrivateKey],
    problem: tuple[np.ndarray, ...],
) -> None:
    public_key, _ = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False, packed=False)

    for vector in gh_pack.encrypt_gh(public_key, codec, g, h):
        by_heu = gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS).ciphertexts
        assert by_heu == gmpy2_histogram(monkeypatch, vector, bins, node)


@requires_heu
def test_row_blocks_combine_into_the_whole_histogram(
    keypair: tuple[paillier.PublicKey, paillier.PrivateKey], problem: tuple[np.ndarray, ...]
) -> None:
    public_key, _ = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False)
    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)
    key = heu_kernel.HeuKey.of(public_key)
    assert key is not None
    half = ROWS // 2

    whole = heu_kernel.bucket_sums(key, vector.ciphertexts, bins, node, NODES, N_BINS)
    first = heu_kernel.bucket_sums(key, vector.ciphertexts[:half], bins[:half], node[:half], NODES, N_BINS)
    second = heu_kernel.bucket_sums(key, vector.ciphertexts[half:], bins[half:], node[half:], NODES, N_BINS)

    n2 = public_key.n2
    assert [a * b % n2 for a, b in zip(first, second, strict=True)] == whole


@requires_heu
def test_calls_split_over_rows_and_features_give_the_same_sums(
    monkeypatch: pytest.MonkeyPatch,
    keypair: tuple[paillier.PublicKey, paillier.PrivateKey],
    problem: tuple[np.ndarray, ...],
) -> None:
    public_key, _ = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False)
    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)
    key = heu_kernel.HeuKey.of(public_key)
    assert key is not None
    whole = heu_kernel.bucket_sums(key, vector.ciphertexts, bins, node, NODES, N_BINS)

    monkeypatch.setattr(heu_kernel, "CALL_CELLS", 150)  # blocks of 150 rows, one feature per call
    split = heu_kernel.bucket_sums(key, vector.ciphertexts, bins, node, NODES, N_BINS)

    assert split == whole


@requires_heu
def test_an_empty_block_sums_to_ones(keypair: tuple[paillier.PublicKey, paillier.PrivateKey]) -> None:
    key = heu_kernel.HeuKey.of(keypair[0])
    assert key is not None

    sums = heu_kernel.bucket_sums(
        key, [], np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64), 2, 4
    )

    assert sums == [1] * 24


@requires_heu
def test_more_bins_than_heu_takes_use_the_gmpy2_loop(
    keypair: tuple[paillier.PublicKey, paillier.PrivateKey],
) -> None:
    public_key, _ = keypair
    key = heu_kernel.HeuKey.of(public_key)
    assert key is not None
    bins = np.array([[200], [5]])

    assert gh_pack.histogram_kernel(public_key, 256) == "gmpy2"
    with pytest.raises(ValueError, match="at most 127 bins"):
        heu_kernel.bucket_sums(
            key, [public_key.encrypt_int(1)] * 2, bins, np.zeros(2, dtype=np.int64), 1, 256
        )


@requires_heu
def test_a_heu_build_that_fails_the_self_check_is_not_used(
    monkeypatch: pytest.MonkeyPatch, keypair: tuple[paillier.PublicKey, paillier.PrivateKey]
) -> None:
    monkeypatch.setattr(heu_kernel, "_LIMB_BITS", 64)  # the wrong Montgomery factor

    assert heu_kernel.HeuKey.of(keypair[0]) is None
    assert gh_pack.histogram_kernel(keypair[0], N_BINS) == "gmpy2"


@requires_heu
def test_a_malformed_heu_array_is_refused() -> None:
    with pytest.raises(ValueError, match="not a HEU array"):
        heu_kernel._parse_array(b"\x93\x01\x01\x01")
    with pytest.raises(ValueError, match="truncated"):
        heu_kernel._parse_array(b"\x94\x01\x01\x01\x91\xda\x01")


def test_packing_on_threads_decrypts_to_the_same_sums_as_in_one_thread(
    monkeypatch: pytest.MonkeyPatch,
    keypair: tuple[paillier.PublicKey, paillier.PrivateKey],
    problem: tuple[np.ndarray, ...],
) -> None:
    public_key, private_key = keypair
    g, h, bins, node = problem
    codec = GHCodec.for_gradients(g, ROWS, regression=False)
    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, h)
    histogram = gh_pack.encrypted_histogram(vector, bins, node, NODES, N_BINS)
    monkeypatch.setattr(gh_pack, "THREADED_MIN_PACKED", 10**9)
    serial = gh_pack.pack_for_guest(histogram, codec)

    monkeypatch.setattr(gh_pack, "THREADED_MIN_PACKED", 1)
    threaded = gh_pack.pack_for_guest(histogram, codec)

    assert len(threaded[0]) == len(serial[0])
    assert set(threaded[0].ciphertexts).isdisjoint(serial[0].ciphertexts)  # both re-randomised
    assert gh_pack.decrypt_histogram(private_key, [threaded], codec) == gh_pack.decrypt_histogram(
        private_key, [serial], codec
    )
