"""ECDH-PSI on Curve25519: construction, commutativity, determinism, validation, and the pool path."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from nacl import bindings

from fate_grpc.crypto import ecdh

ALICE_U = "fe503cf6ba55620abba99c8f2deb88267f7ff462d56672779b629e5f7cab772e"
FIELD_PRIME = 2**255 - 19
ORDER_8_EDWARDS = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
SMALL_ORDER_U = {
    "zero (order 2)": bytes(32),
    "one (order 4)": (1).to_bytes(32, "little"),
    "order 8 (a)": bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    "order 8 (b)": bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    "p - 1 (order 4, on the twist)": (FIELD_PRIME - 1).to_bytes(32, "little"),
}
NON_CANONICAL_U = {
    "p": FIELD_PRIME.to_bytes(32, "little"),
    "p + 1": (FIELD_PRIME + 1).to_bytes(32, "little"),
    "2^255 - 1": (2**255 - 1).to_bytes(32, "little"),
    "all ones": b"\xff" * 32,
    "top bit set": bytes(31) + b"\x80",
}


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


def montgomery_u(edwards: bytes) -> bytes:
    """The Curve25519 u-coordinate of a compressed edwards25519 point, computed independently of ecdh."""
    y = int.from_bytes(edwards, "little") & (2**255 - 1)
    return ((1 + y) * pow(1 - y, -1, FIELD_PRIME) % FIELD_PRIME).to_bytes(32, "little")


def test_hash_is_elligator2_then_montgomery_u() -> None:
    ids = ["alice", "", "é", *(f"id-{i}" for i in range(50))]
    expected = []
    for item in ids:
        digest = hashlib.sha512(ecdh.HASH_DOMAIN + item.encode("utf-8")).digest()
        edwards = bindings.crypto_core_ed25519_from_uniform(digest[:32])
        expected.append(montgomery_u(edwards))
        # libsodium's own Edwards-to-Montgomery conversion agrees.
        assert bindings.crypto_sign_ed25519_pk_to_curve25519(edwards) == expected[-1]

    assert [row.tobytes() for row in ecdh.hash_to_points(ids)] == expected


def test_hash_known_answer() -> None:
    # Pins HASH_DOMAIN and the construction: a change here breaks interoperability between versions.
    assert ecdh.HASH_DOMAIN == b"fate-grpc/psi/ecdh/curve25519/v2\x00"
    assert ecdh.hash_to_points(["alice"])[0].tobytes().hex() == ALICE_U


def test_blind_is_x25519() -> None:
    points = ecdh.hash_to_points(["alice", "bob"])
    secret = ecdh.new_secret()

    blinded = ecdh.blind(points, secret)

    assert [row.tobytes() for row in blinded] == [
        bindings.crypto_scalarmult(secret, row.tobytes()) for row in points
    ]


@pytest.mark.parametrize("name", ["zero (order 2)", "order 8 (a)", "p"])
def test_pool_reports_invalid_point_with_its_row(name: str) -> None:
    # Small-order rows are refused inside a worker, non-canonical ones before the pool starts.
    bad_row = {**SMALL_ORDER_U, **NON_CANONICAL_U}[name]
    points = ecdh.hash_to_points([f"id-{i}" for i in range(30)])
    points[17] = np.frombuffer(bad_row, dtype=np.uint8)

    with pytest.raises(ecdh.InvalidPointError, match="row 17"):
        ecdh.reblind(points, ecdh.new_secret(), workers=2, pool_min_items=10)


@pytest.mark.parametrize("bad_row", SMALL_ORDER_U.values(), ids=SMALL_ORDER_U.keys())
def test_small_order_point_is_rejected(bad_row: bytes) -> None:
    points = ecdh.hash_to_points(["a", "b", "c"])
    points[1] = np.frombuffer(bad_row, dtype=np.uint8)

    with pytest.raises(ecdh.InvalidPointError, match="row 1 is a point of small order"):
        ecdh.reblind(points, ecdh.new_secret())
    with pytest.raises(ecdh.InvalidPointError, match="row 1"):
        ecdh.blind(points, ecdh.new_secret())


@pytest.mark.parametrize("bad_row", NON_CANONICAL_U.values(), ids=NON_CANONICAL_U.keys())
def test_non_canonical_point_is_rejected(bad_row: bytes) -> None:
    points = ecdh.hash_to_points(["a", "b", "c"])
    points[2] = np.frombuffer(bad_row, dtype=np.uint8)

    with pytest.raises(ecdh.InvalidPointError, match="row 2 is not a canonical encoding"):
        ecdh.reblind(points, ecdh.new_secret())


def test_largest_canonical_values_are_accepted() -> None:
    # p - 2 and p - 20 are canonical (just below p); neither is of small order.
    for value in (FIELD_PRIME - 2, FIELD_PRIME - 20, 2**254):
        row = np.frombuffer(value.to_bytes(32, "little"), dtype=np.uint8).reshape(1, 32)
        assert ecdh.reblind(row, ecdh.new_secret()).shape == (1, 32)


def test_torsion_component_is_cleared() -> None:
    # A subgroup point plus a point of order 8 is outside the prime-order subgroup; X25519's clamped scalar
    # is a multiple of the cofactor, so the torsion part vanishes and the product equals that of the base.
    base_edwards = bindings.crypto_core_ed25519_from_uniform(bytes(range(32)))
    mixed_edwards = bindings.crypto_core_ed25519_add(base_edwards, ORDER_8_EDWARDS)
    base = np.frombuffer(montgomery_u(base_edwards), dtype=np.uint8).reshape(1, 32)
    mixed = np.frombuffer(montgomery_u(mixed_edwards), dtype=np.uint8).reshape(1, 32)
    secret = ecdh.new_secret()

    assert not np.array_equal(base, mixed)
    assert np.array_equal(ecdh.reblind(mixed, secret), ecdh.reblind(base, secret))


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
