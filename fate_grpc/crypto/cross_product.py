"""Additive shares of a cross product ``A^T B`` between two parties, by Paillier with packed slots.

Party L (the key owner) holds an integer matrix A (rows x p), party R a float matrix B (rows x q) encoded
at ``precision_bits``. At the end L holds ``T`` and R holds ``-M`` with ``T - M = A^T round(B 2^bits)``
exactly (integers), and neither has learnt anything else about the other's matrix:

1. L packs each row of A into plaintexts of ``slots`` signed slots (``sum_i a_i 2^(i slot_bits)``),
   encrypts every packed row under its own key with a fresh obfuscator, and sends the ciphertexts.
2. R raises them to its encoded values and multiplies over the rows (``paillier_linalg.transpose_matvec``):
   one ciphertext per (slot group, column of B) holding, slot by slot, the entries ``(A^T B)_ij``. Rows
   may come in blocks (``block_products``, summed by ``add_products``), so that R multiplies one block
   while L encrypts the next.
3. R adds, slot by slot, a mask drawn uniformly from ``[0, 2^mask_bits)`` and re-randomises each result
   before sending it; ``mask_bits`` exceeds the entries' bound by ``statistical_bits`` (>= 40), so the
   distribution of a masked entry changes by at most ``2^(1 - statistical_bits)`` whatever the entry is.
4. L decrypts and unpacks ``T_ij = (A^T B)_ij + M_ij``; R keeps ``-M_ij``.

Slots hold signed values: every masked entry lies in ``[-2^(slot_bits-1), 2^(slot_bits-1))`` and is read
back as a balanced digit, so no offset is needed; ``slots * slot_bits`` stays two bits below the modulus so
a packed plaintext never wraps. Packing a row's p values into one ciphertext divides the encryptions by up
to ``slots`` and the homomorphic products by as much.

Only semi-honest parties are protected against (as in FATE): a party that encrypts or multiplies crafted
values instead of its data is not detected.
"""

from __future__ import annotations

import secrets
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fate_grpc.crypto import paillier
from fate_grpc.crypto.paillier import EncryptedVector, PrivateKey, PublicKey
from fate_grpc.crypto.paillier_linalg import transpose_matvec

# Masks exceed the bound of the masked value by this many bits (the issue asks for at least 40).
STATISTICAL_SECURITY_BITS = 64
# Headroom kept below the modulus: a packed value's magnitude stays below n / 2 (n has key_bits bits).
_MODULUS_HEADROOM_BITS = 3


