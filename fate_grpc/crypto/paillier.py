"""Paillier additively homomorphic encryption over numpy vectors, for the hetero federated protocols.

Keys (defined in ``paillier_pool``, re-exported here; g = n + 1, p and q random primes of ``key_bits / 2``
bits, n exactly ``key_bits`` bits, ``key_bits`` >= 1024):
    ``generate_keypair(key_bits=1024) -> (PublicKey, PrivateKey)``
    ``PublicKey(n)``: ``n``, ``n2``, ``max_int``, ``key_bits``, ``encrypt_int(m) -> mpz``,
    ``obfuscators(count) -> list[mpz]``, ``to_bytes()``, ``PublicKey.from_bytes(data)``.
    ``PrivateKey(public_key, p, q)``: ``decrypt_int(c)`` (CRT), ``decrypt_int_naive(c)``,
    ``decrypt_ints(ciphertexts) -> list[mpz]``; ``p``, ``q``.

Vectors (``EncryptedVector(public_key, ciphertexts, scale)``, ciphertexts a list of gmpy2 mpz):
    ``encrypt(public_key, values, *, scale=None, precision_bits=32, executor=None, pool=None)``
    ``decrypt(private_key, vec, *, executor=None) -> np.ndarray`` (int64 at scale 0, else float64)
    ``vec + vec``, ``vec + array|scalar``, ``vec - ...``, ``-vec``, ``vec * array|scalar``, ``len(vec)``,
    ``vec.sum()``, ``vec.take(indices)``, ``vec.sum_by_group(group_ids, n_groups)``,
    ``vec.sum_by_groups(group_ids_2d, n_groups)`` (feature-major: entry ``f * n_groups + b``),
    ``vec.rerandomize()``, ``vec.at_scale(scale)``, ``EncryptedVector.concat(vectors)``,
    ``vec.to_bytes()``, ``EncryptedVector.from_bytes(public_key, data)``.
Packing (``PackingLayout`` from fixedpoint describes the slots):
    ``encrypt_packed(public_key, int_values, slot_bits) -> (EncryptedVector, PackingLayout)``: plaintext
    packing.
    ``pack_ciphertexts(vec, slot_bits, *, offset=0) -> (EncryptedVector, PackingLayout)``: folds
    ``slots`` ciphertexts into one as ``c_0 * c_1^(2^slot_bits) * ...``; every ``value + offset`` (at the
    vector's scale) must lie in ``[0, 2^slot_bits)``, so callers with negative values pass a known offset.
    ``decrypt_packed(private_key, vec, layout) -> np.ndarray``: values (offset removed, scale applied).

Scale: a vector's ``scale`` is its number of fractional bits. Integer inputs encode at scale 0 (exact), floats
at ``precision_bits`` (default 32); ``ct * float`` adds ``precision_bits`` to the scale; adding vectors of
different scales first raises the lower one (``c^(2^d)``). Decoding refuses results that wrapped around n.

Privacy of results: ``sum``, ``sum_by_group(s)`` and ``pack_ciphertexts`` re-randomise their outputs with
fresh obfuscators by default. Without that, a one-row group would return the exact ciphertext the key owner
sent and reveal which row fell in that bin, and an empty group would be the constant 1. Results of ``+``,
``*`` or ``take`` are not re-randomised: call ``rerandomize()`` before they leave the party.

Speed: obfuscators come from a per-process fixed-base table (DJN, exponent of half the modulus bits; the
security argument is in ``paillier_pool``); decryption uses the CRT; vectors of at least
``PARALLEL_MIN_ITEMS`` are encrypted/decrypted in chunks on a caller-owned executor
(``make_executor(workers, kind="process"|"thread")``); an ``ObfuscatorPool(n)`` filled ahead of time
(``pool.fill(count, executor=None)``) leaves one multiplication per encryption.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import TypeVar

import gmpy2
import numpy as np
from gmpy2 import mpz

from fate_grpc.crypto import fixedpoint
from fate_grpc.crypto.fixedpoint import DEFAULT_PRECISION_BITS, PackingLayout
from fate_grpc.crypto.paillier_pool import (
    MIN_KEY_BITS,
    ObfuscatorPool,
    PrivateKey,
    PublicKey,
    decrypt_chunk,
    encrypt_chunk,
    encrypt_ints,
    fixed_base,
    from_fixed_bytes,
    generate_keypair,
    make_executor,
    map_chunks,
    split,
    to_fixed_bytes,
)

__all__ = [
    "DEFAULT_PRECISION_BITS",
    "MIN_KEY_BITS",
    "PARALLEL_MIN_ITEMS",
    "EncryptedVector",
    "ObfuscatorPool",
    "PackingLayout",
    "PrivateKey",
    "PublicKey",
    "decrypt",
    "decrypt_packed",
    "decrypt_residues",
    "encrypt",
    "encrypt_packed",
    "generate_keypair",
    "make_executor",
    "pack_ciphertexts",
]

PARALLEL_MIN_ITEMS = 1000  # below this, work stays in the calling thread (task round trips cost more)
_VERSION = 1
_VECTOR_MAGIC = b"PAIV"
_VECTOR_HEADER = struct.Struct(">4sBHQH")  # magic, version, ciphertext width, count, scale

Plaintext = np.ndarray | Sequence[float] | int | float
_Item = TypeVar("_Item")


class EncryptedVector:
    """Paillier ciphertexts of one fixed-point vector: values are ``decoded(residue) / 2**scale``."""

    __slots__ = ("ciphertexts", "public_key", "scale")
    # Make numpy defer to our reflected operators: ``array + vec`` must call ``vec.__radd__(array)`` rather
    # than build an object array of one-element sums.
    __array_ufunc__ = None

    def __init__(self, public_key: PublicKey, ciphertexts: list[mpz], scale: int = 0) -> None:
        if scale < 0:
            raise ValueError(f"scale must be >= 0, got {scale}")
        self.public_key = public_key
        self.ciphertexts = ciphertexts
        self.scale = scale

    def __len__(self) -> int:
        return len(self.ciphertexts)

    def __repr__(self) -> str:
        return f"EncryptedVector(len={len(self)}, scale={self.scale}, {self.public_key!r})"

    def __add__(self, other: EncryptedVector | Plaintext) -> EncryptedVector:
        return self.add(other)

    __radd__ = __add__

    def __neg__(self) -> EncryptedVector:
        n2 = self.public_key.n2
        return self._derived([gmpy2.invert(c, n2) for c in self.ciphertexts], self.scale)

    def __sub__(self, other: EncryptedVector | Plaintext) -> EncryptedVector:
        if isinstance(other, EncryptedVector):
            return self.add(-other)
        values = np.asarray(other)
        if values.dtype.kind in "ub":  # negating unsigned or boolean arrays would wrap or fail
            values = values.astype(object)
        return self.add(-values)

    def __rsub__(self, other: Plaintext) -> EncryptedVector:
        return (-self).add(other)

    def __mul__(self, other: Plaintext) -> EncryptedVector:
        return self.mul(other)

    __rmul__ = __mul__

    def add(
        self, other: EncryptedVector | Plaintext, *, precision_bits: int = DEFAULT_PRECISION_BITS
    ) -> EncryptedVector:
        """Elementwise sum with another vector (same key and length) or a plaintext array or scalar.

        Float plaintexts are encoded at ``max(self.scale, precision_bits)``, integers at ``self.scale``.
        """
        n, n2 = self.public_key.n, self.public_key.n2
        if isinstance(other, EncryptedVector):
            self._check_compatible(other)
            target = max(self.scale, other.scale)
            left, right = self.at_scale(target).ciphertexts, other.at_scale(target).ciphertexts
            return self._derived([a * b % n2 for a, b in zip(left, right, strict=True)], target)
        values = self._plaintext(other)
        target = self.scale if fixedpoint.is_integer_array(values) else max(self.scale, precision_bits)
        # g^m = 1 + m n mod n^2, computed once per distinct plaintext element (once for a scalar).
        shifts = self._spread([n * m + 1 for m in fixedpoint.encode(values, int(n), target)])
        base = self.at_scale(target).ciphertexts
        return self._derived([c * s % n2 for c, s in zip(base, shifts, strict=True)], target)

    def mul(self, other: Plaintext, *, precision_bits: int = DEFAULT_PRECISION_BITS) -> EncryptedVector:
        """Elementwise product with a plaintext array or scalar: ``c^k``; floats add ``precision_bits`` to the
        scale, integers multiply exactly. Negative k uses the inverse of c (gmpy2 powmod), not ``n - |k|``.
        """
        values = self._plaintext(other)
        factor_scale = 0 if fixedpoint.is_integer_array(values) else precision_bits
        factors = self._spread(fixedpoint.scaled_integers(values, factor_scale))
        n2 = self.public_key.n2
        products = [gmpy2.powmod(c, k, n2) for c, k in zip(self.ciphertexts, factors, strict=True)]
        return self._derived(products, self.scale + factor_scale)

    def at_scale(self, scale: int) -> EncryptedVector:
        """The same values at a higher scale (each plaintext times ``2^(scale - self.scale)``)."""
        if scale == self.scale:
            return self
        if scale < self.scale:
            raise ValueError(f"cannot lower the scale from {self.scale} to {scale} without the private key")
        shift, n2 = mpz(1) << (scale - self.scale), self.public_key.n2
        return self._derived([gmpy2.powmod(c, shift, n2) for c in self.ciphertexts], scale)

    def sum(self, *, rerandomize: bool = True) -> EncryptedVector:
        """A one-element vector encrypting the sum of all elements."""
        n2 = self.public_key.n2
        total = mpz(1)
        for c in self.ciphertexts:
            total = total * c % n2
        return self._result([total], rerandomize)

    def take(self, indices: np.ndarray | Sequence[int]) -> EncryptedVector:
        """Elements at ``indices`` (ints in ``[0, len)``, or a boolean mask of length ``len``)."""
        index = np.asarray(indices)
        if index.dtype == bool:
            if index.shape != (len(self),):
                raise ValueError(f"mask of shape {index.shape} for a vector of length {len(self)}")
            index = np.flatnonzero(index)
        index = _check_ids(index, len(self), "index")
        cts = self.ciphertexts
        return self._derived([cts[i] for i in index.tolist()], self.scale)

    def sum_by_group(
        self, group_ids: np.ndarray, n_groups: int, *, rerandomize: bool = True
    ) -> EncryptedVector:
        """Per-group sums: element g encrypts the sum of values whose ``group_ids`` is g (0 if none).

        Raises:
            ValueError: ``group_ids`` is not a 1-D integer array of this vector's length with ids in
                ``[0, n_groups)``.
        """
        ids = _check_ids(np.asarray(group_ids), n_groups, "group id")
        if ids.shape != (len(self),):
            raise ValueError(f"group_ids of shape {ids.shape} for a vector of length {len(self)}")
        return self._result(self._group_products(ids.tolist(), n_groups), rerandomize)

    def sum_by_groups(
        self, group_ids_2d: np.ndarray, n_groups: int, *, rerandomize: bool = True
    ) -> EncryptedVector:
        """``sum_by_group`` for every column of a ``(len, n_features)`` id array, concatenated feature-major:
        element ``f * n_groups + g`` is the sum of group g of feature f (reshape decrypted values to
        ``(n_features, n_groups)``).
        """
        ids = _check_ids(np.asarray(group_ids_2d), n_groups, "group id")
        if ids.ndim != 2 or ids.shape[0] != len(self):
            raise ValueError(f"group ids of shape {ids.shape} for a vector of length {len(self)}")
        sums: list[mpz] = []
        for column in ids.T:
            sums.extend(self._group_products(column.tolist(), n_groups))
        return self._result(sums, rerandomize)

    def rerandomize(self) -> EncryptedVector:
        """The same plaintexts under fresh obfuscators (unlinkable to these ciphertexts)."""
        n2 = self.public_key.n2
        noise = self.public_key.obfuscators(len(self))
        return self._derived([c * r % n2 for c, r in zip(self.ciphertexts, noise, strict=True)], self.scale)

    @staticmethod
    def concat(vectors: Sequence[EncryptedVector]) -> EncryptedVector:
        """One vector of all elements, at the highest scale among the inputs."""
        if not vectors:
            raise ValueError("nothing to concatenate")
        first = vectors[0]
        target = max(v.scale for v in vectors)
        joined: list[mpz] = []
        for vec in vectors:
            first._check_key(vec)
            joined.extend(vec.at_scale(target).ciphertexts)
        return first._derived(joined, target)

    def to_bytes(self) -> bytes:
        """Header (magic, version, width, count, scale) then fixed-width big-endian ciphertexts."""
        width = self.public_key.width
        header = _VECTOR_HEADER.pack(_VECTOR_MAGIC, _VERSION, width, len(self), self.scale)
        return header + to_fixed_bytes(self.ciphertexts, width)

    @classmethod
    def from_bytes(cls, public_key: PublicKey, data: bytes) -> EncryptedVector:
        """Parse ``to_bytes`` output; ValueError on a bad header, length, scale or a ciphertext outside
        ``(0, n^2)``."""
        if len(data) < _VECTOR_HEADER.size:
            raise ValueError("encrypted vector bytes too short")
        magic, version, width, count, scale = _VECTOR_HEADER.unpack_from(data)
        if magic != _VECTOR_MAGIC or version != _VERSION:
            raise ValueError("not a version-1 encrypted vector")
        if width != public_key.width:
            raise ValueError(f"ciphertext width {width} does not match the key's {public_key.width}")
        if len(data) != _VECTOR_HEADER.size + count * width:
            raise ValueError(f"{len(data)} bytes do not hold {count} ciphertexts of {width} bytes")
        if scale > public_key.key_bits:
            raise ValueError(f"scale {scale} exceeds the plaintext size")
        ciphertexts = from_fixed_bytes(memoryview(data)[_VECTOR_HEADER.size :], width)
        n2 = public_key.n2
        for index, c in enumerate(ciphertexts):
            if not 0 < c < n2:
                raise ValueError(f"ciphertext {index} is outside (0, n^2)")
        return cls(public_key, ciphertexts, scale)

    def _derived(self, ciphertexts: list[mpz], scale: int) -> EncryptedVector:
        return EncryptedVector(self.public_key, ciphertexts, scale)

    def _result(self, ciphertexts: list[mpz], rerandomize: bool) -> EncryptedVector:
        vec = self._derived(ciphertexts, self.scale)
        return vec.rerandomize() if rerandomize else vec

    def _group_products(self, ids: list[int], n_groups: int) -> list[mpz]:
        n2 = self.public_key.n2
        sums = [mpz(1)] * n_groups
        for c, group in zip(self.ciphertexts, ids, strict=True):
            sums[group] = sums[group] * c % n2
        return sums

    def _plaintext(self, other: Plaintext) -> np.ndarray:
        """``other`` as a 1-D array: a scalar becomes one element (see ``_spread``), else ``len(self)``."""
        values = np.asarray(other)
        if values.ndim == 0:
            return values.reshape(1)
        if values.shape != (len(self),):
            raise ValueError(f"plaintext of shape {values.shape} for a vector of length {len(self)}")
        return values

    def _spread(self, items: list[_Item]) -> list[_Item]:
        """Repeat a scalar's single encoded item for every element; arrays pass through."""
        return items * len(self) if len(items) == 1 and len(self) != 1 else items

    def _check_key(self, other: EncryptedVector) -> None:
        if other.public_key != self.public_key:
            raise ValueError("vectors are encrypted under different keys")

    def _check_compatible(self, other: EncryptedVector) -> None:
        self._check_key(other)
        if len(other) != len(self):
            raise ValueError(f"vectors of lengths {len(self)} and {len(other)}")


