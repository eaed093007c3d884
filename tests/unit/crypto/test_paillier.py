"""Paillier keys and encrypted vectors: correctness of every operation against numpy, randomisation, keys."""

from __future__ import annotations

import gmpy2
import numpy as np
import pytest

from fate_grpc.crypto import paillier
from fate_grpc.crypto.paillier import EncryptedVector, PrivateKey, PublicKey

RNG = np.random.default_rng(20240501)
HEADER = 17  # magic, version, width, count, scale


def test_key_sizes_below_1024_are_refused() -> None:
    for bits in (512, 768, 1022, 1025):
        with pytest.raises(ValueError):
            paillier.generate_keypair(bits)
    with pytest.raises(ValueError):
        PublicKey(gmpy2.next_prime(2**600) * gmpy2.next_prime(2**300))


def test_keypair_structure(keypair: tuple[PublicKey, PrivateKey]) -> None:
    public_key, private_key = keypair
    p, q = private_key.p, private_key.q
    assert public_key.n.bit_length() == 1024
    assert p != q and p * q == public_key.n
    assert p.bit_length() == q.bit_length() == 512
    assert gmpy2.is_prime(p) and gmpy2.is_prime(q)
    assert public_key.n2 == public_key.n**2
    assert public_key.width == 256


def test_crt_decryption_matches_textbook(public_key: PublicKey, private_key: PrivateKey) -> None:
    for m in (0, 1, 12345, int(public_key.n) - 1):
        c = public_key.encrypt_int(m)
        assert private_key.decrypt_int(c) == m
        assert private_key.decrypt_int_naive(c) == m


def test_integers_roundtrip_exactly(public_key: PublicKey, private_key: PrivateKey) -> None:
    values = np.array([0, 1, -1, 7, -123456789, 2**62, -(2**62)], dtype=np.int64)
    vec = paillier.encrypt(public_key, values)
    assert vec.scale == 0
    decrypted = paillier.decrypt(private_key, vec)
    assert decrypted.dtype == np.int64
    assert np.array_equal(decrypted, values)


def test_floats_roundtrip(public_key: PublicKey, private_key: PrivateKey) -> None:
    values = np.concatenate([[0.0, -0.0, 1e-7, -1e-7, 123456.789, -98765.4321], RNG.normal(size=200)])
    vec = paillier.encrypt(public_key, values)
    assert vec.scale == paillier.DEFAULT_PRECISION_BITS
    decrypted = paillier.decrypt(private_key, vec)
    assert decrypted.dtype == np.float64
    np.testing.assert_allclose(decrypted, values, rtol=0, atol=1e-9)
    coarse = paillier.encrypt(public_key, values, precision_bits=24)
    np.testing.assert_allclose(paillier.decrypt(private_key, coarse), values, rtol=0, atol=1e-6)


def test_addition(public_key: PublicKey, private_key: PrivateKey) -> None:
    a, b = RNG.normal(size=50), RNG.normal(size=50)
    ints = RNG.integers(-100, 100, size=50)
    enc_a, enc_b = paillier.encrypt(public_key, a), paillier.encrypt(public_key, b)
    np.testing.assert_allclose(paillier.decrypt(private_key, enc_a + enc_b), a + b, atol=1e-8)
    np.testing.assert_allclose(paillier.decrypt(private_key, enc_a + b), a + b, atol=1e-8)
    np.testing.assert_allclose(paillier.decrypt(private_key, b + enc_a), a + b, atol=1e-8)
    np.testing.assert_allclose(paillier.decrypt(private_key, enc_a + 2.5), a + 2.5, atol=1e-8)
    np.testing.assert_allclose(paillier.decrypt(private_key, enc_a - enc_b), a - b, atol=1e-8)
    np.testing.assert_allclose(paillier.decrypt(private_key, 1.0 - enc_a), 1.0 - a, atol=1e-8)
    np.testing.assert_allclose(paillier.decrypt(private_key, -enc_a), -a, atol=1e-8)
    enc_ints = paillier.encrypt(public_key, ints)
    assert np.array_equal(paillier.decrypt(private_key, enc_ints + ints), 2 * ints)
    assert np.array_equal(paillier.decrypt(private_key, enc_ints - 3), ints - 3)
    # An integer vector plus floats is raised to the float scale first.
    mixed = enc_ints + a
    assert mixed.scale == paillier.DEFAULT_PRECISION_BITS
    np.testing.assert_allclose(paillier.decrypt(private_key, mixed), ints + a, atol=1e-8)
    np.testing.assert_allclose(paillier.decrypt(private_key, enc_ints + enc_a), ints + a, atol=1e-8)


