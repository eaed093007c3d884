"""Secure aggregation by pairwise masks (pure, no I/O): the server learns only the sum of the clients' values.

Every pair of clients (i, j) agrees on a secret seed by X25519 (a fresh key pair per pair and training,
the public halves sent directly between the two clients, never through the server) and HKDF-SHA256 over
the shared secret and a context naming the pair and the training. Each seed keys a ChaCha20 stream; the
mask of round r is the keystream under the nonce (r, purpose), read as unsigned 64-bit integers.

Values travel as fixed-point integers modulo 2^64: ``encode(v) = round(v * 2^FRACTION_BITS) mod 2^64``.
Client i sends ``encode(v_i) + sum_{j > i} m_ij - sum_{j < i} m_ij (mod 2^64)``; both ends of a pair draw
the same m_ij with opposite signs, so in the server's sum every mask cancels exactly (ring arithmetic, no
rounding), and ``decode(sum)`` is the sum of the encoded values. Each mask is uniform on Z_2^64, so a masked
vector alone is uniformly distributed: with two or more clients, whoever lacks the seeds of a client's
pairs learns nothing about its vector from it (a one-time pad), only the sum.

FATE masks floats with ±1e7 noise drawn from a ChaCha20 stream seeded by the raw shared secret (statistical
hiding over the reals); the ring here hides perfectly and cancels exactly. A client that does not send its
masked vector leaves masks in the sum that nobody can remove: as in FATE, there is no dropout recovery, and
the caller must fail the round naming the missing client.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

Ring = npt.NDArray[np.uint64]
PUBLIC_KEY_BYTES = 32
SEED_BYTES = 32
# 2^-40 ~ 9e-13 resolution; values up to 2^22 (~4e6) in magnitude, far beyond a model's weights or a loss.
FRACTION_BITS = 40
MAX_MAGNITUDE = float(2 ** (62 - FRACTION_BITS))
HKDF_LABEL = b"fate-grpc/secure-aggregation/v1\x00"
_FIELD_PRIME = 2**255 - 19
# Distinct streams per purpose under one seed: the nonce is (purpose, round).
PURPOSES = {"model": 1, "loss": 2}


class SecureAggregationError(ValueError):
    """A value out of the fixed-point range, a malformed public key or masked vector."""


@dataclass(frozen=True)
class KeyPair:
    """One client's X25519 key pair for one peer."""

    private: X25519PrivateKey
    public: bytes

    @classmethod
    def new(cls) -> KeyPair:
        private = X25519PrivateKey.generate()
        return cls(private, private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def pair_seed(own: KeyPair, peer_public: bytes, context: bytes) -> bytes:
    """The seed both ends of a pair derive: HKDF-SHA256(X25519(own, peer), info = label || context).

    Args:
        context: Names the pair (in an order both ends agree on) and the training, so seeds never repeat
            across pairs or trainings even if a key were reused.

    Raises:
        SecureAggregationError: The peer's key is not 32 bytes, not canonical, or of small order.
    """
    if len(peer_public) != PUBLIC_KEY_BYTES:
        raise SecureAggregationError(f"a public key has {PUBLIC_KEY_BYTES} bytes, got {len(peer_public)}")
    if int.from_bytes(peer_public, "little") >= _FIELD_PRIME:
        raise SecureAggregationError("the peer's public key is not a canonical X25519 point")
    try:
        shared = own.private.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except ValueError:
        raise SecureAggregationError("the peer's public key is a small-order point") from None
    if shared == bytes(len(shared)):
        raise SecureAggregationError("the peer's public key is a small-order point")
    return HKDF(algorithm=hashes.SHA256(), length=SEED_BYTES, salt=None, info=HKDF_LABEL + context).derive(
        shared
    )


def mask_stream(seed: bytes, round_number: int, purpose: str, count: int) -> Ring:
    """``count`` uniform values of Z_2^64 from the ChaCha20 stream of (seed, purpose, round)."""
    if len(seed) != SEED_BYTES:
        raise SecureAggregationError(f"a seed has {SEED_BYTES} bytes, got {len(seed)}")
    if not 0 <= round_number < 2**64:
        raise SecureAggregationError(f"round {round_number} is out of range")
    # cryptography's 16-byte ChaCha20 nonce: a 32-bit block counter (0), then 96 bits of nonce.
    nonce = bytes(4) + PURPOSES[purpose].to_bytes(4, "little") + round_number.to_bytes(8, "little")
    encryptor = Cipher(algorithms.ChaCha20(seed, nonce), mode=None).encryptor()
    keystream = encryptor.update(bytes(8 * count))
    return np.frombuffer(keystream, dtype="<u8").astype(np.uint64)


def encode(values: npt.ArrayLike) -> Ring:
    """Fixed-point encoding modulo 2^64 of finite values with magnitude below ``MAX_MAGNITUDE``.

    Raises:
        SecureAggregationError: A value is not finite or too large (its index is named).
    """
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(array) | (np.abs(array) >= MAX_MAGNITUDE))
    if bad.size:
        index = int(bad[0])
        raise SecureAggregationError(
            f"value {index} ({array[index]!r}) cannot be aggregated: it must be finite with magnitude"
            f" below {MAX_MAGNITUDE:g}"
        )
    return np.rint(array * 2.0**FRACTION_BITS).astype(np.int64).view(np.uint64)


def decode(ring: Ring) -> npt.NDArray[np.float64]:
    """The signed values a sum of encodings stands for."""
    return np.asarray(ring, dtype=np.uint64).view(np.int64).astype(np.float64) / 2.0**FRACTION_BITS


def mask(
    values: npt.ArrayLike,
    own_rank: int,
    seeds: Mapping[int, bytes],
    round_number: int,
    purpose: str,
) -> Ring:
    """The masked encoding client ``own_rank`` sends: ``encode(values) + sum_{j>i} m_ij - sum_{j<i} m_ij``.

    Args:
        seeds: The seed shared with each other client, by that client's rank.
    """
    masked = encode(values)
    with np.errstate(over="ignore"):
        for peer, seed in sorted(seeds.items()):
            if peer == own_rank:
                raise SecureAggregationError("a client has no seed with itself")
            stream = mask_stream(seed, round_number, purpose, masked.size)
            masked = masked + stream if peer > own_rank else masked - stream
    return masked


def unmasked_sum(masked: Sequence[Ring], length: int) -> npt.NDArray[np.float64]:
    """The sum of every client's values from their masked vectors (all of them, or the masks remain).

    Raises:
        SecureAggregationError: A vector is not ``length`` unsigned 64-bit values.
    """
    total = np.zeros(length, dtype=np.uint64)
    for index, vector in enumerate(masked):
        array = np.asarray(vector)
        if array.dtype != np.uint64 or array.shape != (length,):
            raise SecureAggregationError(
                f"masked vector {index} must be {length} uint64 values, got {array.shape} {array.dtype}"
            )
        with np.errstate(over="ignore"):
            total = total + array
    return decode(total)


def rounding_bound(clients: int, magnitude: float) -> float:
    """How far a decoded sum of magnitude ``magnitude`` may lie from the exact sum of ``clients`` values:
    half a unit of the fixed point per client, plus the float64 rounding of the decoded value."""
    return clients * 2.0 ** -(FRACTION_BITS + 1) + 2.0 * math.ulp(max(magnitude, 1.0))
