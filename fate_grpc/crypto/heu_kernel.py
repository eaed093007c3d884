"""SecureBoost's histogram kernel on SecretFlow's HEU (``sf-heu``, C++ with a thread pool over all cores):
grouped sums of our own Paillier and OU ciphertexts, bit-identical to the gmpy2 loop of ``gh_pack``. A pure
function of ciphertexts and bin ids over a block of rows, no I/O. Without ``sf-heu`` (other platforms or
Python versions) ``HeuKey.of`` returns None and callers keep the gmpy2 path.

Interop, not a second key format: HEU's ZPaillier and OU multiply ciphertexts modulo n^2 (Paillier) or n
(OU) in libtommath's Montgomery form, ``x R mod m`` with ``R = 2^(60 * limbs(m))`` (60-bit limbs), so our
ciphertexts enter as ``c R mod m`` and leave as ``x R^-1 mod m``; a product computed by HEU is then exactly
the product our loops compute (Montgomery products are fully reduced, and an empty group is HEU's zero,
``x - x``, which is 1). A HEU ZPaillier public key is ``n`` and a base ``h_s`` used only by HEU's own
encryptor, which we never call (we pass the public n-th residue ``2^n mod n^2``); an OU key is ``(n, G, H,
plaintext bits)``, ours verbatim. The wire format is msgpack: a big integer is a string of little-endian
magnitude bytes whose top bit is the sign, a HEU object adds its schema as a little-endian ``size_t``, and
an array is ``[rows, cols, ndim, [objects]]``. ``HeuKey.of`` checks all of it once per key with a known
product and falls back (returns None) if a build of HEU disagrees.

Results are never re-randomised here: callers re-randomise (``rerandomize``/``pack_for_guest``) before
anything leaves the party, exactly as on the gmpy2 path.

Threads: HEU sizes its pool from ``YACL_NUM_THREADS`` or else the core count (its log line "Create a fixed
thread pool with size k" counts the helpers besides the calling thread: 1 on 2 cores, so both work).
``FATE_GRPC_HE_KERNEL=gmpy2`` turns HEU off (to compare kernels, or if a HEU build misbehaves).
"""

from __future__ import annotations

import logging
import os
import secrets
import struct
import threading
from collections.abc import Sequence
from typing import Any

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from fate_grpc.crypto import ou, paillier

try:  # sf-heu ships wheels for x86_64 Linux and CPython 3.9-3.11 only
    from heu import numpy as hnp
    from heu import phe
except ImportError:  # pragma: no cover - depends on the platform
    hnp = None
    phe = None

KERNEL_ENV = "FATE_GRPC_HE_KERNEL"
# HEU's order map is int8: bin ids up to 127.
MAX_BINS = 127
# (row, feature) cells per HEU call. A call holds the GIL throughout, stalling the task's other threads:
# measured on 2 cores under a load of 12, 20,000 rows x 20 features in one call held it 1.2 s, in calls of
# 2^17 cells 0.5 s (7% more CPU), of 2^15 cells 0.16 s (30% more CPU). Blocks of rows multiply together,
# blocks of features fill their own entries.
CALL_CELLS = 1 << 17
_LIMB_BITS = 60  # libtommath's digit size on 64-bit builds: R = 2^(60 * limbs)
_SCHEMA_ZPAILLIER = 4  # heu.phe.SchemaType values, appended to every serialised object
_SCHEMA_OU = 1
_log = logging.getLogger(__name__)
_MAX_KEYS = 2  # each holds HEU's precomputed tables: 16 MiB for a 1024-bit Paillier key, 63 MiB at 2048 bits
_keys: dict[tuple[str, int], HeuKey | None] = {}
_keys_lock = threading.Lock()
IntArray = npt.NDArray[np.int64]


def available() -> bool:
    """Whether ``sf-heu`` imported and is not switched off by ``FATE_GRPC_HE_KERNEL=gmpy2``."""
    return hnp is not None and os.environ.get(KERNEL_ENV, "auto").strip().lower() != "gmpy2"