def test_multiplication_by_plaintext(public_key: PublicKey, private_key: PrivateKey) -> None:
    a = RNG.normal(size=40)
    weights = RNG.normal(size=40) * 10
    enc_a = paillier.encrypt(public_key, a)
    np.testing.assert_allclose(paillier.decrypt(private_key, enc_a * 3), a * 3, atol=1e-8)
    np.testing.assert_allclose(paillier.decrypt(private_key, -2 * enc_a), a * -2, atol=1e-8)
    scaled = enc_a * 0.37
    assert scaled.scale == 2 * paillier.DEFAULT_PRECISION_BITS
    np.testing.assert_allclose(paillier.decrypt(private_key, scaled), a * 0.37, atol=1e-8)
    np.testing.assert_allclose(paillier.decrypt(private_key, enc_a * weights), a * weights, atol=1e-7)
    np.testing.assert_allclose(paillier.decrypt(private_key, enc_a * 0.0), np.zeros(40), atol=0)
    # Products at different scales add correctly: a*w + a.
    np.testing.assert_allclose(
        paillier.decrypt(private_key, enc_a * weights + enc_a), a * weights + a, atol=1e-7
    )
    counts = paillier.encrypt(public_key, np.arange(40))
    assert np.array_equal(paillier.decrypt(private_key, counts * np.arange(40)), np.arange(40) ** 2)


def test_sum_and_take(public_key: PublicKey, private_key: PrivateKey) -> None:
    a = RNG.normal(size=60)
    enc_a = paillier.encrypt(public_key, a)
    total = enc_a.sum()
    assert len(total) == 1
    np.testing.assert_allclose(paillier.decrypt(private_key, total), [a.sum()], atol=1e-8)
    indices = np.array([5, 0, 59, 5])
    np.testing.assert_allclose(paillier.decrypt(private_key, enc_a.take(indices)), a[indices], atol=1e-9)
    mask = a > 0
    np.testing.assert_allclose(paillier.decrypt(private_key, enc_a.take(mask)), a[mask], atol=1e-9)
    with pytest.raises(ValueError):
        enc_a.take([60])
    with pytest.raises(ValueError):
        enc_a.take([-1])
    with pytest.raises(ValueError):
        enc_a.take(np.ones(3, dtype=bool))


def test_sum_by_group_matches_bincount(public_key: PublicKey, private_key: PrivateKey) -> None:
    labels = RNG.integers(0, 2, size=500)
    n_groups = 12
    groups = RNG.integers(0, 10, size=500)  # groups 10 and 11 stay empty
    sums = paillier.encrypt(public_key, labels).sum_by_group(groups, n_groups)
    expected = np.bincount(groups, weights=labels, minlength=n_groups).astype(np.int64)
    decrypted = paillier.decrypt(private_key, sums)
    assert decrypted.dtype == np.int64
    assert np.array_equal(decrypted, expected)
    assert all(c != 1 for c in sums.ciphertexts)  # empty groups are real encryptions of zero
    gradients = RNG.normal(size=500)
    float_sums = paillier.encrypt(public_key, gradients).sum_by_group(groups, n_groups)
    expected_float = np.bincount(groups, weights=gradients, minlength=n_groups)
    np.testing.assert_allclose(paillier.decrypt(private_key, float_sums), expected_float, atol=1e-7)


