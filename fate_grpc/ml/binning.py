"""Core of FATE's ``hetero_feature_binning``: split points, bin indices, WOE/IV and WOE transform.

Split points (FATE convention) are the *upper edges* of the bins, ascending and without repeats; the last one
is the column maximum. A value ``v`` falls into the first bin whose edge is ``>= v``; values above the last
edge (unseen at fit time) go to the last bin. Columns with many ties get fewer bins than requested, because
coinciding edges are merged.

Missing values (NaN) go to a separate *missing bin* whose index is ``len(split_points[j])``, i.e. one past
the last regular bin of column ``j``. ``label_counts_by_bin`` only counts it when told the column has
``len(split_points[j]) + 1`` bins, so the caller decides whether missing values take part in WOE/IV.

Quantile edges are exact: every column is sorted (O(n log n) time, one copy of the data in memory), which
is cheap for the tens of thousands of rows FATE jobs bin. FATE itself uses a GK summary with bounded
``relative_error``; exact ranks satisfy any such bound, so ``relative_error`` is only validated. The edge
of bin ``i`` (1-based, of ``n_bins``) is the order statistic of rank ``ceil(i * m / n_bins)`` of the ``m``
present values (numpy's ``inverted_cdf`` quantile at ``i / n_bins``), computed in integers so no float
rounding can shift a rank; every edge is therefore an observed value.

WOE/IV as FATE 2.2 computes them: ``event_rate = event / total_event`` and ``non_event_rate = non_event /
total_non_event``, except that a zero count gives a rate of ``adjustment_factor`` itself (default 0.5; not
divided by the total, and only on the side that is zero); ``woe = ln(event_rate / non_event_rate)``,
``iv_bin = (event_rate - non_event_rate) * woe``. Totals are per column; a column with no events (or no
non-events) at all uses a total of 1, as FATE does, instead of failing. The column ``iv`` is the sum over
*all* bins: FATE 2.2 leaves bin 0 out of its sum (``iv_array[1:].sum()``), a defect not reproduced here,
so a column's IV here is FATE's plus ``iv_array[0]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def quantile_split_points(x: npt.ArrayLike, n_bins: int, relative_error: float = 1e-6) -> list[FloatArray]:
    """Per column, the upper edges of ``n_bins`` equal-frequency bins (fewer when quantiles coincide)."""
    _check_n_bins(n_bins)
    if not 0.0 < relative_error <= 1.0:
        raise ValueError(f"relative_error must be in (0, 1] (FATE's bound), got {relative_error}")
    arr = _as_matrix(x, "x")
    ordered = np.sort(arr, axis=0)  # NaN sorts last, so column j's values fill rows 0..count_j-1
    counts = (~np.isnan(arr)).sum(axis=0).astype(np.int64)
    steps = np.arange(1, n_bins + 1, dtype=np.int64)[:, None]
    # rank = ceil(i * m / n_bins) by exact integer arithmetic; row index is rank - 1.
    ranks = -((-steps * counts[None, :]) // n_bins)
    rows = np.maximum(ranks - 1, 0)
    edges = ordered[rows, np.arange(arr.shape[1])[None, :]]
    return [np.unique(edges[:, j]) if counts[j] else np.empty(0) for j in range(arr.shape[1])]


def bucket_split_points(x: npt.ArrayLike, n_bins: int) -> list[FloatArray]:
    """Per column, the upper edges of ``n_bins`` equal-width bins between the column min and max."""
    _check_n_bins(n_bins)
    arr = _as_matrix(x, "x")
    out: list[FloatArray] = []
    for j in range(arr.shape[1]):
        col = arr[:, j]
        col = col[~np.isnan(col)]
        if col.size == 0:
            out.append(np.empty(0))
            continue
        low, high = float(col.min()), float(col.max())
        width = (high - low) / n_bins
        inner = low + width * np.arange(1, n_bins, dtype=np.float64)
        # The last edge is the max itself (not low + n * width), so the max never lands past the last bin.
        out.append(np.unique(np.append(inner[inner < high], high)))
    return out


def bin_indices(x: npt.ArrayLike, split_points: Sequence[npt.ArrayLike]) -> IntArray:
    """Bin index of every value; NaN gets the missing bin ``len(split_points[j])``."""
    arr = _as_matrix(x, "x")
    if len(split_points) != arr.shape[1]:
        raise ValueError(f"got split points for {len(split_points)} columns but x has {arr.shape[1]}")
    out = np.empty(arr.shape, dtype=np.int64)
    for j, raw_edges in enumerate(split_points):
        edges = _edges(raw_edges, j)
        col = arr[:, j]
        missing = np.isnan(col)
        if edges.size == 0 and not missing.all():
            raise ValueError(f"column {j} has values but no split points")
        idx = np.searchsorted(edges, col, side="left")
        idx = np.minimum(idx, max(edges.size - 1, 0))
        out[:, j] = np.where(missing, edges.size, idx)
    return out


def label_counts_by_bin(
    bin_idx: npt.ArrayLike, y: npt.ArrayLike, n_bins_per_col: Sequence[int]
) -> tuple[list[IntArray], list[IntArray]]:
    """Event (y == 1) and non-event (y == 0) counts per bin, one array of length ``n_bins_per_col[j]`` each.

    Pass ``len(split_points[j]) + 1`` as the bin count to include the missing bin; otherwise a missing index
    is out of range and raises.
    """
    idx = np.asarray(bin_idx)
    labels = np.asarray(y, dtype=np.float64).ravel()
    if idx.ndim != 2 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError("bin_idx must be a 2-D integer array (rows x columns)")
    if labels.shape[0] != idx.shape[0]:
        raise ValueError(f"y has {labels.shape[0]} labels but bin_idx has {idx.shape[0]} rows")
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError("y must hold binary labels 0/1 for event counts")
    sizes = np.asarray(n_bins_per_col, dtype=np.int64)
    if sizes.shape != (idx.shape[1],) or (sizes < 1).any():
        raise ValueError(
            f"n_bins_per_col must give a positive bin count for each of the {idx.shape[1]} columns"
        )
    bad = (idx < 0) | (idx >= sizes[None, :])
    if bad.any():
        col = int(np.flatnonzero(bad.any(axis=0))[0])
        raise ValueError(
            f"column {col} has bin indices outside [0, {int(sizes[col])}); "
            "count the missing bin by passing n_bins + 1"
        )
    # One bincount over all columns: shift each column's bins into its own slice of a flat range.
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = idx.astype(np.int64) + offsets[None, :]
    total = np.bincount(flat.ravel(), minlength=int(sizes.sum()))
    events = np.bincount(flat[labels == 1.0].ravel(), minlength=int(sizes.sum()))
    bounds = np.cumsum(sizes)[:-1]
    event_parts = np.split(events.astype(np.int64), bounds)
    non_event_parts = np.split((total - events).astype(np.int64), bounds)
    return event_parts, non_event_parts


def woe_iv(
    event_counts: Mapping[str, npt.ArrayLike],
    non_event_counts: Mapping[str, npt.ArrayLike],
    adjustment_factor: float = 0.5,
) -> dict[str, dict[str, Any]]:
    """WOE and IV per bin and IV per column, laid out like FATE's ``metrics_summary``.

    Returns ``{"event_count", "non_event_count", "event_rate", "non_event_rate", "woe", "iv_array":
    {column: [per bin]}, "iv": {column: float}, "is_monotonic": {column: bool}}``; ``is_monotonic`` is True
    when the WOE never decreases or never increases across bins.
    """
    if adjustment_factor <= 0:
        raise ValueError(f"adjustment_factor must be > 0 (it keeps ln() finite), got {adjustment_factor}")
    if set(event_counts) != set(non_event_counts):
        raise ValueError("event_counts and non_event_counts must have the same columns")
    keys = ("event_count", "non_event_count", "event_rate", "non_event_rate", "woe", "iv_array")
    out: dict[str, dict[str, Any]] = {k: {} for k in (*keys, "iv", "is_monotonic")}
    for col, raw_events in event_counts.items():
        events, non_events = _counts(raw_events, col), _counts(non_event_counts[col], col)
        if events.shape != non_events.shape:
            raise ValueError(f"column {col!r}: event and non-event counts have different bin counts")
        metrics = _column_woe(events, non_events, adjustment_factor)
        for key, values in zip(keys, metrics, strict=True):
            out[key][col] = values.tolist()
        woe = metrics[4]
        out["iv"][col] = float(metrics[5].sum())
        steps = np.diff(woe)
        out["is_monotonic"][col] = bool((steps >= 0).all() or (steps <= 0).all())
    return out


def transform_woe(bin_idx: npt.ArrayLike, woe_per_column: Sequence[npt.ArrayLike]) -> FloatArray:
    """Replace bin indices by their WOE; the missing bin maps to NaN unless its WOE was computed."""
    idx = np.asarray(bin_idx)
    if idx.ndim != 2 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError("bin_idx must be a 2-D integer array (rows x columns)")
    if len(woe_per_column) != idx.shape[1]:
        raise ValueError(f"got WOE for {len(woe_per_column)} columns but bin_idx has {idx.shape[1]}")
    out = np.empty(idx.shape, dtype=np.float64)
    for j, raw in enumerate(woe_per_column):
        # Appending NaN makes index len(woe) - the missing bin when it was not counted - map to NaN.
        table = np.append(np.asarray(raw, dtype=np.float64).ravel(), np.nan)
        col = idx[:, j]
        if (col < 0).any() or (col >= table.size).any():
            raise ValueError(f"column {j} has bin indices outside [0, {table.size - 1}]")
        out[:, j] = table[col]
    return out


# --------------------------------------------------------------------------------------------------
# helpers


def _column_woe(events: FloatArray, non_events: FloatArray, adjustment: float) -> tuple[FloatArray, ...]:
    total_events = events.sum() or 1.0
    total_non_events = non_events.sum() or 1.0
    # FATE 2.2: a zero count's rate is the adjustment factor itself, which keeps ln() finite.
    event_rate = np.where(events == 0, adjustment, events / total_events)
    non_event_rate = np.where(non_events == 0, adjustment, non_events / total_non_events)
    woe = np.log(event_rate / non_event_rate)
    iv = (event_rate - non_event_rate) * woe
    return events, non_events, event_rate, non_event_rate, woe, iv


def _counts(raw: npt.ArrayLike, col: str) -> FloatArray:
    counts = np.asarray(raw)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"column {col!r}: counts must be a non-empty 1-D array")
    if not np.issubdtype(counts.dtype, np.number) or not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError(f"column {col!r}: counts must be finite and >= 0")
    # Integer counts stay integers in the output (they are JSON ints), decrypted float sums stay floats.
    return counts if np.issubdtype(counts.dtype, np.integer) else counts.astype(np.float64)


def _check_n_bins(n_bins: int) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")


def _as_matrix(x: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows x columns), got shape {arr.shape}")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains +/-inf; only NaN is accepted as a missing value")
    return arr


def _edges(raw: npt.ArrayLike, j: int) -> FloatArray:
    edges = np.asarray(raw, dtype=np.float64).ravel()
    if np.isnan(edges).any() or (np.diff(edges) <= 0).any():
        raise ValueError(f"split points of column {j} must be strictly increasing numbers")
    return edges