class HeuKey:
    """One public key as HEU sees it: the evaluator, the ciphertext modulus and the Montgomery factors, and
    the last vector loaded (a tree's g/h are loaded once for all its levels)."""

    def __init__(self, public_key: paillier.PublicKey) -> None:
        self.public_key = public_key
        self.modulus = mpz(public_key.n2)  # n for OU (see ou.OUPublicKey)
        self._schema = _SCHEMA_OU if isinstance(public_key, ou.OUPublicKey) else _SCHEMA_ZPAILLIER
        montgomery = mpz(1) << (_LIMB_BITS * -(-self.modulus.bit_length() // _LIMB_BITS))
        self._to_montgomery = montgomery % self.modulus
        self._from_montgomery = gmpy2.invert(montgomery, self.modulus)
        self._value_bytes = self.modulus.bit_length() // 8 + 1  # room for the sign bit
        heu_public_key = phe.PublicKey.load_from(_public_key_bytes(public_key, self._schema))
        self.evaluator = hnp.setup(heu_public_key).evaluator()
        self._loaded: tuple[list[mpz], Any] | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, public_key: paillier.PublicKey) -> HeuKey | None:
        """The HEU view of ``public_key``, or None without HEU or if this HEU build fails the self-check."""
        if not available():
            return None
        kind = "ou" if isinstance(public_key, ou.OUPublicKey) else "paillier"
        cache_key = (kind, int(public_key.n))
        with _keys_lock:
            if cache_key not in _keys:
                if len(_keys) >= _MAX_KEYS:  # a long-lived process meets new keys; drop the oldest
                    del _keys[next(iter(_keys))]
                _keys[cache_key] = _checked(public_key)
            return _keys[cache_key]

    def load(self, ciphertexts: list[mpz], *, keep: bool = True) -> Any:
        """A HEU ``CiphertextArray`` of ``ciphertexts`` (one column). With ``keep``, the array is kept for
        the next call with the same list object (a tree's g/h serve all its levels)."""
        if not keep:
            return hnp.CiphertextArray.load_from(self._array_bytes(ciphertexts))
        with self._lock:
            if self._loaded is not None and self._loaded[0] is ciphertexts:
                return self._loaded[1]
        array = hnp.CiphertextArray.load_from(self._array_bytes(ciphertexts))
        with self._lock:
            self._loaded = (ciphertexts, array)
        return array

    def unload(self, array: Any) -> list[mpz]:
        """Our ciphertexts from a HEU ``CiphertextArray`` (row-major)."""
        return [v * self._from_montgomery % self.modulus for v in _parse_array(array.serialize())]

    def _array_bytes(self, ciphertexts: Sequence[mpz]) -> bytes:
        """Every ciphertext in Montgomery form as a HEU object of one fixed size, laid out in numpy."""
        width, count = self._value_bytes, len(ciphertexts)
        modulus, factor = self.modulus, self._to_montgomery
        big_endian = b"".join([(c * factor % modulus).to_bytes(width, "big") for c in ciphertexts])
        values = np.frombuffer(big_endian, dtype=np.uint8).reshape(count, width)[:, ::-1]
        body = b"\x91" + _str_header(width)
        element = len(body) + width + 8
        prefix = _str_header(element) + body
        rows = np.empty((count, len(prefix) + element - len(body)), dtype=np.uint8)
        rows[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
        rows[:, len(prefix) : len(prefix) + width] = values
        rows[:, len(prefix) + width :] = np.frombuffer(struct.pack("<Q", self._schema), dtype=np.uint8)
        header = b"\x94" + _uint(count) + _uint(1) + _uint(1) + _array_header(count)
        return header + rows.tobytes()


def bucket_sums(
    key: HeuKey,
    ciphertexts: list[mpz],
    bins: IntArray,
    node_index: IntArray,
    n_nodes: int,
    n_bins: int,
) -> list[mpz]:
    """Per (node, feature, bin), node-major, the product mod the ciphertext modulus of the ciphertexts of the
    rows there: ``gh_pack.encrypted_histogram``'s result for the same block of rows (rows with
    ``node_index`` -1 are left out; an empty entry is 1). Partial results of disjoint row blocks combine by
    multiplying entry by entry, which is also how calls of at most ``CALL_CELLS`` cells are combined.

    Raises:
        ValueError: Shapes disagree, or a bin id lies outside ``[0, n_bins)`` or ``n_bins`` exceeds 127.
    """
    rows, features = bins.shape
    if len(ciphertexts) != rows or node_index.shape != (rows,):
        raise ValueError(f"{len(ciphertexts)} ciphertexts and {node_index.shape} node ids for {rows} rows")
    if n_bins > MAX_BINS or (bins.size and (int(bins.min()) < 0 or int(bins.max()) >= n_bins)):
        raise ValueError(f"bin ids must lie in [0, {n_bins}) with at most {MAX_BINS} bins")
    if rows == 0 or features == 0 or n_nodes == 0:
        return [mpz(1)] * (n_nodes * features * n_bins)
    array = key.load(ciphertexts)
    order = np.asarray(bins, dtype=np.int8)
    modulus, per_node = key.modulus, features * n_bins
    sums = [mpz(1)] * (n_nodes * per_node)
    row_step = min(rows, CALL_CELLS)
    feature_step = max(1, CALL_CELLS // row_step)
    for first_row in range(0, rows, row_step):
        in_block = np.zeros(rows, dtype=bool)
        in_block[first_row : first_row + row_step] = True
        masks = [((node_index == k) & in_block).astype(np.int8).reshape(1, -1) for k in range(n_nodes)]
        for first in range(0, features, feature_step):
            block = np.ascontiguousarray(order[:, first : first + feature_step])
            results = key.evaluator.batch_feature_wise_bucket_sum(array, masks, block, n_bins, False)
            for k, result in enumerate(results):
                start = k * per_node + first * n_bins
                for offset, value in enumerate(key.unload(result)):
                    sums[start + offset] = sums[start + offset] * value % modulus
    return sums


def _checked(public_key: paillier.PublicKey) -> HeuKey | None:
    """A ``HeuKey`` whose round trip and product agree with gmpy2 on random units, else None (logged)."""
    try:
        key = HeuKey(public_key)
        modulus = key.modulus
        values = [mpz(secrets.randbelow(int(modulus) - 2) + 2) for _ in range(3)]
        masks = [np.ones((1, 3), dtype=np.int8)]
        order = np.zeros((3, 1), dtype=np.int8)
        array = hnp.CiphertextArray.load_from(key._array_bytes(values))
        [total] = key.evaluator.batch_feature_wise_bucket_sum(array, masks, order, 1, False)
        product = values[0] * values[1] % modulus * values[2] % modulus
        if key.unload(array) == values and key.unload(total) == [product]:
            return key
        _log.warning("sf-heu's ciphertext format differs from the one expected; using the gmpy2 kernels")
    except Exception as error:  # any failure of the native library means: do not use it
        _log.warning("sf-heu cannot load our keys (%s); using the gmpy2 kernels", type(error).__name__)
    return None


def _public_key_bytes(public_key: paillier.PublicKey, schema: int) -> bytes:
    if isinstance(public_key, ou.OUPublicKey):
        fields = [_bigint(public_key.n), _bigint(public_key.g), _bigint(public_key.h)]
        body = b"\x94" + b"".join(fields) + _uint(public_key.plaintext_bits())
    else:
        n = mpz(public_key.n)
        body = b"\x92" + _bigint(n) + _bigint(gmpy2.powmod(2, n, n * n))
    return body + struct.pack("<Q", schema)


def _bigint(value: mpz) -> bytes:
    """A non-negative integer as a msgpack string of little-endian magnitude bytes (top bit: sign, 0)."""
    data = int(value).to_bytes(int(value).bit_length() // 8 + 1, "little")
    return _str_header(len(data)) + data


def _str_header(size: int) -> bytes:
    if size < 32:
        return bytes([0xA0 | size])
    if size < 1 << 8:
        return b"\xd9" + bytes([size])
    if size < 1 << 16:
        return b"\xda" + struct.pack(">H", size)
    return b"\xdb" + struct.pack(">I", size)


def _array_header(size: int) -> bytes:
    if size < 16:
        return bytes([0x90 | size])
    if size < 1 << 16:
        return b"\xdc" + struct.pack(">H", size)
    return b"\xdd" + struct.pack(">I", size)


def _uint(value: int) -> bytes:
    if value < 0x80:
        return bytes([value])
    if value < 1 << 8:
        return b"\xcc" + bytes([value])
    if value < 1 << 16:
        return b"\xcd" + struct.pack(">H", value)
    if value < 1 << 32:
        return b"\xce" + struct.pack(">I", value)
    return b"\xcf" + struct.pack(">Q", value)


class _Reader:
    """Just enough of msgpack to read a HEU array: unsigned ints, arrays and strings."""

    def __init__(self, data: bytes) -> None:
        self.view = memoryview(data)
        self.at = 0

    def _take(self, size: int) -> memoryview:
        if self.at + size > len(self.view):
            raise ValueError("truncated HEU array")
        part = self.view[self.at : self.at + size]
        self.at += size
        return part

    def uint(self) -> int:
        tag = self._take(1)[0]
        if tag < 0x80:
            return tag
        sizes = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
        if tag not in sizes:
            raise ValueError(f"expected an unsigned integer, found msgpack tag {tag:#x}")
        return int.from_bytes(self._take(sizes[tag]), "big")

    def array(self) -> int:
        tag = self._take(1)[0]
        if 0x90 <= tag <= 0x9F:
            return tag & 0x0F
        if tag == 0xDC:
            return int.from_bytes(self._take(2), "big")
        if tag == 0xDD:
            return int.from_bytes(self._take(4), "big")
        raise ValueError(f"expected an array, found msgpack tag {tag:#x}")

    def string(self) -> memoryview:
        tag = self._take(1)[0]
        if 0xA0 <= tag <= 0xBF:
            return self._take(tag & 0x1F)
        sizes = {0xD9: 1, 0xDA: 2, 0xDB: 4, 0xC4: 1, 0xC5: 2, 0xC6: 4}
        if tag not in sizes:
            raise ValueError(f"expected a string, found msgpack tag {tag:#x}")
        return self._take(int.from_bytes(self._take(sizes[tag]), "big"))


def _parse_array(data: bytes) -> list[mpz]:
    """The Montgomery-form values of a serialised HEU ``CiphertextArray``, row-major."""
    reader = _Reader(data)
    if reader.array() != 4:
        raise ValueError("not a HEU array")
    rows, cols = reader.uint(), reader.uint()
    reader.uint()  # ndim
    count = reader.array()
    if count != rows * cols:
        raise ValueError(f"a HEU array of {rows}x{cols} holds {count} values")
    out = []
    for _ in range(count):
        element = _Reader(bytes(reader.string()))
        if element.array() != 1:
            raise ValueError("not a HEU ciphertext")
        magnitude = element.string()
        if magnitude[-1] & 0x80:
            raise ValueError("a negative HEU ciphertext")
        out.append(mpz.from_bytes(magnitude, "little"))
    return out
