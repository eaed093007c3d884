"""ECDH-PSI primitives on Curve25519 in Montgomery form with X25519 multiplication, via libsodium (PyNaCl).

An id x is mapped to a point H(x) and "signed" with a secret scalar k as k·H(x). Scalar multiplication
commutes, so k_b·(k_a·H(x)) == k_a·(k_b·H(x)): two parties that each sign the other's already-signed points
obtain equal values exactly for the ids they share, without ever seeing each other's raw ids.

Hash to curve, Elligator 2 as in FATE's curve25519 PSI:
``E = from_uniform(SHA-512(HASH_DOMAIN || utf8(x))[:32])`` is libsodium's Elligator 2 map onto edwards25519
with the cofactor cleared, so E lies in the prime-order subgroup; H(x) is the u-coordinate of E on Curve25519,
``u = (1 + y) / (1 - y) mod 2^255 - 19`` (the birational map between the Edwards and Montgomery forms).
``HASH_DOMAIN`` is a fixed prefix naming this protocol and its version, so the encoding of an id is injective
and the hashes cannot be confused with those of any other use of the curve; changing it makes old and new
parties disagree on every id.

Multiplication is X25519 (``crypto_scalarmult``): the secret is 32 random bytes, clamped by X25519 to a
multiple of the cofactor, so any small-order component of an input is cleared and products of the prime-order
hashes are never the identity. Curve25519 is twist-secure, so an input on the quadratic twist reveals nothing
useful about the secret.

Points are exchanged as numpy ``(n, 32) uint8`` arrays of little-endian u-coordinates. Received points must be
canonical (``u < 2^255 - 19``, top bit clear, so every point has one encoding) and must not be of small order
(libsodium refuses those, as their product is all-zero); either is refused with ``InvalidPointError`` naming
the row.

Large inputs are split into chunks and multiplied in a process pool started with "forkserver" (or "spawn"
where that is unavailable), never plain fork: the calling process may run gRPC threads. A script that calls
into the pool must guard its entry point with ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
from nacl import bindings, exceptions

from fate_grpc.common import process_guard

POINT_BYTES = 32
SCALAR_BYTES = 32
HASH_DOMAIN = b"fate-grpc/psi/ecdh/curve25519/v2\x00"
# Below this many items the work runs in the calling process (a pool costs ~0.2 s to start).
POOL_MIN_ITEMS = 4000
# Chunks per worker: small enough to balance load, large enough to keep pickling overhead low.
CHUNKS_PER_WORKER = 4

_FIELD_PRIME = 2**255 - 19
# The y-coordinate bits of a compressed Edwards point; bit 255 holds the sign of x.
_Y_MASK = 2**255 - 1
_POINT_DTYPE = np.dtype((np.void, POINT_BYTES))
_ZERO_SCALAR = bytes(SCALAR_BYTES)
_log = logging.getLogger(__name__)


class InvalidPointError(ValueError):
    """A received point array is malformed or holds a non-canonical or small-order point."""


def new_secret() -> bytes:
    """A fresh secret X25519 scalar: 32 random bytes, never all zero (X25519 clamps it on use).

    Returns:
        The 32-byte secret.
    """
    while True:
        secret = os.urandom(SCALAR_BYTES)
        if secret != _ZERO_SCALAR:
            return secret


def hash_to_points(ids: Sequence[str]) -> np.ndarray:
    """Map ids to points of the prime-order subgroup (deterministic, unkeyed).

    Args:
        ids: Match ids, encoded as UTF-8.

    Returns:
        An ``(len(ids), 32) uint8`` array, row i the u-coordinate of ``ids[i]``'s point.
    """
    return _to_array(_hash_rows(list(ids)))


def blind(points: np.ndarray, secret: bytes) -> np.ndarray:
    """Multiply each point by the secret scalar, in the calling process.

    Raises:
        InvalidPointError: The array is not ``(n, 32) uint8`` or a row is non-canonical or of small order.
    """
    _check_secret(secret)
    return _to_array(_blind_rows(_points_bytes(points), secret, 0))


def hash_and_blind(
    ids: Sequence[str], secret: bytes, *, workers: int | None = None, pool_min_items: int = POOL_MIN_ITEMS
) -> np.ndarray:
    """Hash ids to points and multiply them by the secret: row i is ``secret·H(ids[i])``.

    Args:
        ids: Match ids.
        secret: A scalar from ``new_secret``.
        workers: Processes for large inputs; defaults to the CPUs available to this process. 1 means inline.
        pool_min_items: Inputs smaller than this run inline.

    Returns:
        An ``(len(ids), 32) uint8`` array.
    """
    _check_secret(secret)
    items = list(ids)
    count = _worker_count(workers)
    chunks = _split(items, count, pool_min_items)
    if len(chunks) <= 1:
        return _to_array(_hash_and_blind_chunk(items, secret, 0))
    return _to_array(_map_chunks(_hash_and_blind_chunk, chunks, secret, count))


def reblind(
    points: np.ndarray, secret: bytes, *, workers: int | None = None, pool_min_items: int = POOL_MIN_ITEMS
) -> np.ndarray:
    """Multiply points received from a peer by the secret, keeping their order.

    Args:
        points: An ``(n, 32) uint8`` array of points.
        secret: A scalar from ``new_secret``.
        workers: As for ``hash_and_blind``.
        pool_min_items: As for ``hash_and_blind``.

    Returns:
        An ``(n, 32) uint8`` array, row i ``secret·points[i]``.

    Raises:
        InvalidPointError: The array is malformed or a row is non-canonical or of small order.
    """
    _check_secret(secret)
    rows = _points_bytes(points)
    count = _worker_count(workers)
    chunks = _split(rows, count, pool_min_items)
    if len(chunks) <= 1:
        return _to_array(_blind_rows(rows, secret, 0))
    return _to_array(_map_chunks(_blind_chunk, chunks, secret, count))


def match_points(probe: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """For each row of ``probe``, the position of the equal row in ``reference``, or -1 (sort based).

    Raises:
        InvalidPointError: Either array is malformed, or ``reference`` holds a repeated point.
    """
    probe_keys = _as_keys(probe)
    reference_keys = _as_keys(reference)
    order = np.argsort(reference_keys, kind="stable")
    sorted_keys = reference_keys[order]
    if len(sorted_keys) > 1 and bool(np.any(sorted_keys[1:] == sorted_keys[:-1])):
        raise InvalidPointError("points to match against are not unique")
    positions = np.full(len(probe_keys), -1, dtype=np.int64)
    if len(sorted_keys) == 0:
        return positions
    slots = np.minimum(np.searchsorted(sorted_keys, probe_keys), len(sorted_keys) - 1)
    found = sorted_keys[slots] == probe_keys
    positions[found] = order[slots[found]]
    return positions


def check_points(points: Any) -> np.ndarray:
    """Return ``points`` if it is an ``(n, 32) uint8`` array, else raise InvalidPointError."""
    if not isinstance(points, np.ndarray):
        raise InvalidPointError(f"expected a numpy array of points, got {type(points).__name__}")
    if points.dtype != np.uint8 or points.ndim != 2 or points.shape[1] != POINT_BYTES:
        raise InvalidPointError(
            f"expected points as an (n, {POINT_BYTES}) uint8 array, got {points.shape} {points.dtype}"
        )
    return points


def _hash_rows(items: list[str]) -> list[bytes]:
    """H(x) for each id: Elligator 2 onto edwards25519 (cofactor cleared), then its Montgomery u."""
    sha512 = hashlib.sha512
    from_uniform = bindings.crypto_core_ed25519_from_uniform
    domain = HASH_DOMAIN
    size = POINT_BYTES
    return _edwards_to_montgomery(
        [from_uniform(sha512(domain + item.encode("utf-8")).digest()[:size]) for item in items]
    )


def _edwards_to_montgomery(points: list[bytes]) -> list[bytes]:
    """``u = (1 + y) / (1 - y) mod p`` for compressed Edwards points (p = 2^255 - 19).

    All ``1 - y`` are inverted at once (Montgomery's trick): one inversion in Python costs tens of
    microseconds, while the batch costs one inversion plus three multiplications per point.
    """
    p = _FIELD_PRIME
    mask = _Y_MASK
    from_bytes = int.from_bytes
    ys = [from_bytes(point, "little") & mask for point in points]
    prefix: list[int] = []  # prefix[i] = product of (1 - y_j) for j < i
    append = prefix.append
    product = 1
    for y in ys:
        append(product)
        product = product * (1 - y) % p
    if product == 0:
        # y == 1 is the identity, which a cofactor-cleared Elligator 2 output is not; kept as a guard.
        raise ValueError(f"id {ys.index(1)} hashes to the identity")
    inverse = pow(product, -1, p)  # 1 / product of all (1 - y_j)
    us = [0] * len(ys)
    for index in range(len(ys) - 1, -1, -1):
        y = ys[index]
        us[index] = (1 + y) * prefix[index] * inverse % p
        inverse = inverse * (1 - y) % p
    size = POINT_BYTES
    return [u.to_bytes(size, "little") for u in us]


def _hash_and_blind_chunk(items: list[str], secret: bytes, offset: int) -> list[bytes]:
    # Hashed points have prime order, so no product is refused and `offset` goes unused;
    # it keeps the signature _map_chunks expects.
    multiply = bindings.crypto_scalarmult
    return [multiply(secret, point) for point in _hash_rows(items)]


def _blind_chunk(rows: list[bytes], secret: bytes, offset: int) -> list[bytes]:
    return _blind_rows(rows, secret, offset)


def _blind_rows(rows: list[bytes], secret: bytes, offset: int) -> list[bytes]:
    """X25519 of each (canonical, already checked) row; libsodium refuses small-order points."""
    multiply = bindings.crypto_scalarmult
    try:
        return [multiply(secret, row) for row in rows]
    except exceptions.RuntimeError:
        pass
    # Rare path: find the refused row to name it.
    for index, row in enumerate(rows):
        try:
            multiply(secret, row)
        except exceptions.RuntimeError:
            raise InvalidPointError(f"row {offset + index} is a point of small order") from None
    raise InvalidPointError(f"a point of small order in rows {offset} to {offset + len(rows) - 1}")


def _map_chunks(
    function: Callable[[Any, bytes, int], list[bytes]], chunks: list[list[Any]], secret: bytes, workers: int
) -> list[bytes]:
    offsets = np.cumsum([0] + [len(chunk) for chunk in chunks[:-1]]).tolist()
    try:
        # The workers (and the fork server) end with this process, even when it is killed. The fork server
        # imports this module (numpy, libsodium) once, so each worker forks ready to run (~0.5 s less each).
        pool = process_guard.guarded_process_pool(min(workers, len(chunks)), preload=("__main__", __name__))
        with pool:
            futures = [
                pool.submit(function, chunk, secret, offset)
                for chunk, offset in zip(chunks, offsets, strict=True)
            ]
            result: list[bytes] = []
            for future in futures:
                result.extend(future.result())
            return result
    except BrokenProcessPool:
        # Workers that cannot start (e.g. an unimportable __main__) must not fail the computation.
        _log.warning("process pool broke; computing %d chunks in this process", len(chunks), exc_info=True)
        return [
            row
            for chunk, offset in zip(chunks, offsets, strict=True)
            for row in function(chunk, secret, offset)
        ]


def _split(items: list[Any], workers: int, pool_min_items: int) -> list[list[Any]]:
    """One chunk (inline) for small inputs or a single worker; else about CHUNKS_PER_WORKER per worker."""
    if workers <= 1 or len(items) < max(pool_min_items, 2):
        return [items]
    count = min(len(items), workers * CHUNKS_PER_WORKER)
    size = -(-len(items) // count)
    return [items[start : start + size] for start in range(0, len(items), size)]


def _worker_count(workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) != SCALAR_BYTES or secret == _ZERO_SCALAR:
        raise ValueError(f"secret must be a non-zero {SCALAR_BYTES}-byte scalar")


def _points_bytes(points: np.ndarray) -> list[bytes]:
    """The rows as 32-byte strings, after checking shape, dtype and that every row is canonical."""
    keys = _as_keys(points)
    _check_canonical(keys.view(np.uint8).reshape(-1, POINT_BYTES))
    return keys.tolist()


def _check_canonical(points: np.ndarray) -> None:
    """Refuse rows whose little-endian value is not below p = 2^255 - 19 (top bit set, or p <= u < 2^255).

    X25519 would accept them (masking the top bit, reducing mod p), but then a point has several encodings.
    p is ``ed ff .. ff 7f`` in little-endian bytes, so only rows whose last byte is 0x7f need a closer look.
    """
    last = points[:, POINT_BYTES - 1]
    bad = last > 0x7F
    edge = np.flatnonzero(last == 0x7F)
    if edge.size:
        candidates = points[edge]
        bad[edge] = np.all(candidates[:, 1 : POINT_BYTES - 1] == 0xFF, axis=1) & (candidates[:, 0] >= 0xED)
    rows = np.flatnonzero(bad)
    if rows.size:
        raise InvalidPointError(f"row {int(rows[0])} is not a canonical encoding (u >= 2^255 - 19)")


def _as_keys(points: np.ndarray) -> np.ndarray:
    """View each 32-byte row as one opaque value (np.void), comparable and sortable as bytes."""
    return np.ascontiguousarray(check_points(points)).view(_POINT_DTYPE).reshape(-1)


def _to_array(rows: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), POINT_BYTES).copy()