def encrypt(
    public_key: PublicKey,
    values: np.ndarray | Sequence[float],
    *,
    scale: int | None = None,
    precision_bits: int = DEFAULT_PRECISION_BITS,
    executor: Executor | None = None,
    pool: ObfuscatorPool | None = None,
    parallel_min_items: int = PARALLEL_MIN_ITEMS,
) -> EncryptedVector:
    """Encrypt a 1-D array: integers at scale 0 (exact), floats at ``precision_bits``; or at ``scale``.

    With ``pool``, obfuscators come from it (precomputed); else with ``executor`` and at least
    ``parallel_min_items`` values, chunks are encrypted on the executor; else in this thread.

    Raises:
        ValueError: Not 1-D, NaN/infinite, or non-numeric values.
        OverflowError: A value too large for the plaintext space at this scale.
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D array, got shape {array.shape}")
    chosen = fixedpoint.default_scale(array, precision_bits) if scale is None else scale
    residues = fixedpoint.encode(array, int(public_key.n), chosen)
    return EncryptedVector(
        public_key, _encrypt_residues(public_key, residues, executor, pool, parallel_min_items), chosen
    )


def decrypt(
    private_key: PrivateKey,
    vec: EncryptedVector,
    *,
    executor: Executor | None = None,
    parallel_min_items: int = PARALLEL_MIN_ITEMS,
) -> np.ndarray:
    """Decrypt and decode: int64 at scale 0 (object dtype beyond int64), float64 otherwise.

    Raises:
        ValueError: The vector is under another key.
        OverflowError: A value wrapped around n (an operation overflowed).
    """
    residues = decrypt_residues(private_key, vec, executor=executor, parallel_min_items=parallel_min_items)
    return fixedpoint.decode(residues, int(private_key.public_key.n), vec.scale)


def decrypt_residues(
    private_key: PrivateKey,
    vec: EncryptedVector,
    *,
    executor: Executor | None = None,
    parallel_min_items: int = PARALLEL_MIN_ITEMS,
) -> list[int]:
    """The raw plaintext residues in [0, n), CRT-decrypted in chunks on ``executor`` for large vectors."""
    if vec.public_key != private_key.public_key:
        raise ValueError("the vector is encrypted under a different key")
    if executor is None or len(vec) < parallel_min_items:
        return [int(m) for m in private_key.decrypt_ints(vec.ciphertexts)]
    width = private_key.public_key.width
    blobs = [to_fixed_bytes(chunk, width) for chunk in split(vec.ciphertexts)]
    results = map_chunks(executor, decrypt_chunk, (private_key.p, private_key.q), blobs)
    return [m for chunk in results for m in chunk]


def encrypt_packed(
    public_key: PublicKey,
    values: np.ndarray,
    slot_bits: int,
    *,
    executor: Executor | None = None,
    parallel_min_items: int = PARALLEL_MIN_ITEMS,
) -> tuple[EncryptedVector, PackingLayout]:
    """Plaintext packing: non-negative integers below ``2^slot_bits``, as many per ciphertext as fit n.

    Leave headroom in ``slot_bits`` for any homomorphic additions of packed vectors (no carry may cross).
    """
    slots = fixedpoint.slots_per_plaintext(int(public_key.n), slot_bits)
    words = fixedpoint.pack(np.asarray(values), slot_bits, slots)
    ciphertexts = _encrypt_residues(public_key, words, executor, None, parallel_min_items)
    layout = PackingLayout(
        count=len(np.asarray(values).reshape(-1)), slot_bits=slot_bits, slots=slots, scale=0, offset=0
    )
    return EncryptedVector(public_key, ciphertexts, 0), layout


def pack_ciphertexts(
    vec: EncryptedVector, slot_bits: int, *, offset: int | float = 0
) -> tuple[EncryptedVector, PackingLayout]:
    """Fold ``slots`` ciphertexts into one, ``c_0 * c_1^(2^slot_bits) * c_2^(2^(2 slot_bits)) ...`` (Horner),
    so the key owner decrypts (and receives) ``slots`` times fewer ciphertexts. Outputs are re-randomised.

    Every encoded ``value + offset`` must lie in ``[0, 2^slot_bits)``; that cannot be checked under
    encryption, and ``decrypt_packed`` only detects an out-of-range top slot.
    """
    public_key = vec.public_key
    n, n2 = public_key.n, public_key.n2
    slots = fixedpoint.slots_per_plaintext(int(n), slot_bits)
    encoded_offset = fixedpoint.encode_scalar(offset, vec.scale)
    shifted = vec.ciphertexts
    if encoded_offset:
        factor = (n * (encoded_offset % n) + 1) % n2
        shifted = [c * factor % n2 for c in shifted]
    radix = mpz(1) << slot_bits
    packed = []
    for start in range(0, len(shifted), slots):
        group = shifted[start : start + slots]
        acc = group[-1]
        for c in reversed(group[:-1]):
            acc = gmpy2.powmod(acc, radix, n2) * c % n2
        packed.append(acc)
    layout = PackingLayout(
        count=len(vec), slot_bits=slot_bits, slots=slots, scale=vec.scale, offset=encoded_offset
    )
    return EncryptedVector(public_key, packed, 0).rerandomize(), layout


def decrypt_packed(
    private_key: PrivateKey, vec: EncryptedVector, layout: PackingLayout, *, executor: Executor | None = None
) -> np.ndarray:
    """Unpack values from packed ciphertexts (``encrypt_packed`` or ``pack_ciphertexts`` output)."""
    if len(vec) != -(-layout.count // layout.slots):
        raise ValueError(f"{len(vec)} ciphertexts do not match a layout of {layout.count} values")
    return layout.decode(decrypt_residues(private_key, vec, executor=executor))


def _encrypt_residues(
    public_key: PublicKey,
    residues: list[int],
    executor: Executor | None,
    pool: ObfuscatorPool | None,
    parallel_min_items: int,
) -> list[mpz]:
    n = public_key.n
    if pool is not None:
        if pool.n != n:
            raise ValueError("the obfuscator pool belongs to a different key")
        return encrypt_ints(n, residues, pool.take(len(residues)))
    if executor is None or len(residues) < parallel_min_items:
        return encrypt_ints(n, residues, fixed_base(n).draw(len(residues)))
    blobs = map_chunks(executor, encrypt_chunk, int(n), split(residues))
    return [c for blob in blobs for c in from_fixed_bytes(blob, public_key.width)]


def _check_ids(ids: np.ndarray, bound: int, what: str) -> np.ndarray:
    """Refuse non-integer ids or ids outside ``[0, bound)``."""
    if ids.size and ids.dtype.kind not in "iu":
        raise ValueError(f"{what}s must be integers, got dtype {ids.dtype}")
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= bound):
        raise ValueError(f"{what}s must lie in [0, {bound})")
    return ids.astype(np.int64, copy=False)
