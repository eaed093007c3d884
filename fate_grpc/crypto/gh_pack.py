"""Encrypted gradient/hessian histograms for hetero SecureBoost: FATE's g/h packing, histogram sums under
Paillier over row blocks, cumulative sums, sibling subtraction, and several bins per ciphertext.

Encoding (FATE's ``gh_pack``, 52 fractional bits): g is shifted by ``g_offset`` to be non-negative (1 for
binary:bce and multi:ce, whose g lies in [-1, 1]; ``|min g|`` for regression), and
``G = round((g + g_offset) 2^52)``, ``H = round(h 2^52)``. With ``gh_pack`` one plaintext per row holds
``G << shift_bit | H``, where ``shift_bit`` leaves room for the sum of all ``rows`` values of either part
(``max(int(log2(2^52 rows g_max)) + 1, int(log2(2^52 rows h_max)) + 1)``), so sums never carry from H into
G; without it, G and H travel as two ciphertexts per row. Sums are exact integers: the guest removes
``g_offset`` times the row count after decryption.

A histogram is a vector of ``nodes * features * n_bins`` ciphertexts in node-major order (as
``fate_grpc.ml.secureboost.histogram``): ``encrypted_histogram`` sums a block of rows (partial results of
disjoint blocks combine with ``+``); ``cumulative`` turns bin sums into left-child sums; ``subtract`` derives
a sibling. ``pack_for_guest`` (FATE's ``split_info_pack``) folds ``(key_bits - 1) // slot_bits`` entries into
one re-randomised ciphertext, as many as fit; ``decrypt_histogram`` undoes all of it at the guest.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from fate_grpc.crypto import heu_kernel, ou, paillier
from fate_grpc.crypto.fixedpoint import PackingLayout, slots_per_plaintext
from fate_grpc.crypto.paillier_pool import (
    ciphertext_width,
    from_fixed_bytes,
    gil_released,
    map_chunks,
    to_fixed_bytes,
)

PRECISION_BITS = 52  # FATE's FIX_POINT_PRECISION for g and h
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
# Below this many (row, feature) additions a histogram is summed in the calling thread: a round trip to the
# workers costs about 0.4 ms, and on 2 cores under a load of 4 two workers match one thread at 20,000 (1,000
# rows x 20 features, 34 ms either way) and win above (40,000: 49 ms against 55 ms). Idle, they win sooner.
PARALLEL_MIN_CELLS = 20_000
# From this many histogram entries, packing runs on the caller's worker processes.
PARALLEL_MIN_PACKED = 2000
# Without workers, from this many packed ciphertexts (each about key_bits squarings, 0.1 ms at 1024 bits)
# packing runs on threads: gmpy2 releases the GIL in powmod, and a thread costs no start-up.
THREADED_MIN_PACKED = 16
_threads: ThreadPoolExecutor | None = None
_threads_lock = threading.Lock()


@dataclass(frozen=True)
class GHCodec:
    """How g and h become non-negative integers, and how many bits a sum of one part may take."""

    g_offset: float
    shift_bit: int
    packed: bool = True
    precision_bits: int = PRECISION_BITS

    @classmethod
    def for_gradients(cls, g: FloatArray, rows: int, *, regression: bool, packed: bool = True) -> GHCodec:
        """FATE's offsets and bounds: classification ``g_offset`` 1, g < 2 after the shift, h <= 1;
        regression ``g_offset = |min g|``, ``g_max = |max g| + g_offset``, ``h_max = 2``."""
        if regression:
            g_offset = abs(float(np.min(g))) if len(g) else 0.0
            g_max, h_max = abs(float(np.max(g))) + g_offset if len(g) else 1.0, 2.0
        else:
            g_offset, g_max, h_max = 1.0, 2.0, 1.0
        scale = 2.0**PRECISION_BITS * max(rows, 1)
        shift = max(int(math.log2(scale * max(g_max, 1e-300)) + 1), int(math.log2(scale * h_max) + 1))
        return cls(g_offset=g_offset, shift_bit=shift, packed=packed)

    @property
    def channels(self) -> int:
        """Ciphertexts per row (and per histogram entry): 1 packed, else 2 (g, h)."""
        return 1 if self.packed else 2

    @property
    def slot_bits(self) -> int:
        """Bits of one histogram entry when several share a ciphertext."""
        return 2 * self.shift_bit if self.packed else self.shift_bit

    def integers(self, g: FloatArray, h: FloatArray) -> tuple[list[int], list[int]]:
        """``G`` and ``H`` of every row.

        Raises:
            ValueError: A shifted g is negative or a value needs more than ``shift_bit`` bits.
        """
        scale = np.float64(2.0**self.precision_bits)
        big_g = np.rint((np.asarray(g, dtype=np.float64) + self.g_offset) * scale)
        big_h = np.rint(np.asarray(h, dtype=np.float64) * scale)
        if big_g.size and (big_g.min() < 0 or big_h.min() < 0):
            raise ValueError("g + g_offset and h must be non-negative")
        out_g, out_h = [int(v) for v in big_g.tolist()], [int(v) for v in big_h.tolist()]
        if max([*out_g, *out_h], default=0) >> self.shift_bit:
            raise ValueError(f"a g or h value needs more than {self.shift_bit} bits")
        return out_g, out_h

    def plaintexts(self, g: FloatArray, h: FloatArray) -> list[list[int]]:
        """Per channel, the integer of every row: ``[G << shift | H]`` packed, else ``[G, H]``."""
        big_g, big_h = self.integers(g, h)
        if not self.packed:
            return [big_g, big_h]
        shift = self.shift_bit
        return [[(a << shift) | b for a, b in zip(big_g, big_h, strict=True)]]

    def split(self, channels: Sequence[Sequence[int]]) -> tuple[list[int], list[int]]:
        """Decrypted sums back to ``(sum G, sum H)`` per entry."""
        if not self.packed:
            return [int(v) for v in channels[0]], [int(v) for v in channels[1]]
        mask = (1 << self.shift_bit) - 1
        values = [int(v) for v in channels[0]]
        return [v >> self.shift_bit for v in values], [v & mask for v in values]

    def to_floats(
        self, big_g: Sequence[int], big_h: Sequence[int], counts: IntArray
    ) -> tuple[FloatArray, FloatArray]:
        """Sums of g (offset removed: ``g_offset`` times the count) and of h as floats."""
        denominator = 1 << self.precision_bits
        g = np.asarray([v / denominator for v in big_g], dtype=np.float64)
        h = np.asarray([v / denominator for v in big_h], dtype=np.float64)
        return g - self.g_offset * np.asarray(counts, dtype=np.float64).reshape(-1), h

    def to_dict(self) -> dict[str, Any]:
        return {"g_offset": self.g_offset, "shift_bit": self.shift_bit, "packed": self.packed}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> GHCodec:
        return cls(float(value["g_offset"]), int(value["shift_bit"]), bool(value["packed"]))


def encrypt_gh(
    public_key: paillier.PublicKey,
    codec: GHCodec,
    g: FloatArray,
    h: FloatArray,
    *,
    executor: Executor | None = None,
    pool: paillier.ObfuscatorPool | None = None,
) -> list[paillier.EncryptedVector]:
    """One encrypted vector per channel, one ciphertext per row (obfuscators from ``pool`` if given);
    Paillier or, for an ``ou.OUPublicKey``, Okamoto-Uchiyama."""
    if isinstance(public_key, ou.OUPublicKey):
        if max(codec.slot_bits, 1) >= public_key.plaintext_bits():
            raise ValueError(
                f"g/h sums need {codec.slot_bits} bits; the OU key holds {public_key.plaintext_bits()}"
            )
        return [ou.encrypt(public_key, values) for values in codec.plaintexts(g, h)]
    return [
        paillier.encrypt(public_key, np.asarray(values, dtype=object), scale=0, executor=executor, pool=pool)
        for values in codec.plaintexts(g, h)
    ]


def encrypted_histogram(
    vector: paillier.EncryptedVector,
    bins: IntArray,
    node_index: IntArray,
    n_nodes: int,
    n_bins: int,
    *,
    executor: Executor | None = None,
) -> paillier.EncryptedVector:
    """Per (node, feature, bin), the product of the ciphertexts of the rows there (their encrypted sum),
    node-major; rows with ``node_index`` -1 are left out. Not re-randomised: combine, then re-randomise
    (or ``pack_for_guest``) before anything leaves the party.

    With ``sf-heu`` (and at most 127 bins) HEU's threads sum every node at once (``heu_kernel``); else the
    gmpy2 loop runs here or, from ``PARALLEL_MIN_CELLS``, in feature blocks on ``executor``. Both give the
    same integers."""
    key = heu_kernel.HeuKey.of(vector.public_key) if n_bins <= heu_kernel.MAX_BINS else None
    if key is not None:
        sums = heu_kernel.bucket_sums(key, vector.ciphertexts, bins, node_index, n_nodes, n_bins)
        return paillier.EncryptedVector(vector.public_key, sums, 0)
    rows = np.flatnonzero(node_index >= 0)
    features = bins.shape[1]
    groups = node_index[rows, None] * n_bins + bins[rows]  # (rows, features) ids in [0, nodes * n_bins)
    n_groups = n_nodes * n_bins
    picked = vector.take(rows)
    if executor is None or len(rows) * features < PARALLEL_MIN_CELLS:
        sums = picked.sum_by_groups(groups, n_groups, rerandomize=False).ciphertexts
    else:
        sums = _parallel_group_sums(picked, groups, n_groups, executor)
    # sum_by_groups is feature-major (feature, node, bin); reorder to (node, feature, bin).
    order = np.arange(features * n_groups).reshape(features, n_nodes, n_bins).transpose(1, 0, 2).reshape(-1)
    return paillier.EncryptedVector(vector.public_key, [sums[i] for i in order.tolist()], 0)


def histogram_kernel(public_key: paillier.PublicKey, n_bins: int) -> str:
    """Which kernel ``encrypted_histogram`` uses for this key and bin count: ``heu`` or ``gmpy2``."""
    usable = n_bins <= heu_kernel.MAX_BINS and heu_kernel.HeuKey.of(public_key) is not None
    return "heu" if usable else "gmpy2"


def cumulative(vector: paillier.EncryptedVector, n_bins: int) -> paillier.EncryptedVector:
    """Running encrypted sums over the bins of every (node, feature): entry b holds bins 0..b."""
    n2 = vector.public_key.n2
    out: list[mpz] = []
    for start in range(0, len(vector), n_bins):
        acc = mpz(1)
        for c in vector.ciphertexts[start : start + n_bins]:
            acc = acc * c % n2
            out.append(acc)
    return paillier.EncryptedVector(vector.public_key, out, 0)


def subtract(parent: paillier.EncryptedVector, child: paillier.EncryptedVector) -> paillier.EncryptedVector:
    """The sibling's histogram: the parent's minus one child's (entry by entry)."""
    n2 = parent.public_key.n2
    cts = [p * gmpy2.invert(c, n2) % n2 for p, c in zip(parent.ciphertexts, child.ciphertexts, strict=True)]
    return paillier.EncryptedVector(parent.public_key, cts, 0)