@dataclass(frozen=True)
class SlotLayout:
    """How entries are packed into one plaintext.

    Attributes:
        value_bits: Every entry of the product has a magnitude below ``2^value_bits``.
        mask_bits: Masks are uniform in ``[0, 2^mask_bits)``; ``mask_bits - value_bits`` is the
            statistical security.
        slot_bits: Width of one slot (a masked entry plus its sign and one carry bit).
        slots: Entries per plaintext.
    """

    value_bits: int
    mask_bits: int
    slot_bits: int
    slots: int

    def groups(self, columns: int) -> int:
        """Ciphertexts per row for ``columns`` packed values."""
        return -(-columns // self.slots) if columns else 0


def plan_layout(
    key_bits: int,
    rows: int,
    left_bound_bits: int,
    right_bound_bits: int,
    *,
    statistical_bits: int = STATISTICAL_SECURITY_BITS,
) -> SlotLayout:
    """The layout for ``rows`` rows whose columns have Euclidean norms below ``2^left_bound_bits`` (A) and
    ``2^right_bound_bits`` (B, encoded): by Cauchy-Schwarz an entry of ``A^T B`` is below their product.

    Raises:
        ValueError: Fewer than 40 statistical bits, or not even one slot fits the key.
    """
    if statistical_bits < 40:
        raise ValueError(f"statistical_bits must be at least 40, got {statistical_bits}")
    if rows < 1:
        raise ValueError(f"rows must be positive, got {rows}")
    value_bits = left_bound_bits + right_bound_bits
    mask_bits = value_bits + statistical_bits
    slot_bits = mask_bits + 2  # a masked entry lies in (-2^value_bits, 2^mask_bits + 2^value_bits)
    slots = (key_bits - _MODULUS_HEADROOM_BITS) // slot_bits
    if slots < 1:
        raise ValueError(f"a {key_bits}-bit key cannot hold one {slot_bits}-bit slot")
    return SlotLayout(value_bits, mask_bits, slot_bits, slots)


def pack_rows(encoded: npt.NDArray[np.int64], layout: SlotLayout) -> list[list[int]]:
    """Per slot group, one packed signed integer per row: ``sum_i a_(r, g*slots+i) 2^(i slot_bits)``."""
    matrix = np.asarray(encoded)
    columns = matrix.shape[1]
    packed: list[list[int]] = []
    for group in range(layout.groups(columns)):
        block = matrix[:, group * layout.slots : (group + 1) * layout.slots].tolist()
        packed.append([_pack_signed(row, layout.slot_bits) for row in block])
    return packed


def encrypt_rows(
    public_key: PublicKey,
    encoded: npt.NDArray[np.int64],
    layout: SlotLayout,
    *,
    executor: Executor | None = None,
) -> list[EncryptedVector]:
    """Step 1: one vector of ``rows`` fresh ciphertexts per slot group (encrypted in one parallel batch)."""
    groups = pack_rows(encoded, layout)
    if not groups:
        return []
    rows = len(groups[0])
    flat = np.array([value for group in groups for value in group], dtype=object)
    encrypted = paillier.encrypt(public_key, flat, scale=0, executor=executor)
    cts = encrypted.ciphertexts
    return [EncryptedVector(public_key, cts[g * rows : (g + 1) * rows], 0) for g in range(len(groups))]


def masked_products(
    encrypted_groups: list[EncryptedVector],
    right: npt.ArrayLike,
    left_columns: int,
    layout: SlotLayout,
    *,
    precision_bits: int,
    executor: Executor | None = None,
) -> tuple[list[EncryptedVector], np.ndarray]:
    """Steps 2 and 3 over all rows at once: ``mask_products(block_products(...))``."""
    products = block_products(encrypted_groups, right, precision_bits=precision_bits, executor=executor)
    return mask_products(products, left_columns, layout)


def block_products(
    encrypted_groups: list[EncryptedVector],
    right: npt.ArrayLike,
    *,
    precision_bits: int,
    executor: Executor | None = None,
) -> list[EncryptedVector]:
    """Step 2 for a block of rows: per slot group, ``[[A_block^T B_block]]`` column by column (at the raw
    integer level, scale 0). Blocks of rows add up with ``add_products``. Not re-randomised."""
    matrix = np.asarray(right, dtype=np.float64)
    products = []
    for vector in encrypted_groups:
        product = transpose_matvec(matrix, vector, precision_bits=precision_bits, executor=executor)
        products.append(EncryptedVector(vector.public_key, product.ciphertexts, 0))
    return products


def add_products(totals: list[EncryptedVector] | None, block: list[EncryptedVector]) -> list[EncryptedVector]:
    """The running sums of ``block_products`` over row blocks (homomorphic additions)."""
    if totals is None:
        return block
    return [total + part for total, part in zip(totals, block, strict=True)]


def mask_products(
    products: list[EncryptedVector], left_columns: int, layout: SlotLayout
) -> tuple[list[EncryptedVector], np.ndarray]:
    """Step 3: per slot group, the ``q`` products with a fresh uniform mask added to every slot, each
    ciphertext re-randomised, and the masks.

    Returns:
        The masked vectors (group g's element j packs the entries ``(g*slots + i, j)``) and the masks as a
        ``(left_columns, q)`` object array of Python ints (the right party's share is their negation).
    """
    columns = len(products[0]) if products else 0
    masks = np.empty((left_columns, columns), dtype=object)
    results = []
    for group, vector in enumerate(products):
        start = group * layout.slots
        width = min(layout.slots, left_columns - start)
        group_masks = [[secrets.randbits(layout.mask_bits) for _ in range(columns)] for _ in range(width)]
        masks[start : start + width, :] = np.array(group_masks, dtype=object).reshape(width, columns)
        packed_masks = [
            _pack_signed([group_masks[i][j] for i in range(width)], layout.slot_bits) for j in range(columns)
        ]
        raw = EncryptedVector(vector.public_key, vector.ciphertexts, 0)
        results.append(raw.add(np.array(packed_masks, dtype=object)).rerandomize())
    return results, masks


def decrypt_products(
    private_key: PrivateKey,
    masked: list[EncryptedVector],
    left_columns: int,
    layout: SlotLayout,
    *,
    executor: Executor | None = None,
) -> np.ndarray:
    """Step 4: the key owner's share, a ``(left_columns, q)`` object array of Python ints."""
    n = int(private_key.public_key.n)
    rows: list[list[int]] = []
    for group, vector in enumerate(masked):
        width = min(layout.slots, left_columns - group * layout.slots)
        residues = paillier.decrypt_residues(private_key, vector, executor=executor)
        per_column = [_unpack_signed(_signed(m, n), layout.slot_bits, width) for m in residues]
        rows.extend([column[i] for column in per_column] for i in range(width))
    return np.array(rows, dtype=object).reshape(left_columns, len(masked[0]) if masked else 0)


def shares_to_bytes(shares: np.ndarray, layout: SlotLayout) -> npt.NDArray[np.uint8]:
    """Signed integers of at most ``slot_bits`` bits as a ``shape + (width,)`` uint8 array (two's
    complement, big-endian), so that they travel in the safe array codec."""
    width = _share_width(layout)
    flat = [int(v).to_bytes(width, "big", signed=True) for v in np.asarray(shares).reshape(-1)]
    return np.frombuffer(b"".join(flat), dtype=np.uint8).reshape(*np.asarray(shares).shape, width)


def shares_from_bytes(data: np.ndarray, layout: SlotLayout) -> np.ndarray:
    """The inverse of ``shares_to_bytes``.

    Raises:
        ValueError: The last axis is not the layout's width, or a value exceeds ``slot_bits`` bits.
    """
    width = _share_width(layout)
    array = np.asarray(data, dtype=np.uint8)
    if array.ndim < 1 or array.shape[-1] != width:
        raise ValueError(f"shares must be {width} bytes each, got shape {array.shape}")
    raw = array.tobytes()
    limit = 1 << layout.slot_bits
    values = []
    for start in range(0, len(raw), width):
        value = int.from_bytes(raw[start : start + width], "big", signed=True)
        if not -limit <= value < limit:
            raise ValueError("a share exceeds the slot width")
        values.append(value)
    return np.array(values, dtype=object).reshape(array.shape[:-1])


def _share_width(layout: SlotLayout) -> int:
    return (layout.slot_bits + 8) // 8  # slot_bits magnitude bits and a sign bit


def _pack_signed(values: list[int], slot_bits: int) -> int:
    """``sum_i v_i 2^(i slot_bits)`` (Horner, highest slot first); negative slots borrow from the next."""
    total = 0
    for value in reversed(values):
        total = (total << slot_bits) + int(value)
    return total


def _unpack_signed(value: int, slot_bits: int, count: int) -> list[int]:
    """Balanced digits: each slot in ``[-2^(slot_bits-1), 2^(slot_bits-1))``, lowest first."""
    base, half = 1 << slot_bits, 1 << (slot_bits - 1)
    digits = []
    for _ in range(count):
        digit = value & (base - 1)
        if digit >= half:
            digit -= base
        digits.append(digit)
        value = (value - digit) >> slot_bits
    if value != 0:
        raise OverflowError("a packed value exceeds its slots (the layout does not match the data)")
    return digits


def _signed(residue: int, n: int) -> int:
    return residue - n if residue > n // 2 else residue
