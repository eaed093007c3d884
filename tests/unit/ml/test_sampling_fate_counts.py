"""Split sizes and stratified per-label counts as FATE 2.2's data_split makes them (an oracle of its rule:
train and validate rounded, test the rest; per label, round(share of the pool * size), the last label the
rest; validate drawn from the rows train left)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from fate_grpc.ml.sampling import resolve_split_sizes, split_indices


def fate_per_label(pool: list[int], size: int) -> list[int]:
    drawn = [round(n / sum(pool) * size) for n in pool[:-1]]
    return [*drawn, size - sum(drawn)]


@pytest.mark.parametrize(
    ("n_rows", "sizes", "expected"),
    [
        (10, (0.25, 0.25, 0.5), (2, 2, 6)),  # round(2.5) is 2 twice; test takes the rest
        (101, (0.5, 0.5, 0.0), (50, 50, 1)),  # FATE's rest may be a row although test_size is 0.0
        (569, (0.6, 0.1, None), (341, 57, 171)),
        (3, (0.5, 0.5, 0.0), (2, 1, 0)),  # FATE would ask 2 + 2 of 3 rows and fail: rows are apportioned
    ],
)
def test_fraction_sizes_round_as_fate(n_rows: int, sizes: tuple, expected: tuple) -> None:
    assert resolve_split_sizes(n_rows, *sizes) == expected


@pytest.mark.parametrize(
    ("by_label", "sizes"),
    [
        ([212, 357], (200, None, 50)),  # FATE's data_split example on breast: 75/125, 118/201, 19/31
        ([212, 357], (0.6, 0.1, None)),
        ([70, 20, 10], (0.5, 0.3, 0.2)),
        ([5, 90, 5], (33, 33, 34)),
    ],
)
def test_stratified_counts_per_label_as_fate(by_label: list[int], sizes: tuple) -> None:
    labels = np.repeat(np.arange(len(by_label)), by_label)
    n_rows = len(labels)
    train_size, validate_size, test_size = sizes
    train, validate, test = split_indices(
        n_rows, train_size, validate_size, test_size, stratify_labels=labels, random_state=5
    )
    n_train, n_validate, _ = resolve_split_sizes(n_rows, *sizes)
    expected_train = fate_per_label(by_label, n_train)
    left = [n - t for n, t in zip(by_label, expected_train, strict=True)]
    expected_validate = fate_per_label(left, n_validate)
    expected_test = [n - v for n, v in zip(left, expected_validate, strict=True)]
    for part, expected in ((train, expected_train), (validate, expected_validate), (test, expected_test)):
        counted = Counter(labels[part].tolist())
        assert [counted[label] for label in range(len(by_label))] == expected


def test_breast_example_counts() -> None:
    labels = np.repeat([0, 1], [212, 357])
    train, validate, test = split_indices(569, 200, None, 50, stratify_labels=labels, random_state=0)
    assert [Counter(labels[p].tolist())[0] for p in (train, validate, test)] == [75, 118, 19]
    assert [Counter(labels[p].tolist())[1] for p in (train, validate, test)] == [125, 201, 31]
