"""Fixed-point encoding of numbers into the Paillier plaintext space Z_n, and packing of small integers.

Encoding: a value x at scale s (``s`` fractional bits) is the integer ``m = round(x * 2**s)``; a negative m is
stored as ``n - |m|``. Integer inputs (0/1 labels, counts) are encoded at scale 0 and stay exact. Only
``|m| <= max_int = n // 3`` is encodable; on decoding, residues above ``n // 2`` are negative and residues
whose magnitude exceeds ``max_int`` are refused as an overflow (a sum or product wrapped around n).

Packing: k non-negative integers below ``2**slot_bits`` are stored in one plaintext as
``v_0 + v_1 * 2**slot_bits + ... + v_{k-1} * 2**((k-1) * slot_bits)``; ``k * slot_bits`` must stay below the
bit length of n, so the packed value is always below n. Homomorphic additions add slot-wise, so
``slot_bits`` must leave room for the largest value after every addition the protocol performs (no carry
may cross a slot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_PRECISION_BITS = 32
# Encoded magnitudes beyond this fraction of n are refused, so a sum of two encodable values never wraps.
_MAX_INT_DIVISOR = 3
_INT64_LIMIT = 2**63


def max_int(n: int) -> int:
    """The largest magnitude of an encoded integer for modulus n."""
    return n // _MAX_INT_DIVISOR


def default_scale(values: np.ndarray, precision_bits: int) -> int:
    """Scale 0 for integer and boolean arrays (exact), else ``precision_bits``."""
    return 0 if is_integer_array(values) else precision_bits


def is_integer_array(values: np.ndarray) -> bool:
    return values.dtype.kind in "biu" or (values.dtype == object and _all_python_ints(values))


def scaled_integers(values: np.ndarray, scale: int) -> list[int]:
    """``round(x * 2**scale)`` for each value, as exact Python ints (signed).

    Raises:
        ValueError: A value is NaN or infinite, or the array is not numeric.
    """
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    flat = np.asarray(values).reshape(-1)
    if is_integer_array(flat):
        return [int(v) << scale for v in flat.tolist()]
    if flat.dtype.kind != "f":
        raise ValueError(f"cannot encode values of dtype {flat.dtype}")
    if not bool(np.all(np.isfinite(flat))):
        raise ValueError("cannot encode NaN or infinite values")
    # Scaling by a power of two is exact in floating point unless it overflows; rint then rounds to the grid.
    with np.errstate(over="ignore"):
        scaled = np.rint(flat.astype(np.float64) * np.float64(2.0) ** scale)
    if bool(np.all(np.abs(scaled) < 2.0**62)):
        return scaled.astype(np.int64).tolist()  # type: ignore[no-any-return]
    if not bool(np.all(np.isfinite(scaled))):
        return [_exact_scaled(float(v), scale) for v in flat.tolist()]
    return [int(v) for v in scaled.tolist()]  # int(float) is exact for integral floats


def encode(values: np.ndarray, n: int, scale: int) -> list[int]:
    """Encode values at ``scale`` into residues mod n (negatives as ``n - |m|``).

    Raises:
        ValueError: A value is NaN/infinite or of a non-numeric dtype.
        OverflowError: An encoded magnitude exceeds ``max_int(n)``.
    """
    limit = max_int(n)
    ints = scaled_integers(values, scale)
    if ints and (max(ints) > limit or -min(ints) > limit):
        raise OverflowError(f"a value does not fit the plaintext space at scale {scale}")
    return [m if m >= 0 else n + m for m in ints]


def encode_scalar(value: float | int, scale: int) -> int:
    """``round(value * 2**scale)`` as a signed Python int (a plaintext multiplier, not reduced mod n)."""
    return scaled_integers(np.asarray([value]), scale)[0]


def decode(plaintexts: list[int], n: int, scale: int) -> np.ndarray:
    """Residues mod n back to numbers: int64 at scale 0 (object dtype if beyond int64), else float64.

    Raises:
        OverflowError: A residue lies between ``max_int`` and ``n - max_int``: an operation wrapped around n.
    """
    limit = max_int(n)
    signed = [m if m <= limit else m - n for m in plaintexts]
    if signed and (max(signed) > limit or -min(signed) > limit):
        raise OverflowError("a decrypted value overflowed the plaintext space")
    if scale == 0:
        if not signed or (max(signed) < _INT64_LIMIT and min(signed) >= -_INT64_LIMIT):
            return np.asarray(signed, dtype=np.int64)
        return np.asarray(signed, dtype=object)
    denominator = 1 << scale
    # int / int is correctly rounded in Python, even for values far beyond float range before scaling.
    return np.asarray([m / denominator for m in signed], dtype=np.float64)


def slots_per_plaintext(n: int, slot_bits: int) -> int:
    """How many ``slot_bits``-bit slots fit below n (the packed value must stay below n)."""
    if slot_bits < 1:
        raise ValueError(f"slot_bits must be >= 1, got {slot_bits}")
    slots = (int(n).bit_length() - 1) // slot_bits
    if slots < 1:
        raise ValueError(f"slot_bits {slot_bits} does not fit a {int(n).bit_length()}-bit modulus")
    return slots


def pack(values: np.ndarray, slot_bits: int, slots: int) -> list[int]:
    """Pack non-negative integers below ``2**slot_bits``, ``slots`` per output integer (slot 0 lowest).

    Raises:
        ValueError: Not integers, or negative.
        OverflowError: A value needs more than ``slot_bits`` bits.
    """
    flat = np.asarray(values).reshape(-1)
    if not is_integer_array(flat):
        raise ValueError("only integer arrays can be packed; add an offset and scale floats first")
    ints = [int(v) for v in flat.tolist()]
    if ints and min(ints) < 0:
        raise ValueError("packed values must be non-negative (add a known offset first)")
    if ints and max(ints) >> slot_bits:
        raise OverflowError(f"a value does not fit {slot_bits} bits")
    packed = []
    for start in range(0, len(ints), slots):
        word = 0
        for value in reversed(ints[start : start + slots]):
            word = (word << slot_bits) | value
        packed.append(word)
    return packed


def unpack(packed: list[int], slot_bits: int, slots: int, count: int) -> list[int]:
    """The first ``count`` slot values of the packed integers (inverse of ``pack``)."""
    if count > len(packed) * slots:
        raise ValueError(f"{len(packed)} packed integers hold at most {len(packed) * slots} values")
    mask = (1 << slot_bits) - 1
    values: list[int] = []
    for word in packed:
        word = int(word)
        for _ in range(slots):
            values.append(word & mask)
            word >>= slot_bits
    return values[:count]


def int_array(values: list[int]) -> np.ndarray:
    """int64 when every value fits, else an object array of Python ints."""
    if not values or (max(values) < _INT64_LIMIT and min(values) >= -_INT64_LIMIT):
        return np.asarray(values, dtype=np.int64)
    return np.asarray(values, dtype=object)


@dataclass(frozen=True)
class PackingLayout:
    """How values were packed (by ``encrypt_packed`` or ``pack_ciphertexts``), to unpack after decryption.

    Attributes:
        count: Number of packed values.
        slot_bits: Bits per slot.
        slots: Slots per ciphertext.
        scale: Fixed-point scale of the values (0 for integers).
        offset: The encoded offset (``round(offset * 2**scale)``) that was added to every value.
    """

    count: int
    slot_bits: int
    slots: int
    scale: int
    offset: int

    def decode(self, packed_plaintexts: list[int]) -> np.ndarray:
        """Slot values minus the offset, scaled back: int array at scale 0, else float64."""
        limit = 1 << (self.slot_bits * self.slots)
        if any(word >= limit for word in packed_plaintexts):
            raise OverflowError("a packed value was out of its slot range (negative, or a carry)")
        raw = unpack(packed_plaintexts, self.slot_bits, self.slots, self.count)
        shifted = [value - self.offset for value in raw]
        if self.scale == 0:
            return int_array(shifted)
        denominator = 1 << self.scale
        return np.asarray([value / denominator for value in shifted], dtype=np.float64)


def _all_python_ints(values: np.ndarray) -> bool:
    return all(isinstance(v, int | np.integer) for v in values.reshape(-1).tolist())


def _exact_scaled(value: float, scale: int) -> int:
    """``round(value * 2**scale)`` for floats whose scaled value overflows float64 (exact via ratios)."""
    numerator, denominator = value.as_integer_ratio()  # denominator is a power of two
    scaled = numerator << scale
    quotient, remainder = divmod(scaled, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient & 1):
        quotient += 1  # round half to even, as np.rint does
    return quotient
