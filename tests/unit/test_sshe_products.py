"""SSHE's HE-to-shares products: results equal to numpy, every sent ciphertext randomised, masks
statistically hiding (a range at least 2^40 larger than the masked value's bound)."""

from __future__ import annotations

import numpy as np
import pytest
from gmpy2 import mpz

from fate_grpc.crypto import paillier, sshe_products
from fate_grpc.ml.sshe import ring


@pytest.fixture(scope="module")
def keys() -> tuple[paillier.PublicKey, paillier.PrivateKey]:
    return paillier.generate_keypair(1024)


def _unrandomised_plaintext(public_key: paillier.PublicKey, c: mpz) -> int | None:
    """What anyone with the public key reads from an unrandomised ciphertext 1 + m n (None if not one)."""
    n = int(public_key.n)
    return (int(c) - 1) // n if (int(c) - 1) % n == 0 else None


def _shares_of(
    keys: tuple[paillier.PublicKey, paillier.PrivateKey], sent: list[mpz], masker_share: ring.Shares
) -> np.ndarray:
    decrypted = sshe_products.decrypt_to_shares(keys[1], sent)
    return ring.add(decrypted, masker_share)


def test_masked_matvec_gives_shares_of_x_times_the_encrypted_share(keys) -> None:
    public_key, _ = keys
    rng = np.random.default_rng(1)
    matrix, weights = rng.normal(size=(50, 6)), rng.normal(size=6)
    encoded = ring.encode_integers(matrix)
    own, theirs = ring.split(ring.encode(weights))
    sent, mask_share = sshe_products.masked_matvec(
        public_key, sshe_products.encrypt_shares(public_key, theirs), encoded
    )
    assert len(sent) == -(-50 // sshe_products.matvec_layout(public_key, 6).slots)  # 4 rows per ciphertext
    decrypted = sshe_products.decrypt_matvec_to_shares(keys[1], sent, 50, 6)
    total = ring.add(ring.add(decrypted, mask_share), ring.matvec(encoded, own))
    assert np.allclose(
        ring.decode(total, ring.FRACTION_BITS + ring.FEATURE_BITS), matrix @ weights, atol=1e-8
    )


def test_masked_transpose_and_inner_products_match_numpy(keys) -> None:
    public_key, _ = keys
    rng = np.random.default_rng(2)
    matrix, d = rng.normal(size=(40, 3)), rng.normal(size=40)
    encoded = ring.encode_integers(matrix)
    own, theirs = ring.split(ring.encode(d))
    encrypted = sshe_products.encrypt_shares(public_key, theirs)
    sent, mask_share = sshe_products.masked_transpose_matvec(public_key, encrypted, encoded)
    total = ring.add(_shares_of(keys, sent, mask_share), ring.transpose_matvec(encoded, own))
    assert np.allclose(ring.decode(total, ring.FRACTION_BITS + ring.FEATURE_BITS), matrix.T @ d, atol=1e-8)
    sent, mask_share = sshe_products.masked_inner_product(public_key, encrypted, own)
    cross = int(_shares_of(keys, sent, mask_share)[0])
    squares = (ring.dot(own, own) + ring.dot(theirs, theirs) + 2 * cross) % ring.MODULUS
    assert ring.signed(squares) / 2.0**64 == pytest.approx(float(d @ d), rel=1e-9)


def test_no_sent_ciphertext_can_be_read_with_the_public_key_alone(keys) -> None:
    public_key, _ = keys
    share = ring.encode(np.array([0.0, 1.0, -1.0, 0.5]))
    encrypted = sshe_products.encrypt_shares(public_key, share)
    masked, _ = sshe_products.masked_matvec(public_key, encrypted, ring.encode_integers(np.eye(4)))
    transposed, _ = sshe_products.masked_transpose_matvec(
        public_key, encrypted, ring.encode_integers(np.eye(4))
    )
    inner, _ = sshe_products.masked_inner_product(public_key, encrypted, share)
    for c in [*encrypted, *masked, *transposed, *inner]:
        assert _unrandomised_plaintext(public_key, c) is None
    # The check itself works: an unrandomised encryption is read at once.
    assert _unrandomised_plaintext(public_key, mpz(1 + 42 * int(public_key.n))) == 42


def test_each_ciphertext_of_the_same_value_differs(keys) -> None:
    public_key, _ = keys
    share = ring.encode(np.zeros(20))
    encrypted = sshe_products.encrypt_shares(public_key, share)
    assert len({int(c) for c in encrypted}) == 20


@pytest.mark.parametrize(
    "bound",
    [
        sshe_products.matvec_bound(30),
        sshe_products.transpose_bound(30000),
        sshe_products.inner_bound(30000),
    ],
)
def test_mask_range_is_at_least_2_to_the_40_times_the_bound(bound: int) -> None:
    bits = sshe_products.mask_bits(bound)
    assert 2**bits >= 2**40 * bound
    masks = sshe_products.draw_masks(2000, bound)
    assert max(masks) < 2**bits
    assert max(masks).bit_length() >= bits - 12  # drawn from the whole range, not a 64-bit one
    # A 1024-bit key holds the masked value without wrapping around n.
    sshe_products.check_plaintext_room(paillier.generate_keypair(1024)[0], bound)


def _unpacked(keys, sent: list[mpz], columns: int) -> list[int]:
    """The masked row values the key owner reads from packed ``masked_matvec`` ciphertexts."""
    public_key, private_key = keys
    layout = sshe_products.matvec_layout(public_key, columns)
    residues = paillier.decrypt_residues(private_key, paillier.EncryptedVector(public_key, sent, 0))
    slot = (1 << layout.slot_bits) - 1
    return [
        ((p >> (layout.slot_bits * k)) & slot) - layout.offset for p in residues for k in range(layout.slots)
    ]


def test_products_stay_within_their_public_bounds(keys) -> None:
    public_key, _ = keys
    extreme = np.full((4, 2), -(2.0**37))  # the largest features the encoding takes, times the largest shares
    top = np.empty(2, dtype=object)
    top[:] = [ring.MODULUS - 1, ring.MODULUS - 1]
    encrypted = sshe_products.encrypt_shares(public_key, top)
    product = int(ring.encode_integers(extreme).astype(object)[0] @ top)
    bound = sshe_products.matvec_bound(2)
    assert abs(product) <= bound
    sent, _ = sshe_products.masked_matvec(public_key, encrypted, ring.encode_integers(extreme))
    for value in _unpacked(keys, sent, 2):
        assert -bound <= value < 2 ** sshe_products.mask_bits(bound)


def test_decrypted_masked_values_do_not_reveal_the_product(keys) -> None:
    """What the key owner decrypts looks the same whether the product is 0 or at its bound."""
    public_key, _ = keys
    share = np.empty(1, dtype=object)
    share[:] = [ring.MODULUS - 1]
    encrypted = sshe_products.encrypt_shares(public_key, share)
    bits = sshe_products.mask_bits(sshe_products.matvec_bound(1))

    def top_bits(feature: float) -> list[int]:
        matrix = ring.encode_integers(np.full((400, 1), feature))
        sent, _ = sshe_products.masked_matvec(public_key, encrypted, matrix)
        return [max(0, v) >> (bits - 4) for v in _unpacked(keys, sent, 1)]

    zero, large = np.bincount(top_bits(0.0), minlength=16), np.bincount(top_bits(2.0**37), minlength=16)
    assert zero.min() > 5 and large.min() > 5  # both spread over the whole range (25 per bin expected)
