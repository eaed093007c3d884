"""Secure aggregation: pairwise seeds agree, masks cancel exactly in the sum, a masked vector hides its
value."""

from __future__ import annotations

import numpy as np
import pytest

from fate_grpc.crypto import secure_aggregation as secagg


def pair_seeds(clients: int, context: bytes = b"test") -> list[dict[int, bytes]]:
    """Every client's seeds by peer rank, after an all-pairs X25519 exchange."""
    keys = {(i, j): secagg.KeyPair.new() for i in range(clients) for j in range(clients) if i != j}
    seeds: list[dict[int, bytes]] = [{} for _ in range(clients)]
    for (i, j), own in keys.items():
        peer_public = keys[(j, i)].public
        seeds[i][j] = secagg.pair_seed(own, peer_public, context + bytes([min(i, j), max(i, j)]))
    return seeds


def test_both_ends_of_a_pair_derive_the_same_seed_and_pairs_differ() -> None:
    seeds = pair_seeds(3)

    assert seeds[0][1] == seeds[1][0] and seeds[1][2] == seeds[2][1]
    assert len({seeds[0][1], seeds[0][2], seeds[1][2]}) == 3


def test_the_context_changes_the_seed() -> None:
    alice, bob = secagg.KeyPair.new(), secagg.KeyPair.new()

    assert secagg.pair_seed(alice, bob.public, b"a") != secagg.pair_seed(alice, bob.public, b"b")


@pytest.mark.parametrize(
    "public",
    [bytes(32), (1).to_bytes(32, "little"), (2**255 - 19).to_bytes(32, "little"), b"\xff" * 32, bytes(31)],
    ids=["zero", "one (small order)", "p (non-canonical)", "all ones", "short"],
)
def test_bad_public_keys_are_refused(public: bytes) -> None:
    with pytest.raises(secagg.SecureAggregationError):
        secagg.pair_seed(secagg.KeyPair.new(), public, b"ctx")


def test_masks_cancel_exactly_in_the_sum() -> None:
    rng = np.random.default_rng(1)
    values = [rng.normal(scale=5.0, size=50) for _ in range(4)]
    seeds = pair_seeds(4)

    masked = [secagg.mask(v, rank, seeds[rank], 7, "model") for rank, v in enumerate(values)]
    total = secagg.unmasked_sum(masked, 50)

    exact = np.sum(values, axis=0)
    assert np.max(np.abs(total - exact)) <= secagg.rounding_bound(4, float(np.abs(exact).max()))
    # Without every client the masks do not cancel.
    partial = secagg.unmasked_sum(masked[:3], 50)
    assert np.min(np.abs(partial - np.sum(values[:3], axis=0))) > 1.0


def test_a_masked_vector_is_far_from_its_value_and_rounds_use_fresh_masks() -> None:
    seeds = pair_seeds(2)
    values = np.linspace(-1, 1, 1000)

    first = secagg.mask(values, 0, seeds[0], 0, "model")
    second = secagg.mask(values, 0, seeds[0], 1, "model")

    decoded = secagg.decode(first)
    assert np.min(np.abs(decoded - values)) > 1e-3
    # Uniform on Z_2^64: decoded magnitudes spread over the whole range (2^23 ~ 8e6 at 40 fractional bits).
    assert np.median(np.abs(decoded)) > 1e5
    assert not np.array_equal(first, second)
    assert not np.array_equal(
        secagg.mask_stream(seeds[0][1], 0, "model", 8), secagg.mask_stream(seeds[0][1], 0, "loss", 8)
    )


def test_encode_refuses_values_it_cannot_carry() -> None:
    with pytest.raises(secagg.SecureAggregationError, match="value 2"):
        secagg.encode([0.0, 1.0, float("nan")])
    with pytest.raises(secagg.SecureAggregationError, match="value 0"):
        secagg.encode([secagg.MAX_MAGNITUDE])
    assert np.allclose(secagg.decode(secagg.encode([-3.25, 0.0, 1e6])), [-3.25, 0.0, 1e6])


def test_a_malformed_masked_vector_is_refused() -> None:
    with pytest.raises(secagg.SecureAggregationError, match="masked vector 1"):
        secagg.unmasked_sum([np.zeros(3, dtype=np.uint64), np.zeros(4, dtype=np.uint64)], 3)
