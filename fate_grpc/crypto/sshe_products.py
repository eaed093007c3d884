"""The HE-to-shares products of SSHE: one party's plaintext matrix times the other party's Paillier-encrypted
share, returned as fresh additive shares in Z_2^128 (no I/O; the component moves the bytes).

The key owner Q encrypts its share t (ring elements in ``[0, 2^128)``) under its own key and sends it.
The matrix owner P computes ``[[D]]`` homomorphically (``D = X t``, ``X^T t`` or ``a . t``, exact
integers), adds a mask r drawn uniformly from ``[0, 2^(bits(B) + 40))`` where B is a public bound on
``|D|``, re-randomises every ciphertext and sends ``[[D + r]]`` back. Q decrypts ``D + r`` (an exact
integer) and keeps it mod 2^128 as its share; P keeps ``-r mod 2^128``. The two add up to ``D mod 2^128``.

Why this is secure where FATE's SSHE is not:

* Every ciphertext that leaves a party is randomised: Q's encryptions carry fresh ``r^n`` obfuscators and
  P re-randomises its results, so neither ``(c - 1) / n`` (the plaintext of an unrandomised g = n + 1
  ciphertext) nor the key owner's knowledge of its own obfuscators reveals anything about the plaintext or
  P's matrix.
* The mask range is at least 2^40 times the bound on ``|D|`` (``MASK_MARGIN_BITS``), so ``D + r`` is within
  statistical distance 2^-39 of ``r`` alone whatever D is; FATE masks ~90-bit products with 64-bit masks.
* The bound B is computed from public sizes only (row count, column count, the largest encodable feature,
  the ring size), so the mask range says nothing about P's data.

The plaintext space (n, at least 1024 bits) holds every ``D + r`` with room: at most about 2^330 for the
loss product below.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from fate_grpc.crypto import paillier
from fate_grpc.crypto.paillier_linalg import column_products_block, combine_column_products
from fate_grpc.crypto.paillier_pool import (
    ciphertext_width,
    fixed_base,
    from_fixed_bytes,
    map_chunks,
    to_fixed_bytes,
)
from fate_grpc.ml.sshe.ring import MAX_ENCODED, MODULUS, RING_BITS, Shares

MASK_MARGIN_BITS = 40
# Rows per task on the worker processes; below PARALLEL_MIN_ROWS the work stays in the calling thread.
CHUNK_ROWS = 2048
PARALLEL_MIN_ROWS = 2048
_LIMB_BITS = 32  # the 128-bit exponents of the inner product, as four int64-safe limbs


def mask_bits(bound: int) -> int:
    """Bits of the mask range for a masked value of magnitude at most ``bound``: 2^40 times more."""
    return int(bound).bit_length() + MASK_MARGIN_BITS


def matvec_bound(columns: int) -> int:
    """Public bound on ``|X t|`` per row: columns x the largest encoded feature x the largest share."""
    return max(columns, 1) * MAX_ENCODED * MODULUS


def transpose_bound(rows: int) -> int:
    """Public bound on ``|X^T t|`` per column."""
    return max(rows, 1) * MAX_ENCODED * MODULUS


def inner_bound(rows: int) -> int:
    """Public bound on ``a . t`` for two vectors of ring elements."""
    return max(rows, 1) * MODULUS * MODULUS


def draw_masks(count: int, bound: int) -> list[int]:
    """Uniform masks on ``[0, 2^mask_bits(bound))`` from the operating system's randomness."""
    bits = mask_bits(bound)
    return [secrets.randbits(bits) for _ in range(count)]


def check_plaintext_room(public_key: paillier.PublicKey, bound: int) -> None:
    """The masked value must decode without wrapping around n.

    Raises:
        ValueError: The key is too small for this bound.
    """
    if bound + (1 << mask_bits(bound)) >= public_key.max_int:
        raise ValueError(f"a {public_key.key_bits}-bit Paillier key is too small for the masked products")


