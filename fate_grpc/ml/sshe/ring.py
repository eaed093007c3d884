"""Fixed-point numbers in the ring Z_2^128, additively shared between two parties (the guest is party 0).

A real x is encoded as ``round(x * 2^32) mod 2^128``; a value is held as two shares ``a + b = x (mod 2^128)``,
each uniformly distributed on its own. Shares are numpy object arrays of Python ints in ``[0, 2^128)``.

Plaintext features multiplying shares are encoded with 24 fractional bits (``FEATURE_BITS``, FATE's
precision), so a product carries 56 fractional bits until each party truncates its own share locally
(SecureML's two-party truncation). Why 128 bits and 32 fractional bits for shared values (FATE uses 64 and
24 for everything): the truncation is exact to one unit in the last place except when a share lies within
``|x| * 2^56`` of the wrap-around, which happens with probability about ``|x| * 2^56 / 2^128``: below
2^-47 for values under 2^24, where FATE's 64-bit ring fails with probability about ``|x| * 2^-15`` per
element (a few elements per epoch on 30,000 rows, each wrecking the gradient).

A truncated share is no longer uniform on the whole ring: party 0's lies in ``[0, 2^104)`` (``[0, 2^72)``
after a public factor), party 1's just below 2^128; it still hides values of up to 2^32 encoded units
with a margin of 2^40, and the protocol only sends such shares encrypted.

Everything here is local arithmetic: no message, no randomness beyond the operating system's.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np
import numpy.typing as npt

RING_BITS = 128
MODULUS = 1 << RING_BITS
FRACTION_BITS = 32
# Fractional bits of the plaintext features multiplying shares or ciphertexts (FATE's 24): each bit fewer
# is one bit less of every exponent in the homomorphic products.
FEATURE_BITS = 24
_HALF = MODULUS >> 1
# Extra fractional bits of a public factor (e.g. learning_rate / batch rows), truncated after the product.
FACTOR_EXTRA_BITS = 24
# Encoded features and other plaintext multipliers must stay below this magnitude (int64 exponents).
MAX_ENCODED = 2**62

Shares = npt.NDArray[np.object_]


def encode(values: npt.ArrayLike, bits: int = FRACTION_BITS) -> Shares:
    """``round(x * 2^bits) mod 2^128`` for each real x (the public encoding, a share of a party alone)."""
    array = np.asarray(values, dtype=np.float64)
    if not bool(np.all(np.isfinite(array))):
        raise ValueError("cannot encode NaN or infinite values")
    scaled = np.rint(array * 2.0**bits)
    flat = [int(v) % MODULUS for v in scaled.reshape(-1).tolist()]
    return _objects(flat).reshape(array.shape)


def decode(values: Shares, bits: int = FRACTION_BITS) -> npt.NDArray[np.float64]:
    """The reals of ring elements (the upper half of the ring holds the negatives)."""
    flat = [signed(int(v)) / 2.0**bits for v in np.asarray(values, dtype=object).reshape(-1).tolist()]
    return np.asarray(flat, dtype=np.float64).reshape(np.shape(values))


def signed(value: int) -> int:
    """The integer in ``[-2^127, 2^127)`` congruent to ``value``."""
    value %= MODULUS
    return value - MODULUS if value >= _HALF else value


def encode_integers(values: npt.ArrayLike, bits: int = FEATURE_BITS) -> npt.NDArray[np.int64]:
    """``round(x * 2^bits)`` as int64 for a plaintext matrix multiplying shares or ciphertexts.

    Raises:
        ValueError: NaN/infinite values, or a magnitude of 2^62 or more after encoding.
    """
    array = np.asarray(values, dtype=np.float64)
    if not bool(np.all(np.isfinite(array))):
        raise ValueError("cannot encode NaN or infinite values")
    scaled = np.rint(array * 2.0**bits)
    if scaled.size and float(np.abs(scaled).max()) >= MAX_ENCODED:
        raise ValueError(f"a value of magnitude {float(np.abs(array).max()):g} is too large to encode")
    return scaled.astype(np.int64)


def random_elements(shape: int | tuple[int, ...]) -> Shares:
    """Uniform ring elements from the operating system's randomness."""
    size = int(np.prod(shape))
    return _objects([secrets.randbits(RING_BITS) for _ in range(size)]).reshape(shape)


def split(values: Shares) -> tuple[Shares, Shares]:
    """Two shares of ``values``: (the owner's, the peer's). The peer's is uniform and independent."""
    theirs = random_elements(np.shape(values))
    return sub(values, theirs), theirs


def add(a: Shares, b: Shares) -> Shares:
    return _reduce(np.asarray(a, dtype=object) + np.asarray(b, dtype=object))


def sub(a: Shares, b: Shares) -> Shares:
    return _reduce(np.asarray(a, dtype=object) - np.asarray(b, dtype=object))


def reconstruct(a: Shares, b: Shares, bits: int = FRACTION_BITS) -> npt.NDArray[np.float64]:
    """The reals two shares stand for."""
    return decode(add(a, b), bits)


def matvec(matrix: npt.NDArray[np.int64], share: Shares) -> Shares:
    """``matrix @ share mod 2^128`` for a plaintext integer matrix (e.g. encoded features)."""
    return _reduce(np.asarray(matrix).astype(object) @ np.asarray(share, dtype=object))


def transpose_matvec(matrix: npt.NDArray[np.int64], share: Shares) -> Shares:
    """``matrix^T @ share mod 2^128``."""
    return _reduce(np.asarray(matrix).astype(object).T @ np.asarray(share, dtype=object))


def dot(a: Shares, b: Shares) -> int:
    """``sum(a * b) mod 2^128`` of two vectors of ring elements (one party's own shares)."""
    total = sum(int(x) * int(y) for x, y in zip(a.tolist(), b.tolist(), strict=True))
    return total % MODULUS


def truncate(share: Shares, bits: int, *, first: bool) -> Shares:
    """This party's share of ``x / 2^bits`` from its share of x (SecureML's local truncation).

    Party 0 (``first``) shifts its share; party 1 shifts the negation of its share and negates back. The
    result is ``floor(x / 2^bits)`` or one more, except with probability about ``|x| / 2^(127 - 1)``.
    """
    values = np.asarray(share, dtype=object)
    if first:
        return _reduce(values >> bits)
    return _reduce(-((-values % MODULUS) >> bits))


def multiply_public(
    share: Shares, factor: float, *, first: bool, extra_bits: int = FACTOR_EXTRA_BITS
) -> Shares:
    """This party's share of ``factor * x`` (x at FRACTION_BITS): the share times ``round(factor *
    2^(32 + extra_bits))``, truncated by ``32 + extra_bits`` (the extra bits keep small factors such as
    learning_rate / rows accurate)."""
    bits = FRACTION_BITS + extra_bits
    scaled = round(factor * 2.0**bits)
    return truncate(_reduce(np.asarray(share, dtype=object) * scaled), bits, first=first)


def _reduce(values: npt.NDArray[Any]) -> Shares:
    return np.asarray(values % MODULUS, dtype=object)


def _objects(items: list[int]) -> Shares:
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array