def pack_for_guest(
    vector: paillier.EncryptedVector, codec: GHCodec, *, pack: bool = True, executor: Executor | None = None
) -> tuple[paillier.EncryptedVector, PackingLayout | None]:
    """FATE's ``split_info_pack``: several entries per ciphertext (re-randomised); or each entry
    re-randomised on its own. Chunks are packed in parallel on ``executor`` from ``PARALLEL_MIN_PACKED``
    entries, else on this process's packing threads from ``THREADED_MIN_PACKED``."""
    if not pack:
        return vector.rerandomize(), None
    n = int(vector.public_key.n)
    slots = slots_per_plaintext(n, codec.slot_bits)
    if executor is None or len(vector) < PARALLEL_MIN_PACKED:
        executor = _packing_threads() if len(vector) >= THREADED_MIN_PACKED * slots else None
    if executor is None:
        return paillier.pack_ciphertexts(vector, codec.slot_bits)
    step = slots * max(1, -(-len(vector) // (slots * 8)))  # about 8 chunks, each whole ciphertexts
    width = vector.public_key.width
    chunks = [
        (to_fixed_bytes(vector.ciphertexts[start : start + step], width), codec.slot_bits)
        for start in range(0, len(vector), step)
    ]
    packed = [
        c for blob in map_chunks(executor, _pack_chunk, n, chunks) for c in from_fixed_bytes(blob, width)
    ]
    layout = PackingLayout(count=len(vector), slot_bits=codec.slot_bits, slots=slots, scale=0, offset=0)
    return paillier.EncryptedVector(vector.public_key, packed, 0), layout


def _pack_chunk(n: int, chunk: tuple[bytes, int]) -> bytes:
    blob, slot_bits = chunk
    width = ciphertext_width(n)
    vector = paillier.EncryptedVector(paillier.PublicKey(n), from_fixed_bytes(blob, width), 0)
    with gil_released():  # the packing powmods then run in parallel in threads too
        packed, _ = paillier.pack_ciphertexts(vector, slot_bits)
    return to_fixed_bytes(packed.ciphertexts, width)


def _packing_threads() -> Executor:
    """One thread per core, started on first use and kept for the process (threads cost nothing idle)."""
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="gh-pack")
        return _threads


def decrypt_histogram(
    private_key: paillier.PrivateKey | ou.OUPrivateKey,
    channels: Sequence[tuple[paillier.EncryptedVector, PackingLayout | None]],
    codec: GHCodec,
    *,
    executor: Executor | None = None,
) -> tuple[list[int], list[int]]:
    """Exact ``(sum G, sum H)`` integers of every entry (offset still in G; see ``GHCodec.to_floats``)."""
    values: list[list[int]] = []
    for vector, layout in channels:
        if isinstance(private_key, ou.OUPrivateKey):
            if layout is not None:
                raise ValueError("OU histograms are not packed")
            values.append(ou.decrypt_residues(private_key, vector))
        elif layout is None:
            values.append(paillier.decrypt_residues(private_key, vector, executor=executor))
        else:
            values.append(
                [int(v) for v in paillier.decrypt_packed(private_key, vector, layout, executor=executor)]
            )
    return codec.split(values)


def integer_histogram(
    codec: GHCodec,
    g: FloatArray,
    h: FloatArray,
    bins: IntArray,
    node_index: IntArray,
    n_nodes: int,
    n_bins: int,
) -> tuple[list[int], list[int]]:
    """The plaintext ``(sum G, sum H)`` per (node, feature, bin), node-major: what ``decrypt_histogram``
    must return for the same rows (for tests and checks)."""
    big_g, big_h = codec.integers(g, h)
    features = bins.shape[1]
    sums_g = [0] * (n_nodes * features * n_bins)
    sums_h = [0] * (n_nodes * features * n_bins)
    for row in np.flatnonzero(node_index >= 0).tolist():
        base = int(node_index[row]) * features * n_bins
        for f in range(features):
            slot = base + f * n_bins + int(bins[row, f])
            sums_g[slot] += big_g[row]
            sums_h[slot] += big_h[row]
    return sums_g, sums_h


def _parallel_group_sums(
    picked: paillier.EncryptedVector, groups: IntArray, n_groups: int, executor: Executor
) -> list[mpz]:
    """``sum_by_groups`` with the features split into one block per worker (each worker decodes the rows'
    ciphertexts once, so fewer, larger blocks cost less than many small ones)."""
    # The ciphertext modulus (n^2 for Paillier, n for OU) and width travel, not a key object.
    modulus = (int(picked.public_key.n2), picked.public_key.width)
    blob = to_fixed_bytes(picked.ciphertexts, modulus[1])
    blocks = np.array_split(np.arange(groups.shape[1]), min(groups.shape[1], _worker_count(executor)))
    chunks = [(blob, groups[:, block].copy(), n_groups) for block in blocks if len(block)]
    results = map_chunks(executor, _group_sums_chunk, modulus, chunks)
    return [c for result in results for c in from_fixed_bytes(result, modulus[1])]


def _worker_count(executor: Executor) -> int:
    """The executor's worker count (a process or thread pool records it), else 2."""
    return max(1, int(getattr(executor, "_max_workers", 2)))


def _group_sums_chunk(modulus: tuple[int, int], chunk: tuple[bytes, IntArray, int]) -> bytes:
    """Products of the ciphertexts per group, for each column of group ids (feature-major)."""
    n2, width = mpz(modulus[0]), modulus[1]
    blob, groups, n_groups = chunk
    ciphertexts = from_fixed_bytes(blob, width)
    sums: list[mpz] = []
    for column in groups.T.tolist():
        column_sums = [mpz(1)] * n_groups
        for c, group in zip(ciphertexts, column, strict=True):
            column_sums[group] = column_sums[group] * c % n2
        sums.extend(column_sums)
    return to_fixed_bytes(sums, width)
