"""ECDH-PSI primitives: commutativity, determinism, validation, and the process-pool path."""

from __future__ import annotations

import numpy as np
import pytest

from fate_grpc.crypto import ecdh


def test_blinding_commutes() -> None:
    points = ecdh.hash_to_points(["alice", "bob", "carol"])
    secret_a, secret_b = ecdh.new_secret(), ecdh.new_secret()

    a_then_b = ecdh.reblind(ecdh.blind(points, secret_a), secret_b)
    b_then_a = ecdh.reblind(ecdh.blind(points, secret_b), secret_a)

    assert np.array_equal(a_then_b, b_then_a)
    assert not np.array_equal(a_then_b, points)


def test_hash_and_blind_equals_hash_then_blind() -> None:
    ids = [str(i) for i in range(20)]
    secret = ecdh.new_secret()

    assert np.array_equal(ecdh.hash_and_blind(ids, secret), ecdh.blind(ecdh.hash_to_points(ids), secret))


def test_hashing_is_deterministic_and_distinct() -> None:
    ids = [str(i) for i in range(200)] + ["", "é", "1 ", " 1"]

    first = ecdh.hash_to_points(ids)
    second = ecdh.hash_to_points(list(ids))

    assert first.shape == (len(ids), 32) and first.dtype == np.uint8
    assert np.array_equal(first, second)
    assert len({row.tobytes() for row in first}) == len(ids)


def test_secrets_are_fresh_and_give_different_signatures() -> None:
    secret_a, secret_b = ecdh.new_secret(), ecdh.new_secret()

    assert secret_a != secret_b and len(secret_a) == 32
    assert not np.array_equal(ecdh.hash_and_blind(["x"], secret_a), ecdh.hash_and_blind(["x"], secret_b))


def test_empty_input_gives_empty_array() -> None:
    secret = ecdh.new_secret()

    empty = ecdh.hash_and_blind([], secret)

    assert empty.shape == (0, 32)
    assert ecdh.reblind(empty, secret).shape == (0, 32)


def test_pool_path_equals_inline_path() -> None:
    ids = [f"id-{i}" for i in range(203)]
    secret = ecdh.new_secret()

    inline = ecdh.hash_and_blind(ids, secret, workers=1)
    pooled = ecdh.hash_and_blind(ids, secret, workers=2, pool_min_items=10)
    reblind_inline = ecdh.reblind(inline, secret, workers=1)
    reblind_pooled = ecdh.reblind(inline, secret, workers=2, pool_min_items=10)

    assert np.array_equal(inline, pooled)
    assert np.array_equal(reblind_inline, reblind_pooled)


def test_pool_reports_invalid_point_with_its_row() -> None:
    points = ecdh.hash_to_points([f"id-{i}" for i in range(30)])
    points[17] = 0xFF

    with pytest.raises(ecdh.InvalidPointError, match="row 17"):
        ecdh.reblind(points, ecdh.new_secret(), workers=2, pool_min_items=10)


@pytest.mark.parametrize(
    "bad_row",
    [
        bytes(32),  # the identity: small order
        b"\xff" * 32,  # not a canonical field element
        bytes([1]) + bytes(31),  # encodes the identity as well (y = 1)
        bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),  # order-8 point
    ],
)
def test_malformed_point_is_rejected(bad_row: bytes) -> None:
    points = ecdh.hash_to_points(["a", "b"])
    points[1] = np.frombuffer(bad_row, dtype=np.uint8)

    with pytest.raises(ecdh.InvalidPointError, match="row 1"):
        ecdh.reblind(points, ecdh.new_secret())


def test_point_not_in_prime_order_subgroup_is_rejected() -> None:
    # A valid subgroup point plus a point of order 8 is on the curve but outside the prime-order subgroup.
    from nacl import bindings

    base = ecdh.hash_to_points(["a"])[0].tobytes()
    torsion = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
    mixed = bindings.crypto_core_ed25519_add(base, torsion)
    points = np.frombuffer(mixed, dtype=np.uint8).reshape(1, 32)

    with pytest.raises(ecdh.InvalidPointError):
        ecdh.reblind(points, ecdh.new_secret())


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((3, 31), dtype=np.uint8),
        np.zeros((3, 32), dtype=np.int64),
        np.zeros(32, dtype=np.uint8),
        np.zeros((2, 2, 32), dtype=np.uint8),
    ],
)
def test_wrong_shape_or_dtype_is_rejected(array: np.ndarray) -> None:
    with pytest.raises(ecdh.InvalidPointError, match="uint8"):
        ecdh.reblind(array, ecdh.new_secret())


def test_bad_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        ecdh.hash_and_blind(["a"], bytes(32))


def test_match_points_finds_positions() -> None:
    reference = ecdh.hash_to_points(["a", "b", "c", "d"])
    probe = ecdh.hash_to_points(["d", "x", "a", "a", "c"])

    assert ecdh.match_points(probe, reference).tolist() == [3, -1, 0, 0, 2]
    assert ecdh.match_points(probe, reference[:0]).tolist() == [-1] * 5


def test_match_points_refuses_repeated_reference() -> None:
    reference = ecdh.hash_to_points(["a", "b", "a"])

    with pytest.raises(ecdh.InvalidPointError, match="unique"):
        ecdh.match_points(reference, reference)
