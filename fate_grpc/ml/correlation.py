"""Pearson correlation and VIF: standardisation, fixed-point products from shares, FATE's local VIF (no I/O).

Correlation of columns x and y over n rows is ``sum(z_x z_y) / (n - 1)`` with ``z = (x - mean) / std`` and
the sample standard deviation (ddof 1), as FATE 2.2 computes it. A constant column has no correlation
(NaN here; FATE's division by a zero deviation gives NaN too).

The cross part between two parties is computed on fixed-point values ``round(z * 2^PRECISION_BITS)``; the
integer products come back as two additive shares whose sum is exact, and ``correlation_from_shares``
turns them into correlations. The rounding error of one entry is below ``2^-PRECISION_BITS`` times the
mean absolute z (about 1e-7 at 24 bits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Fractional bits of the standardised values in the cross product (FATE's MPC encoder uses 24 too).
PRECISION_BITS = 24
# FATE's threshold below which an eigenvalue of the correlation matrix counts as zero.
VIF_EIGENVALUE_THRESHOLD = 1e-8


@dataclass(frozen=True)
class Standardised:
    """Columns scaled to mean 0 and sample standard deviation 1 (constant columns all zeros)."""

    values: npt.NDArray[np.float64]
    constant: npt.NDArray[np.bool_]

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])


def standardise(values: npt.ArrayLike) -> Standardised:
    """``(x - mean) / std`` per column, std with ddof 1; constant columns become zeros and are flagged.

    Raises:
        ValueError: Fewer than two rows, or a missing/infinite value (named by column position).
    """
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {matrix.shape}")
    if matrix.shape[0] < 2:
        raise ValueError(f"correlation needs at least 2 rows, got {matrix.shape[0]}")
    finite = np.isfinite(matrix).all(axis=0)
    if not finite.all():
        raise ValueError(f"columns at positions {np.flatnonzero(~finite).tolist()} have missing values")
    centred = matrix - matrix.mean(axis=0)
    std = centred.std(axis=0, ddof=1)
    # A column whose spread is at rounding level of its magnitude is constant in all but rounding.
    scale = np.maximum(np.abs(matrix).max(axis=0), 1.0)
    constant = std <= 1e-12 * scale
    safe = np.where(constant, 1.0, std)
    return Standardised(np.where(constant, 0.0, centred / safe), constant)


def local_correlation(data: Standardised) -> npt.NDArray[np.float64]:
    """``Z^T Z / (n - 1)``; NaN in the rows and columns of constant columns."""
    z = data.values
    corr = z.T @ z / (data.rows - 1)
    return _undefined_where(corr, data.constant, data.constant)


def local_vif(corr: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """FATE 2.2's VIF of each column from the correlation matrix R of a party's own columns.

    With the eigenvalues of R (absolute values, ascending), the k below ``VIF_EIGENVALUE_THRESHOLD``
    are dropped, and ``VIF_i`` is the product of all but the k smallest eigenvalues of R without row and
    column i, over the product of the kept eigenvalues of R. Without a zero eigenvalue this is
    ``det(R_-i) / det(R) = (R^-1)_ii = 1 / (1 - R_i^2)``. Products are taken as sums of logarithms so
    that many small eigenvalues do not underflow.

    Raises:
        ValueError: R has NaN (a constant column).
    """
    matrix = np.asarray(corr, dtype=np.float64)
    if np.isnan(matrix).any():
        raise ValueError("the correlation matrix has undefined entries (a constant column)")
    size = matrix.shape[0]
    eigenvalues = _sorted_abs_eigenvalues(matrix)
    dropped = int(np.sum(eigenvalues < VIF_EIGENVALUE_THRESHOLD))
    log_det = float(np.sum(np.log(eigenvalues[dropped:])))
    vif = np.empty(size, dtype=np.float64)
    for i in range(size):
        keep = np.arange(size) != i
        minor = _sorted_abs_eigenvalues(matrix[np.ix_(keep, keep)])
        vif[i] = np.exp(float(np.sum(np.log(minor[dropped:]))) - log_det)
    return vif


def norm_bound_bits(rows: int, precision_bits: int = PRECISION_BITS) -> int:
    """Bits bounding the Euclidean norm of an encoded standardised column: ``sum z^2 = n - 1``, so
    ``||round(z 2^f)|| <= sqrt(n) (2^f + 1) < 2^(f + 1 + ceil(bits(n) / 2))``."""
    return precision_bits + 1 + -(-int(rows).bit_length() // 2)


def encode_fixed(data: Standardised, precision_bits: int = PRECISION_BITS) -> npt.NDArray[np.int64]:
    """``round(z * 2^precision_bits)`` as int64 (standardised values are far below the int64 range)."""
    return np.rint(data.values * np.float64(2.0) ** precision_bits).astype(np.int64)


def open_shares(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The exact integers two additive shares (object arrays of Python ints) stand for."""
    left, right = np.asarray(first, dtype=object), np.asarray(second, dtype=object)
    if left.shape != right.shape:
        raise ValueError(f"shares of shapes {left.shape} and {right.shape}")
    return left + right


def correlation_from_shares(
    first: np.ndarray,
    second: np.ndarray,
    rows: int,
    *,
    left_constant: npt.NDArray[np.bool_],
    right_constant: npt.NDArray[np.bool_],
    precision_bits: int = PRECISION_BITS,
) -> npt.NDArray[np.float64]:
    """Cross correlations from the shares of ``round(Z_L 2^f)^T round(Z_R 2^f)`` (NaN for constant
    columns on either side)."""
    products = open_shares(first, second)
    scale = 2 ** (2 * precision_bits) * (rows - 1)
    # Dividing the Python ints first keeps full precision (an entry may exceed float64's 53 bits).
    corr = np.array([[int(v) / scale for v in row] for row in products.tolist()], dtype=np.float64)
    corr = corr.reshape(products.shape)
    return _undefined_where(corr, np.asarray(left_constant), np.asarray(right_constant))


def _undefined_where(
    matrix: npt.NDArray[np.float64],
    row_constant: npt.NDArray[np.bool_],
    column_constant: npt.NDArray[np.bool_],
) -> npt.NDArray[np.float64]:
    out = matrix.copy()
    out[row_constant, :] = np.nan
    out[:, column_constant] = np.nan
    return out


def _sorted_abs_eigenvalues(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    if matrix.size == 0:
        return np.zeros(0, dtype=np.float64)
    return np.sort(np.abs(np.linalg.eigvalsh(matrix)))
