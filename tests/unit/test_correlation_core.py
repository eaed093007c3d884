"""The numeric core of feature_correlation: standardisation, local correlation and VIF against plain numpy
oracles, and the packed Paillier cross product whose shares add up to the exact integer product."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fate_grpc.crypto import cross_product, paillier
from fate_grpc.ml import correlation
from tests.unit.components.breast import DATA


@pytest.fixture(scope="module")
def keys() -> tuple[paillier.PublicKey, paillier.PrivateKey]:
    return paillier.generate_keypair(1024)


def features(name: str, rows: int | None = None) -> np.ndarray:
    frame = pd.read_csv(DATA / f"{name}.csv", nrows=rows)
    return frame[[c for c in frame.columns if c.startswith("x")]].to_numpy(dtype=np.float64)


def least_squares_vif(values: np.ndarray) -> np.ndarray:
    """1 / (1 - R^2) of each column regressed on all the others and an intercept."""
    out = []
    for i in range(values.shape[1]):
        target = values[:, i]
        design = np.column_stack([np.ones(len(values)), np.delete(values, i, axis=1)])
        coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
        residual = target - design @ coefficients
        centred = target - target.mean()
        out.append(1.0 / (residual @ residual / (centred @ centred)))
    return np.array(out)


@pytest.mark.parametrize(
    ("table", "rows"),
    [("breast_hetero_host", None), ("breast_hetero_guest", None), ("default_credit_hetero_guest", 5000)],
)
def test_local_correlation_and_vif_equal_numpy_and_least_squares(table: str, rows: int | None) -> None:
    values = features(table, rows)

    data = correlation.standardise(values)
    local = correlation.local_correlation(data)
    vif = correlation.local_vif(local)

    np.testing.assert_allclose(local, np.corrcoef(values.T), rtol=0, atol=1e-12)
    expected = least_squares_vif(values)
    # Within 1e-6, relative to the value for the large VIFs of breast's collinear radius/area/perimeter.
    np.testing.assert_allclose(vif, expected, rtol=1e-6, atol=1e-6)


def test_vif_drops_zero_eigenvalues_as_fate_does() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(size=(200, 3))
    values = np.column_stack([base, base[:, 0] + base[:, 1]])  # exactly collinear: one zero eigenvalue
    corr = correlation.local_correlation(correlation.standardise(values))

    vif = correlation.local_vif(corr)

    eigenvalues = np.sort(np.abs(np.linalg.eigvalsh(corr)))
    kept = np.prod(eigenvalues[1:])
    for i in range(4):
        keep = np.arange(4) != i
        minor = np.sort(np.abs(np.linalg.eigvalsh(corr[np.ix_(keep, keep)])))
        assert vif[i] == pytest.approx(np.prod(minor[1:]) / kept, rel=1e-9)
    assert np.isfinite(vif).all()


def test_constant_columns_are_flagged_and_their_correlations_undefined() -> None:
    values = np.column_stack([np.arange(10.0), np.full(10, 3.3), np.arange(10.0) ** 2])

    data = correlation.standardise(values)
    local = correlation.local_correlation(data)

    assert data.constant.tolist() == [False, True, False]
    assert np.isnan(local[1]).all() and np.isnan(local[:, 1]).all()
    assert local[0, 2] == pytest.approx(np.corrcoef(values[:, 0], values[:, 2])[0, 1])
    with pytest.raises(ValueError, match="constant"):
        correlation.local_vif(local)


def test_standardise_refuses_missing_values_and_single_rows() -> None:
    with pytest.raises(ValueError, match=r"positions \[1\]"):
        correlation.standardise(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="at least 2 rows"):
        correlation.standardise(np.array([[1.0, 2.0]]))


def test_layout_masks_are_at_least_40_bits_wider_than_the_entries() -> None:
    bound = correlation.norm_bound_bits(30_000)
    layout = cross_product.plan_layout(1024, 30_000, bound, bound)

    assert layout.mask_bits - layout.value_bits >= 40
    assert layout.slots * layout.slot_bits <= 1024 - 3
    # The bound holds for the worst case: all the mass of a standardised column in one row.
    worst = np.zeros(30_000)
    worst[0] = np.sqrt(30_000 - 1)
    encoded = np.rint(worst * 2.0**correlation.PRECISION_BITS)
    assert float(encoded @ encoded) < 2.0**layout.value_bits
    with pytest.raises(ValueError, match="at least 40"):
        cross_product.plan_layout(1024, 100, 30, 30, statistical_bits=39)


def test_shares_of_the_packed_cross_product_add_up_to_the_exact_integer_product(keys) -> None:
    public, private = keys
    rng = np.random.default_rng(7)
    left = correlation.standardise(rng.normal(size=(300, 11)))  # 11 columns: two slot groups
    right = correlation.standardise(rng.normal(size=(300, 4)) * 50)
    layout = cross_product.plan_layout(
        public.key_bits, 300, correlation.norm_bound_bits(300), correlation.norm_bound_bits(300)
    )
    encoded = correlation.encode_fixed(left)

    groups = cross_product.encrypt_rows(public, encoded, layout)
    masked, masks = cross_product.masked_products(
        groups, right.values, 11, layout, precision_bits=correlation.PRECISION_BITS
    )
    guest_share = cross_product.decrypt_products(private, masked, 11, layout)
    # The same product over two blocks of rows, summed homomorphically.
    totals = None
    for block in (slice(0, 120), slice(120, 300)):
        block_groups = cross_product.encrypt_rows(public, encoded[block], layout)
        partial = cross_product.block_products(
            block_groups, right.values[block], precision_bits=correlation.PRECISION_BITS
        )
        totals = cross_product.add_products(totals, partial)
    blocked, block_masks = cross_product.mask_products(totals, 11, layout)
    blocked_share = cross_product.decrypt_products(private, blocked, 11, layout)

    exact = encoded.astype(object).T @ correlation.encode_fixed(right).astype(object)
    assert (correlation.open_shares(guest_share, -masks) == exact).all()
    assert (correlation.open_shares(blocked_share, -block_masks) == exact).all()
    assert layout.slots < 11 and len(groups) == 2
    got = correlation.correlation_from_shares(
        guest_share, -masks, 300, left_constant=left.constant, right_constant=right.constant
    )
    expected = left.values.T @ right.values / 299
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_shares_survive_their_byte_form_and_bad_widths_are_refused() -> None:
    layout = cross_product.plan_layout(1024, 500, 30, 30)
    shares = np.array([[-(2**100), 5], [0, 2**120 - 1]], dtype=object)

    data = cross_product.shares_to_bytes(shares, layout)

    assert (cross_product.shares_from_bytes(data, layout) == shares).all()
    with pytest.raises(ValueError, match="bytes each"):
        cross_product.shares_from_bytes(data[..., 1:], layout)