def encrypt_shares(
    public_key: paillier.PublicKey, share: Shares, *, executor: Executor | None = None
) -> list[mpz]:
    """Fresh (randomised) encryptions of ring elements under this party's own key."""
    values = np.asarray(share, dtype=object).reshape(-1)
    vector = paillier.encrypt(public_key, values, scale=0, executor=executor)
    return vector.ciphertexts


def decrypt_to_shares(
    private_key: paillier.PrivateKey, ciphertexts: list[mpz], *, executor: Executor | None = None
) -> Shares:
    """Decrypt masked values (signed integers) and reduce them mod 2^128: this party's shares."""
    vector = paillier.EncryptedVector(private_key.public_key, ciphertexts, 0)
    residues = paillier.decrypt_residues(private_key, vector, executor=executor)
    n, half = int(private_key.public_key.n), int(private_key.public_key.n) // 2
    out = np.empty(len(residues), dtype=object)
    out[:] = [((m - n) if m > half else m) % MODULUS for m in residues]
    return out


@dataclass(frozen=True)
class SlotLayout:
    """How ``masked_matvec`` packs masked row values into one plaintext: ``slots`` values of ``slot_bits``
    bits, each value plus ``offset`` (so it is non-negative), slot k at bit ``k * slot_bits``."""

    slot_bits: int
    slots: int
    offset: int

    def packed_count(self, rows: int) -> int:
        return -(-rows // self.slots)


def matvec_layout(public_key: paillier.PublicKey, columns: int) -> SlotLayout:
    """The packing of ``masked_matvec`` results under ``public_key`` (public: both parties compute it)."""
    bound = matvec_bound(columns)
    slot_bits = mask_bits(bound) + 2  # value + offset < 2 * (2^mask_bits + bound) fits
    slots = max(1, (int(public_key.n).bit_length() - 2) // slot_bits)  # the packed value stays below n
    return SlotLayout(slot_bits, slots, bound)


def masked_matvec(
    public_key: paillier.PublicKey,
    ciphertexts: list[mpz],
    matrix: npt.NDArray[np.int64],
    *,
    executor: Executor | None = None,
) -> tuple[list[mpz], Shares]:
    """``[[X t + r]]`` per row of X (rows x columns, int64) from ``[[t]]`` (one per column), packed
    ``matvec_layout(...).slots`` rows per ciphertext, and the masker's shares ``-r mod 2^128`` per row.

    Packing costs nothing extra here: slot k's rows use fixed-base tables of ``c^(2^(k * slot_bits))``, so
    a packed ciphertext takes as many multiplications as its rows would separately, and the key owner
    decrypts (and receives) ``slots`` times fewer ciphertexts.
    """
    exponents = np.asarray(matrix, dtype=np.int64)
    if exponents.ndim != 2 or exponents.shape[1] != len(ciphertexts):
        raise ValueError(f"matrix of shape {exponents.shape} for {len(ciphertexts)} ciphertexts")
    layout = matvec_layout(public_key, exponents.shape[1])
    check_plaintext_room(public_key, layout.offset)
    masks = draw_masks(exponents.shape[0], layout.offset)
    n, width = int(public_key.n), public_key.width
    bases = to_fixed_bytes(ciphertexts, width)
    step = max(layout.slots, CHUNK_ROWS // layout.slots * layout.slots)
    jobs = [
        (bases, exponents[start : start + step], masks[start : start + step], layout)
        for start in range(0, exponents.shape[0], step)
    ]
    if executor is not None and exponents.shape[0] >= PARALLEL_MIN_ROWS and len(jobs) > 1:
        blobs = map_chunks(executor, masked_matvec_chunk, n, jobs)
    else:
        blobs = [masked_matvec_chunk(n, job) for job in jobs]
    results = [c for blob in blobs for c in from_fixed_bytes(blob, width)]
    return results, _negated(masks)


def decrypt_matvec_to_shares(
    private_key: paillier.PrivateKey,
    ciphertexts: list[mpz],
    rows: int,
    columns: int,
    *,
    executor: Executor | None = None,
) -> Shares:
    """The key owner's shares (mod 2^128) of a ``masked_matvec`` of ``rows`` x ``columns``.

    Raises:
        ValueError: Not the number of ciphertexts the packing gives for ``rows``.
    """
    layout = matvec_layout(private_key.public_key, columns)
    if len(ciphertexts) != layout.packed_count(rows):
        raise ValueError(f"{len(ciphertexts)} ciphertexts for {rows} rows of {layout.slots} per ciphertext")
    vector = paillier.EncryptedVector(private_key.public_key, ciphertexts, 0)
    residues = paillier.decrypt_residues(private_key, vector, executor=executor)
    slot_mask = (1 << layout.slot_bits) - 1
    values = [
        ((packed >> (layout.slot_bits * k)) & slot_mask) - layout.offset
        for packed in residues
        for k in range(layout.slots)
    ]
    out = np.empty(rows, dtype=object)
    out[:] = [v % MODULUS for v in values[:rows]]
    return out


def masked_transpose_matvec(
    public_key: paillier.PublicKey,
    ciphertexts: list[mpz],
    matrix: npt.NDArray[np.int64],
    *,
    executor: Executor | None = None,
) -> tuple[list[mpz], Shares]:
    """``[[X^T t + r]]`` per column of X (rows x columns, int64) from ``[[t]]`` (one per row)."""
    exponents = np.asarray(matrix, dtype=np.int64)
    if exponents.ndim != 2 or exponents.shape[0] != len(ciphertexts):
        raise ValueError(f"matrix of shape {exponents.shape} for {len(ciphertexts)} ciphertexts")
    bound = transpose_bound(exponents.shape[0])
    check_plaintext_room(public_key, bound)
    columns = _column_products(public_key, ciphertexts, exponents, executor)
    masks = draw_masks(len(columns), bound)
    return _mask(public_key, columns, masks), _negated(masks)


def masked_inner_product(
    public_key: paillier.PublicKey,
    ciphertexts: list[mpz],
    share: Shares,
    *,
    executor: Executor | None = None,
) -> tuple[list[mpz], Shares]:
    """``[[a . t + r]]`` (one ciphertext) from ``[[t]]`` and this party's ring elements a."""
    values = [int(v) for v in np.asarray(share, dtype=object).reshape(-1).tolist()]
    if len(values) != len(ciphertexts):
        raise ValueError(f"{len(values)} values for {len(ciphertexts)} ciphertexts")
    bound = inner_bound(len(values))
    check_plaintext_room(public_key, bound)
    limbs = np.array(
        [
            [(v >> (_LIMB_BITS * k)) & ((1 << _LIMB_BITS) - 1) for k in range(RING_BITS // _LIMB_BITS)]
            for v in values
        ],
        dtype=np.int64,
    ).reshape(len(values), RING_BITS // _LIMB_BITS)
    parts = _column_products(public_key, ciphertexts, limbs, executor)
    n2 = public_key.n2
    total = mpz(1)
    for k, part in enumerate(parts):  # sum_k 2^(32 k) (limb_k . t)
        total = total * gmpy2.powmod(part, mpz(1) << (_LIMB_BITS * k), n2) % n2
    masks = draw_masks(1, bound)
    return _mask(public_key, [total], masks), _negated(masks)


def masked_matvec_chunk(n: int, job: tuple[bytes, npt.NDArray[np.int64], Sequence[int], SlotLayout]) -> bytes:
    """One row block of ``masked_matvec`` (runs in worker processes): packed ciphertexts of its rows."""
    bases_bytes, exponents, masks, layout = job
    nn = mpz(n)
    n2 = nn * nn
    width = ciphertext_width(n)
    bases = from_fixed_bytes(bases_bytes, width)
    # X t = (X + K) t - K sum(t): non-negative exponents and one correction factor per slot position.
    offset = max(0, -int(exponents.min())) if exponents.size else 0
    shifted = exponents + offset
    window = _window_bits(max(1, shifted.shape[0] // layout.slots))
    windows = max(1, -(-int(shifted.max() if shifted.size else 0).bit_length() // window))
    positions = [mpz(1) << (layout.slot_bits * k) for k in range(layout.slots)]
    tables = [[_window_table(gmpy2.powmod(c, p, n2), window, windows, n2) for c in bases] for p in positions]
    corrections = _corrections(bases, offset, positions, n2)
    digits = ((shifted[:, :, None] >> (window * np.arange(windows))) & ((1 << window) - 1)).tolist()
    groups = range(0, len(masks), layout.slots)
    obfuscators = fixed_base(n).draw(len(groups))
    results = []
    for start, noise in zip(groups, obfuscators, strict=True):
        rows = range(start, min(start + layout.slots, len(masks)))
        acc, packed = corrections[len(rows)], 0
        for slot, row in enumerate(rows):
            for table, column in zip(tables[slot], digits[row], strict=True):
                for position, digit in enumerate(column):
                    if digit:
                        acc = acc * table[position][digit] % n2
            packed += (masks[row] + layout.offset) << (layout.slot_bits * slot)
        results.append(acc * (nn * packed + 1) % n2 * noise % n2)
    return to_fixed_bytes(results, width)


def _corrections(bases: list[mpz], offset: int, positions: list[mpz], n2: mpz) -> list[mpz]:
    """``prod_(k < m) ((prod c)^-offset)^(2^(k slot_bits))`` for every slot count m (index m)."""
    correction = mpz(1)
    if offset:
        product = mpz(1)
        for c in bases:
            product = product * c % n2
        correction = gmpy2.invert(gmpy2.powmod(product, offset, n2), n2)
    prefix = [mpz(1)]
    for position in positions:
        prefix.append(prefix[-1] * gmpy2.powmod(correction, position, n2) % n2)
    return prefix


def _window_bits(rows: int) -> int:
    """The window minimising about ``(bits / w) * (2^w + rows)`` multiplications per column."""
    return max(2, min(10, int(rows).bit_length() - 3))


def _window_table(base: mpz, window: int, windows: int, n2: mpz) -> list[list[mpz]]:
    """``base^(d * 2^(window * k))`` for every window position k and digit d."""
    table = []
    step = base
    for _ in range(windows):
        row = [mpz(1), step]
        for _ in range(2, 1 << window):
            row.append(row[-1] * step % n2)
        table.append(row)
        step = row[-1] * step % n2  # step^(2^window)
    return table


def _column_products(
    public_key: paillier.PublicKey,
    ciphertexts: list[mpz],
    exponents: npt.NDArray[np.int64],
    executor: Executor | None,
) -> list[mpz]:
    """``prod_i c_i^(e_ij)`` per column j (Pippenger's buckets, row blocks on the executor)."""
    n, width = int(public_key.n), public_key.width
    blocks = [
        (
            to_fixed_bytes(ciphertexts[start : start + CHUNK_ROWS], width),
            exponents[start : start + CHUNK_ROWS],
        )
        for start in range(0, len(ciphertexts), CHUNK_ROWS)
    ]
    if executor is not None and len(ciphertexts) >= PARALLEL_MIN_ROWS and len(blocks) > 1:
        parts = map_chunks(executor, column_products_block, n, blocks)
    else:
        parts = [column_products_block(n, block) for block in blocks]
    return combine_column_products(n, [from_fixed_bytes(p, width) for p in parts], exponents.shape[1])


def _mask(public_key: paillier.PublicKey, ciphertexts: list[mpz], masks: list[int]) -> list[mpz]:
    """``[[D + r]]`` under a fresh obfuscator each."""
    n, n2 = public_key.n, public_key.n2
    noise = public_key.obfuscators(len(ciphertexts))
    return [c * (n * r + 1) % n2 * o % n2 for c, r, o in zip(ciphertexts, masks, noise, strict=True)]


def _negated(masks: list[int]) -> Shares:
    out = np.empty(len(masks), dtype=object)
    out[:] = [(-r) % MODULUS for r in masks]
    return out
