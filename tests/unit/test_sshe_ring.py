"""The 128-bit fixed-point ring of SSHE: encoding, sharing, local truncation, public factors."""

from __future__ import annotations

import numpy as np
import pytest

from fate_grpc.ml.sshe import ring


def test_encode_decode_round_trip_keeps_32_fractional_bits() -> None:
    values = np.array([0.0, 1.5, -2.25, 1e6, -1e-9, 3.141592653589793])
    assert np.allclose(ring.decode(ring.encode(values)), values, atol=2**-32)


def test_shares_add_up_and_the_peers_share_is_uniform() -> None:
    values = ring.encode(np.full(2000, 0.5))
    own, theirs = ring.split(values)
    assert np.allclose(ring.reconstruct(own, theirs), 0.5)
    top_bits = np.array([int(v) >> 124 for v in theirs])  # the 4 top bits of each share
    counts = np.bincount(top_bits, minlength=16)
    assert counts.min() > 60 and counts.max() < 200  # 125 per bin expected (6 sigma either side)


def test_truncation_of_products_is_exact_to_one_unit() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=500) * 100, rng.normal(size=500)
    product = ring.encode(x) * ring.encode(y) % ring.MODULUS  # scale 2^64
    a, b = ring.split(product)
    truncated = ring.reconstruct(
        ring.truncate(a, ring.FRACTION_BITS, first=True), ring.truncate(b, ring.FRACTION_BITS, first=False)
    )
    exact = ring.decode(ring.encode(x)) * ring.decode(ring.encode(y))  # the encoded inputs' product
    assert np.abs(truncated - exact).max() <= 2.0**-31


def test_matrix_products_on_one_share_match_numpy() -> None:
    rng = np.random.default_rng(4)
    matrix, weights = rng.normal(size=(30, 4)), rng.normal(size=4)
    encoded = ring.encode_integers(matrix)
    a, b = ring.split(ring.encode(weights))
    total = ring.add(ring.matvec(encoded, a), ring.matvec(encoded, b))
    assert np.allclose(
        ring.decode(total, ring.FRACTION_BITS + ring.FEATURE_BITS), matrix @ weights, atol=1e-8
    )
    column = ring.add(ring.transpose_matvec(encoded, ring.encode(np.ones(30))), np.zeros(4, dtype=object))
    assert np.allclose(
        ring.decode(column, ring.FRACTION_BITS + ring.FEATURE_BITS), matrix.sum(axis=0), atol=1e-8
    )


@pytest.mark.parametrize("factor", [0.25, 0.05 / 30000, 3.0])
def test_public_factor_keeps_small_factors_accurate(factor: float) -> None:
    values = np.linspace(-50, 50, 101)
    a, b = ring.split(ring.encode(values))
    scaled = ring.reconstruct(
        ring.multiply_public(a, factor, first=True), ring.multiply_public(b, factor, first=False)
    )
    assert np.allclose(scaled, values * factor, rtol=1e-6, atol=1e-9)


def test_encoding_refuses_values_beyond_the_exponent_range() -> None:
    with pytest.raises(ValueError, match="too large"):
        ring.encode_integers(np.array([2.0**39]))
    with pytest.raises(ValueError, match="NaN"):
        ring.encode(np.array([np.nan]))
