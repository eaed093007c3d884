"""Index logic of FATE's ``data_split`` and ``sample`` components (the guest decides, hosts get the ids).

Both functions work on row positions ``0..n_rows-1`` and return sorted int64 index arrays; the caller maps
them to sample ids. Results are deterministic for a given integer ``random_state`` (numpy ``default_rng``);
``None`` draws fresh entropy.

Split sizes follow FATE's ``data_split`` rules:

* each size is ``None``, a fraction (float in [0, 1]) or a row count (int >= 0); fractions and counts
  cannot be mixed (an int 0 is accepted next to fractions);
* all ``None`` means 0.8 / 0.2 / 0.0;
* otherwise the sizes given must not exceed the total (1.0, or ``n_rows`` for counts) and missing sizes are
  filled with the remainder: if train and validate are missing, train takes it; if only train is given, test
  takes it; if exactly one size is missing, it takes it; a missing test next to a given validate is 0 when
  train is missing too. When all three are given they must add up to the total.

Fractions become counts as FATE makes them: train and validate are ``round(fraction * n_rows)`` (Python's
round, halves to even) and test is the rest. Stratified splitting draws train from all rows, then validate
from the rows left, as FATE does: of a split of ``size`` rows drawn from a pool, each label but the last
(labels in sorted order, those present in the pool) gets ``round(its rows in the pool / pool rows * size)``
and the last label the rest. Where FATE's rounding would ask for more rows than there are (FATE then
fails), sizes fall back to largest-remainder apportionment, which always fits.

Sampling follows FATE's ``sample``: ``frac`` and ``n`` are exclusive, neither means ``frac=1.0``; a size is
``max(1, int(frac * rows))``; a fraction above 1 (up-sampling) needs ``replace=True``. A dict ``frac`` maps
labels to rates and samples each label separately; labels it omits keep rate 1.0 (as FATE's component
fills them in). Keys are matched to labels by value: int keys to int labels, string keys to string labels,
and a number spelled as a string either way (``"0"`` matches the label 0, as FATE parses it).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
Size = int | float | None
RandomState = int | np.random.Generator | None

DEFAULT_SPLIT = (0.8, 0.2, 0.0)


# --------------------------------------------------------------------------------------------------
# data split


def resolve_split_sizes(
    n_rows: int, train_size: Size = None, validate_size: Size = None, test_size: Size = None
) -> tuple[int, int, int]:
    """Row counts (train, validate, test) adding up to ``n_rows``, by FATE's size rules."""
    _check_rows(n_rows)
    # numpy integers (e.g. from a parsed config) count as ints; np.float64 already is a float.
    sizes = [int(s) if isinstance(s, np.integer) else s for s in (train_size, validate_size, test_size)]
    if all(s is None for s in sizes):
        sizes = list(DEFAULT_SPLIT)
    fractional = _check_size_types(sizes)
    total = 1.0 if fractional else float(n_rows)
    filled = _fill_missing(sizes, total)
    if fractional:
        return _apportion_fractions(filled, n_rows)
    train, validate, test = (int(v) for v in filled)
    return train, validate, test


def split_indices(
    n_rows: int,
    train_size: Size = None,
    validate_size: Size = None,
    test_size: Size = None,
    stratify_labels: npt.ArrayLike | None = None,
    random_state: RandomState = None,
) -> tuple[IntArray, IntArray, IntArray]:
    """Disjoint sorted (train, validate, test) row indices covering ``0..n_rows-1``."""
    counts = resolve_split_sizes(n_rows, train_size, validate_size, test_size)
    rng = _rng(random_state)
    if stratify_labels is None:
        perm = rng.permutation(n_rows)
        cut1, cut2 = counts[0], counts[0] + counts[1]
        return _sorted(perm[:cut1]), _sorted(perm[cut1:cut2]), _sorted(perm[cut2:])
    _, groups = _classes_and_groups(stratify_labels, n_rows)
    group_sizes = [g.shape[0] for g in groups]
    train_per = _fate_per_label(counts[0], group_sizes) or _apportion(counts[0], group_sizes, group_sizes)
    left = [size - t for size, t in zip(group_sizes, train_per, strict=True)]
    validate_per = _fate_per_label(counts[1], left) or _apportion(counts[1], group_sizes, left)
    parts: tuple[list[IntArray], list[IntArray], list[IntArray]] = ([], [], [])
    for rows, n_train, n_validate in zip(groups, train_per, validate_per, strict=True):
        perm = rng.permutation(rows)
        parts[0].append(perm[:n_train])
        parts[1].append(perm[n_train : n_train + n_validate])
        parts[2].append(perm[n_train + n_validate :])
    train, validate, test = (_sorted(np.concatenate(p)) for p in parts)
    return train, validate, test