def test_sum_by_groups_2d(public_key: PublicKey, private_key: PrivateKey) -> None:
    labels = RNG.integers(0, 2, size=300)
    n_features, n_bins = 4, 6
    bins = RNG.integers(0, n_bins - 1, size=(300, n_features))
    sums = paillier.encrypt(public_key, labels).sum_by_groups(bins, n_bins)
    assert len(sums) == n_features * n_bins
    decrypted = paillier.decrypt(private_key, sums).reshape(n_features, n_bins)
    for feature in range(n_features):
        expected = np.bincount(bins[:, feature], weights=labels, minlength=n_bins)
        assert np.array_equal(decrypted[feature], expected.astype(np.int64))


def test_group_ids_are_validated(public_key: PublicKey) -> None:
    vec = paillier.encrypt(public_key, np.arange(5))
    for bad in ([0, 1, 2, 3, 5], [0, 1, 2, 3, -1], [0, 1, 2], [0.0, 1.0, 2.0, 3.0, 4.0]):
        with pytest.raises(ValueError):
            vec.sum_by_group(np.asarray(bad), 5)
    with pytest.raises(ValueError):
        vec.sum_by_groups(np.zeros((4, 2), dtype=np.int64), 5)


def test_group_sums_do_not_echo_input_ciphertexts(public_key: PublicKey, private_key: PrivateKey) -> None:
    vec = paillier.encrypt(public_key, np.array([1, 0, 1]))
    sums = vec.sum_by_group(np.array([0, 1, 1]), 3)  # group 0 holds exactly row 0
    assert sums.ciphertexts[0] != vec.ciphertexts[0]
    assert np.array_equal(paillier.decrypt(private_key, sums), [1, 1, 0])
    plain = vec.sum_by_group(np.array([0, 1, 1]), 3, rerandomize=False)
    assert plain.ciphertexts[0] == vec.ciphertexts[0] and plain.ciphertexts[2] == 1


def test_encryption_is_randomised(public_key: PublicKey, private_key: PrivateKey) -> None:
    same = np.full(300, 7)
    first, second = paillier.encrypt(public_key, same), paillier.encrypt(public_key, same)
    assert len(set(first.ciphertexts)) == 300  # no obfuscator shared inside a batch
    assert not set(first.ciphertexts) & set(second.ciphertexts)
    assert np.array_equal(paillier.decrypt(private_key, first), same)
    obfuscators = public_key.obfuscators(500)
    assert len(set(obfuscators)) == 500
    # Each obfuscator is an encryption of zero.
    assert all(private_key.decrypt_int(r) == 0 for r in obfuscators[:20])
    rerandomised = first.rerandomize()
    assert not set(rerandomised.ciphertexts) & set(first.ciphertexts)
    assert np.array_equal(paillier.decrypt(private_key, rerandomised), same)


def test_another_key_does_not_decrypt(
    public_key: PublicKey, private_key: PrivateKey, other_keypair: tuple[PublicKey, PrivateKey]
) -> None:
    other_public, other_private = other_keypair
    values = np.arange(1, 21)
    vec = paillier.encrypt(public_key, values)
    wrong = [other_private.decrypt_int(c) for c in vec.ciphertexts]
    assert all(m != v for m, v in zip(wrong, values.tolist(), strict=True))
    with pytest.raises(ValueError):
        paillier.decrypt(other_private, vec)
    with pytest.raises(ValueError):
        vec + paillier.encrypt(other_public, values)


