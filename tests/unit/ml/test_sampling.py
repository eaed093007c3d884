"""Split and sample index logic: sizes, disjointness, stratification, determinism and errors."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from fate_grpc.ml.sampling import resolve_split_sizes, sample_indices, split_indices

# --------------------------------------------------------------------------------------------------
# split sizes


@pytest.mark.parametrize(
    ("n_rows", "sizes", "expected"),
    [
        (569, (None, None, None), (455, 114, 0)),  # FATE default 0.8 / 0.2 / 0.0
        (100, (0.6, None, None), (60, 0, 40)),  # only train given: test takes the rest
        (100, (None, 0.3, None), (70, 30, 0)),  # only validate given: train takes the rest
        (100, (None, None, 0.25), (75, 0, 25)),  # only test given: train takes the rest
        (100, (0.5, 0.2, None), (50, 20, 30)),
        (100, (0.5, None, 0.2), (50, 30, 20)),
        (100, (0.7, 0.2, 0.1), (70, 20, 10)),
        (10, (6, None, 1), (6, 3, 1)),  # counts
        (10, (None, 4, None), (6, 4, 0)),
        (10, (6, 2, 2), (6, 2, 2)),
        (3, (0.5, 0.5, 0.0), (2, 1, 0)),  # largest remainder: a zero fraction stays empty
        (7, (1.0, 0.0, 0), (7, 0, 0)),  # int 0 next to fractions is fine
        (10, (np.int64(6), None, None), (6, 0, 4)),
    ],
)
def test_resolve_split_sizes(n_rows: int, sizes: tuple, expected: tuple) -> None:
    assert resolve_split_sizes(n_rows, *sizes) == expected


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ((0.8, 10, None), "mix"),
        ((0.5, 0.2, 0.2), "add up"),
        ((60, 30, 30), "add up"),
        ((0.9, 0.3, None), "exceed"),
        ((80, None, 30), "exceed"),
        ((1.5, None, None), r"\[0, 1\]"),
        ((-3, None, None), ">= 0"),
        ((True, None, None), "None, a float"),
        (("0.5", None, None), "None, a float"),
    ],
)
def test_bad_split_sizes_raise(sizes: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_split_sizes(100, *sizes)


def test_n_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="n_rows"):
        split_indices(0)


# --------------------------------------------------------------------------------------------------
# split


def test_split_is_a_sorted_disjoint_cover_with_the_requested_sizes() -> None:
    train, validate, test = split_indices(1000, 0.6, 0.25, 0.15, random_state=3)
    assert (len(train), len(validate), len(test)) == (600, 250, 150)
    for part in (train, validate, test):
        assert part.dtype == np.int64 and (np.diff(part) > 0).all()
    assert np.array_equal(np.sort(np.concatenate([train, validate, test])), np.arange(1000))


def test_split_is_deterministic_for_a_seed() -> None:
    first = split_indices(500, random_state=11)
    second = split_indices(500, random_state=11)
    other = split_indices(500, random_state=12)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stratified_split_keeps_label_proportions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.choice([0, 1, 2], size=1001, p=[0.7, 0.2, 0.1])
    parts = split_indices(1001, 0.6, 0.3, 0.1, stratify_labels=labels, random_state=seed)
    sizes = resolve_split_sizes(1001, 0.6, 0.3, 0.1)
    totals = Counter(labels.tolist())
    for part, size in zip(parts, sizes, strict=True):
        assert len(part) == size
        counts = Counter(labels[part].tolist())
        for label, total in totals.items():
            # Within one row of the exact proportional share.
            assert abs(counts[label] - size * total / 1001) < 1.0 + 1e-9
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(1001))


def test_stratified_split_handles_rare_labels_and_strings() -> None:
    labels = np.array(["a"] * 97 + ["b"] * 3)
    train, validate, test = split_indices(100, 0.5, 0.5, 0.0, stratify_labels=labels, random_state=0)
    assert len(test) == 0 and len(train) == len(validate) == 50
    assert {Counter(labels[train].tolist())["b"], Counter(labels[validate].tolist())["b"]} == {1, 2}


def test_stratify_labels_must_match_rows() -> None:
    with pytest.raises(ValueError, match="labels"):
        split_indices(10, stratify_labels=[0, 1])
    with pytest.raises(ValueError, match="NaN"):
        split_indices(2, stratify_labels=[0.0, float("nan")])


# --------------------------------------------------------------------------------------------------
# sample


def test_down_sampling_without_replacement() -> None:
    idx = sample_indices(1000, frac=0.25, random_state=1)
    assert len(idx) == 250 and len(set(idx.tolist())) == 250 and (np.diff(idx) > 0).all()
    assert len(sample_indices(1000, n=17, random_state=1)) == 17
    assert len(sample_indices(10, frac=0.01, random_state=1)) == 1  # FATE: at least one row
    assert np.array_equal(sample_indices(5, random_state=0), np.arange(5))  # default frac=1.0


def test_up_sampling_needs_replace_and_repeats_rows() -> None:
    with pytest.raises(ValueError, match="replace=True"):
        sample_indices(100, frac=1.5)
    with pytest.raises(ValueError, match="replace=True"):
        sample_indices(100, n=101)
    idx = sample_indices(100, frac=2.5, replace=True, random_state=3)
    assert len(idx) == 250 and len(set(idx.tolist())) < 250 and idx.max() < 100


def test_per_label_rates_follow_fate_counts() -> None:
    labels = np.array([0] * 900 + [1] * 100)
    idx = sample_indices(1000, frac={0: 0.1, 1: 0.55}, labels=labels, random_state=0)
    assert Counter(labels[idx].tolist()) == {0: 90, 1: 55}
    # Labels missing from the dict keep rate 1.0; JSON-style string keys match numeric labels.
    idx = sample_indices(1000, frac={"1": 0.5}, labels=labels.astype(float), random_state=0)
    assert Counter(labels[idx].tolist()) == {0: 900, 1: 50}
    up = sample_indices(1000, frac={0: 0.1, 1: 3.0}, replace=True, labels=labels, random_state=0)
    assert Counter(labels[up].tolist()) == {0: 90, 1: 300}


def test_sampling_is_deterministic_for_a_seed() -> None:
    labels = np.arange(300) % 3
    a = sample_indices(300, frac={0: 0.5, 2: 0.2}, labels=labels, random_state=9)
    b = sample_indices(300, frac={0: 0.5, 2: 0.2}, labels=labels, random_state=9)
    assert np.array_equal(a, b)
    assert np.array_equal(
        sample_indices(300, frac=0.3, random_state=4), sample_indices(300, frac=0.3, random_state=4)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frac": 0.5, "n": 3}, "same time"),
        ({"frac": {0: 0.5}}, "needs the labels"),
        ({"frac": {7: 0.5}, "labels": [0, 1, 0, 1]}, "not in the data"),
        ({"frac": {0: 0.0}, "labels": [0, 1, 0, 1]}, "> 0"),
        ({"frac": -0.1}, "> 0"),
        ({"n": 0}, "n must be"),
        ({"random_state": -1}, "random_state"),
    ],
)
def test_bad_sample_arguments_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sample_indices(4, **kwargs)