def _check_size_types(sizes: list[Size]) -> bool:
    """Validate each size; True when they are fractions."""
    for name, size in zip(("train_size", "validate_size", "test_size"), sizes, strict=True):
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, int | float):
            raise ValueError(f"{name} must be None, a float fraction or an int count, got {size!r}")
        if isinstance(size, float) and not 0.0 <= size <= 1.0:
            raise ValueError(f"{name} as a fraction must be in [0, 1], got {size}")
        if size < 0:
            raise ValueError(f"{name} must be >= 0, got {size}")
    fractional = any(isinstance(s, float) for s in sizes)
    if fractional and any(isinstance(s, int) and s != 0 for s in sizes):
        raise ValueError(f"split sizes mix fractions and counts: {sizes}; use all floats or all ints")
    return fractional


def _fill_missing(sizes: list[Size], total: float) -> list[float]:
    train, validate, test = (None if v is None else float(v) for v in sizes)
    if train is None:
        test = test or 0.0
        train, validate = (total - test, 0.0) if validate is None else (total - validate - test, validate)
    elif test is None:
        test, validate = (total - train, 0.0) if validate is None else (total - train - validate, validate)
    elif validate is None:
        validate = total - train - test
    filled = [train, validate or 0.0, test]
    tolerance = 1e-9 * max(total, 1.0)
    if min(filled) < -tolerance:
        raise ValueError(f"split sizes {sizes} exceed the total ({total:g})")
    if abs(sum(filled) - total) > tolerance:
        raise ValueError(f"split sizes {sizes} must add up to {total:g} when all three are given")
    return [max(v, 0.0) for v in filled]


def _apportion_fractions(fractions: list[float], n_rows: int) -> tuple[int, int, int]:
    # FATE's counts: train and validate rounded, test the rest.
    train, validate = round(fractions[0] * n_rows), round(fractions[1] * n_rows)
    if train + validate <= n_rows:
        return train, validate, n_rows - train - validate
    return _largest_remainder(fractions, n_rows)


def _largest_remainder(fractions: list[float], n_rows: int) -> tuple[int, int, int]:
    # Largest remainder on the quotas fraction * n_rows, which add up to n_rows up to float rounding;
    # the 1e-9 keeps e.g. 0.29 * 100 = 28.999999999999996 from flooring to 28.
    quotas = [f * n_rows for f in fractions]
    base = [math.floor(q + 1e-9) for q in quotas]
    by_remainder = sorted(range(3), key=lambda i: (-(quotas[i] - base[i]), i))
    for i in by_remainder[: max(n_rows - sum(base), 0)]:
        base[i] += 1
    for i in reversed(by_remainder):  # only after float rounding pushed the floors above n_rows
        if sum(base) > n_rows and base[i] > 0:
            base[i] -= 1
    return base[0], base[1], base[2]


def _fate_per_label(size: int, pool: list[int]) -> list[int] | None:
    """FATE's stratified counts of a ``size``-row draw from a pool with ``pool[i]`` rows of label i.

    None where FATE's draw would fail: a label asked for more rows than the pool has of it.
    """
    present = [i for i, rows in enumerate(pool) if rows > 0]
    shares = [0] * len(pool)
    if not present:
        return shares if size == 0 else None
    pool_rows = sum(pool)
    for i in present[:-1]:
        shares[i] = round(pool[i] / pool_rows * size)
    shares[present[-1]] = size - sum(shares)
    fits = all(0 <= share <= rows for share, rows in zip(shares, pool, strict=True))
    return shares if fits else None