def test_overflow_is_refused(public_key: PublicKey, private_key: PrivateKey) -> None:
    with pytest.raises(OverflowError):
        paillier.encrypt(public_key, np.array([int(public_key.n)], dtype=object))
    with pytest.raises(ValueError):
        paillier.encrypt(public_key, np.array([1.0, np.nan]))
    with pytest.raises(ValueError):
        paillier.encrypt(public_key, np.zeros((2, 2)))
    largest = paillier.encrypt(public_key, np.array([int(public_key.max_int)], dtype=object))
    assert paillier.decrypt(private_key, largest).tolist() == [int(public_key.max_int)]
    # 2 * max_int lands between max_int and n - max_int: detected as a wrap-around, not a negative number.
    with pytest.raises(OverflowError):
        paillier.decrypt(private_key, largest + largest)
    with pytest.raises(OverflowError):
        paillier.decrypt(private_key, largest * 2)


def test_vector_serialisation_roundtrip(public_key: PublicKey, private_key: PrivateKey) -> None:
    values = RNG.normal(size=33)
    vec = paillier.encrypt(public_key, values) * 1.5
    data = vec.to_bytes()
    assert len(data) == HEADER + 33 * public_key.width
    restored = EncryptedVector.from_bytes(public_key, data)
    assert restored.scale == vec.scale and restored.ciphertexts == vec.ciphertexts
    np.testing.assert_allclose(paillier.decrypt(private_key, restored), values * 1.5, atol=1e-8)
    empty = EncryptedVector.from_bytes(public_key, paillier.encrypt(public_key, np.array([], int)).to_bytes())
    assert len(empty) == 0


def test_malformed_vector_bytes_are_refused(
    public_key: PublicKey, other_keypair: tuple[PublicKey, PrivateKey]
) -> None:
    data = paillier.encrypt(public_key, np.arange(4)).to_bytes()
    width = public_key.width
    too_big = int(public_key.n2).to_bytes(width, "big")
    malformed = {
        "empty": b"",
        "short header": data[:10],
        "truncated": data[:-1],
        "trailing byte": data + b"\x00",
        "bad magic": b"XXXX" + data[4:],
        "bad version": data[:4] + b"\x02" + data[5:],
        "ciphertext >= n^2": data[: HEADER + width] + too_big + data[HEADER + 2 * width :],
        "zero ciphertext": data[:HEADER] + bytes(width) + data[HEADER + width :],
        "huge scale": data[: HEADER - 2] + b"\xff\xff" + data[HEADER:],
        "count too large": data[:7] + (5).to_bytes(8, "big") + data[15:],
    }
    for name, blob in malformed.items():
        with pytest.raises(ValueError):
            EncryptedVector.from_bytes(public_key, blob)
            pytest.fail(f"accepted: {name}")
    big_key, _ = paillier.generate_keypair(1280)
    with pytest.raises(ValueError):
        EncryptedVector.from_bytes(big_key, data)


def test_public_key_serialisation(public_key: PublicKey) -> None:
    data = public_key.to_bytes()
    assert PublicKey.from_bytes(data) == public_key
    for bad in (b"", data[:-1], data + b"\x00", b"ZZZZ" + data[4:]):
        with pytest.raises(ValueError):
            PublicKey.from_bytes(bad)
    prime = gmpy2.next_prime(gmpy2.mpz(2) ** 1100)
    with pytest.raises(ValueError):
        PublicKey.from_bytes(data[:4] + b"\x01" + (138).to_bytes(2, "big") + prime.to_bytes(138, "big"))


def test_2048_bit_keys() -> None:
    public_key, private_key = paillier.generate_keypair(2048)
    assert public_key.n.bit_length() == 2048 and public_key.width == 512
    values = np.array([-1.25, 0.0, 3.5, 1e6])
    vec = paillier.encrypt(public_key, values)
    restored = EncryptedVector.from_bytes(public_key, (vec + vec).to_bytes())
    np.testing.assert_allclose(paillier.decrypt(private_key, restored), 2 * values, atol=1e-8)
    labels = np.array([1, 0, 1, 1])
    sums = paillier.encrypt(public_key, labels).sum_by_group(np.array([0, 2, 2, 0]), 3)
    assert np.array_equal(paillier.decrypt(private_key, sums), [2, 0, 1])