def _apportion(total: int, weights: list[int], caps: list[int]) -> list[int]:
    """Split ``total`` over groups in proportion to ``weights`` (largest remainder), never above ``caps``."""
    weight_sum = sum(weights)
    # Exact integer quotas total * w / weight_sum: floor part and remainder numerator.
    shares = [min(total * w // weight_sum, cap) for w, cap in zip(weights, caps, strict=True)]
    remainders = [(total * w) % weight_sum for w in weights]
    while sum(shares) < total:
        open_groups = [i for i in range(len(shares)) if shares[i] < caps[i]]
        if not open_groups:
            raise ValueError("not enough rows to fill the requested split")  # unreachable for valid sizes
        for i in sorted(open_groups, key=lambda i: (-remainders[i], i))[: total - sum(shares)]:
            shares[i] += 1
            remainders[i] = -1  # each group gets at most one extra row per round
    return shares


# --------------------------------------------------------------------------------------------------
# sample


def sample_indices(
    n_rows: int,
    frac: float | Mapping[Any, float] | None = None,
    n: int | None = None,
    replace: bool = False,
    labels: npt.ArrayLike | None = None,
    random_state: RandomState = None,
) -> IntArray:
    """Sorted sampled row indices; repeated indices appear when sampling with replacement."""
    _check_rows(n_rows)
    if frac is not None and n is not None:
        raise ValueError("n and frac cannot be used at the same time")
    rng = _rng(random_state)
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
            raise ValueError(f"n must be an int > 0, got {n!r}")
        if n > n_rows and not replace:
            raise ValueError(f"n={n} exceeds the {n_rows} rows; set replace=True to up-sample")
        return _sorted(rng.choice(n_rows, size=int(n), replace=replace))
    if isinstance(frac, Mapping):
        return _sample_per_label(n_rows, frac, replace, labels, rng)
    rate = 1.0 if frac is None else _check_rate(frac, replace, "frac")
    size = max(1, int(rate * n_rows))
    return _sorted(rng.choice(n_rows, size=size, replace=replace))


def _sample_per_label(
    n_rows: int,
    frac: Mapping[Any, float],
    replace: bool,
    labels: npt.ArrayLike | None,
    rng: np.random.Generator,
) -> IntArray:
    if labels is None:
        raise ValueError("a per-label frac dict needs the labels")
    classes, groups = _classes_and_groups(labels, n_rows)
    rates = [1.0] * len(classes)
    for key, rate in frac.items():
        position = _find_label(classes, key)
        rates[position] = _check_rate(rate, replace, f"frac[{key!r}]")
    picks = []
    for rows, rate in zip(groups, rates, strict=True):
        size = max(1, int(rate * rows.shape[0]))
        picks.append(rng.choice(rows, size=size, replace=replace))
    return _sorted(np.concatenate(picks))


def _check_rate(rate: Any, replace: bool, name: str) -> float:
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0 or math.isinf(rate):
        raise ValueError(f"{name} must be a number > 0, got {rate!r}")
    if rate > 1 and not replace:
        raise ValueError(f"{name}={rate} > 1 means up-sampling, which needs replace=True")
    return float(rate)


def _find_label(classes: np.ndarray, key: Any) -> int:
    """The class a frac key names: equal values, or the same number spelled as a string either way
    (FATE reads the key ``"1"`` as the label ``1``; a label column read as text has ``"1"`` for 1)."""
    hits = np.flatnonzero(classes == key)
    if hits.size == 0 and isinstance(key, str) and classes.dtype.kind in "iuf":
        with contextlib.suppress(ValueError):  # a non-numeric string simply matches nothing
            hits = np.flatnonzero(classes == float(key))
    if hits.size == 0 and not isinstance(key, str) and classes.dtype.kind == "U":
        hits = np.flatnonzero(classes == _number_text(key))
    if hits.size == 0:
        raise ValueError(f"frac names label {key!r}, which is not in the data (labels: {classes.tolist()})")
    return int(hits[0])


def _number_text(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# --------------------------------------------------------------------------------------------------
# helpers


def _check_rows(n_rows: int) -> None:
    if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer) or n_rows <= 0:
        raise ValueError(f"n_rows must be an int > 0, got {n_rows!r}")


def _rng(random_state: RandomState) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is not None and (isinstance(random_state, bool) or random_state < 0):
        raise ValueError(f"random_state must be an int >= 0 or None, got {random_state!r}")
    return np.random.default_rng(random_state)


def _classes_and_groups(labels: npt.ArrayLike, n_rows: int) -> tuple[np.ndarray, list[IntArray]]:
    arr = np.asarray(labels).ravel()
    if arr.shape[0] != n_rows:
        raise ValueError(f"got {arr.shape[0]} labels for {n_rows} rows")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError("labels contain NaN")
    classes, codes = np.unique(arr, return_inverse=True)
    # A stable argsort groups rows by class while keeping each group's rows ascending.
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=classes.shape[0]))[:-1]
    return classes, [g.astype(np.int64) for g in np.split(order, bounds)]


def _sorted(idx: npt.ArrayLike) -> IntArray:
    return np.sort(np.asarray(idx, dtype=np.int64))
