"""The messages of feature_correlation between its guest and its host (see the package docstring).

1. both ways ``correlation.setup``: local_only, and unless it is set the row count, a hash of the row ids,
   the anonymous names of the chosen columns and which of them are constant.
2. guest -> host ``correlation.public_key``, then ``correlation.encrypted_rows.<k>`` for each block k of
   ``ROW_BLOCK`` rows: the guest's packed, encoded standardised rows, each ciphertext freshly randomised.
   The host multiplies block k while the guest encrypts block k + 1.
3. host -> guest ``correlation.masked_products``: masked, re-randomised packed entries of ``Z_G^T Z_H``.
4. both ways ``correlation.share``: each party's additive share, which opens the cross products.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.model_common.crypto_workers import CryptoWorkers
from fate_grpc.components.model_common.parties import ids_digest
from fate_grpc.components.model_common.stopwatch import Stopwatch
from fate_grpc.components.table import Table
from fate_grpc.crypto import cross_product, paillier
from fate_grpc.crypto.cross_product import SlotLayout
from fate_grpc.ml import correlation

TAG_SETUP = "correlation.setup"
TAG_PUBLIC_KEY = "correlation.public_key"
TAG_ROWS = "correlation.encrypted_rows"
TAG_PRODUCTS = "correlation.masked_products"
TAG_SHARE = "correlation.share"
# FATE's minimum Paillier key size (safety.phe.paillier.minimum_key_size).
KEY_BITS = 1024
# Rows per encrypted block (about 4 MiB of ciphertexts per slot group with 1024-bit keys).
ROW_BLOCK = 8192
CRYPTO, TRANSFER = "crypto", "transfer"

_clock = Stopwatch()


@dataclass(frozen=True)
class Header:
    """What a party tells the other about its side before the product (nothing about values)."""

    rows: int
    digest: bytes
    anonymous: list[str]
    constant: np.ndarray

    @classmethod
    def of(cls, table: Table, anonymous: list[str], constant: np.ndarray) -> Header:
        return cls(len(table), ids_digest(table.ids.tolist()), list(anonymous), np.asarray(constant, bool))


def exchange_setup(
    ctx: ComponentContext, peer: Party, local_only: bool, header: Header | None
) -> Header | None:
    """Send this party's setup and read the peer's; the peer's header unless local_only.

    Raises:
        ComponentError: local_only differs between the parties, or their rows are not aligned.
    """
    _clock.reset()
    arrays: dict[str, np.ndarray] = {"local_only": np.array([local_only])}
    if header is not None:
        arrays.update(
            rows=np.array([header.rows], dtype=np.int64),
            digest=np.frombuffer(header.digest, dtype=np.uint8),
            anonymous=np.array(header.anonymous, dtype=str).reshape(-1),
            constant=header.constant,
        )
    with _clock.measure(TRANSFER):
        ctx.send(TAG_SETUP, peer, encode_arrays(arrays))
        received = _decoded(ctx.receive(TAG_SETUP, peer), peer, TAG_SETUP)
    peer_local_only = bool(_field(received, "local_only", peer)[0])
    if peer_local_only != local_only:
        values = {f"{ctx.role} {ctx.party_id}": local_only, str(peer): peer_local_only}
        listed = ", ".join(f"{str(v).lower()} at {p}" for p, v in sorted(values.items()))  # guest first
        raise ComponentError(
            f"feature_correlation: local_only differs between the parties ({listed}); give both the same"
            " value"
        )
    if header is None:
        return None
    theirs = Header(
        rows=int(_field(received, "rows", peer)[0]),
        digest=_field(received, "digest", peer).astype(np.uint8).tobytes(),
        anonymous=[str(a) for a in _field(received, "anonymous", peer).tolist()],
        constant=_field(received, "constant", peer).astype(bool),
    )
    if theirs.rows != header.rows or theirs.digest != header.digest:
        raise ComponentError(
            f"feature_correlation: the rows at {ctx.role} {ctx.party_id} ({header.rows}) and at {peer}"
            f" ({theirs.rows}) are not the same rows in the same order; run psi first"
        )
    if len(theirs.constant) != len(theirs.anonymous):
        raise ComponentError(f"feature_correlation: a malformed setup from {peer}")
    return theirs


def cross_correlation(
    ctx: ComponentContext, peer: Party, data: correlation.Standardised, peer_header: Header
) -> np.ndarray:
    """The (guest columns x host columns) correlation matrix, at either party."""
    guest_columns = data.values.shape[1] if ctx.role == "guest" else len(peer_header.anonymous)
    host_columns = len(peer_header.anonymous) if ctx.role == "guest" else data.values.shape[1]
    if guest_columns == 0 or host_columns == 0:
        return np.zeros((guest_columns, host_columns))
    with CryptoWorkers(data.rows) as executor:
        if ctx.role == "guest":
            own_share, peer_share = _guest_shares(ctx, peer, data, host_columns, executor)
        else:
            own_share, peer_share = _host_shares(ctx, peer, data, guest_columns, executor)
    guest_share, host_share = (own_share, peer_share) if ctx.role == "guest" else (peer_share, own_share)
    guest_constant = data.constant if ctx.role == "guest" else peer_header.constant
    host_constant = peer_header.constant if ctx.role == "guest" else data.constant
    ctx.log.info("correlation: finished %s", _clock.parts((CRYPTO, TRANSFER)))
    return correlation.correlation_from_shares(
        guest_share, host_share, data.rows, left_constant=guest_constant, right_constant=host_constant
    )


def layout_for(key_bits: int, rows: int) -> SlotLayout:
    """The packing both parties derive from the key size and the row count."""
    bound = correlation.norm_bound_bits(rows, correlation.PRECISION_BITS)
    return cross_product.plan_layout(key_bits, rows, bound, bound)


def row_blocks(rows: int) -> list[slice]:
    """The blocks of rows the guest encrypts and sends one by one (both parties derive them)."""
    return [slice(start, min(start + ROW_BLOCK, rows)) for start in range(0, rows, ROW_BLOCK)]


def rows_tag(block: int) -> str:
    return f"{TAG_ROWS}.{block}"


def _guest_shares(
    ctx: ComponentContext,
    peer: Party,
    data: correlation.Standardised,
    host_columns: int,
    executor: Executor | None,
) -> tuple[np.ndarray, np.ndarray]:
    with _timed(ctx, "generated a key"):
        public, private = paillier.generate_keypair(KEY_BITS)
    layout = layout_for(public.key_bits, data.rows)
    encoded = correlation.encode_fixed(data, correlation.PRECISION_BITS)
    with _clock.measure(TRANSFER):
        ctx.send(TAG_PUBLIC_KEY, peer, public.to_bytes())
    # Block by block, so that the host multiplies one block while the next is encrypted.
    for index, block in enumerate(row_blocks(data.rows)):
        with _timed(ctx, f"encrypted packed rows {block.start}-{block.stop}"):
            groups = cross_product.encrypt_rows(public, encoded[block], layout, executor=executor)
        with _clock.measure(TRANSFER):
            ctx.send(rows_tag(index), peer, encode_arrays({"groups": _vector_bytes(groups)}))
    ctx.report_progress(50)
    with _clock.measure(TRANSFER):
        received = _decoded(ctx.receive(TAG_PRODUCTS, peer), peer, TAG_PRODUCTS)
    expected_groups = layout.groups(data.values.shape[1])
    masked = _vectors(public, _field(received, "products", peer), expected_groups, peer, TAG_PRODUCTS)
    if any(len(vector) != host_columns for vector in masked):
        raise ComponentError(f"feature_correlation: {peer} sent products for another column count")
    with _timed(ctx, "decrypted the masked products"):
        share = cross_product.decrypt_products(
            private, masked, data.values.shape[1], layout, executor=executor
        )
    return share, _exchange_shares(ctx, peer, share, layout)


def _host_shares(
    ctx: ComponentContext,
    peer: Party,
    data: correlation.Standardised,
    guest_columns: int,
    executor: Executor | None,
) -> tuple[np.ndarray, np.ndarray]:
    with _clock.measure(TRANSFER):
        key_bytes = ctx.receive(TAG_PUBLIC_KEY, peer)
    public = _public_key(key_bytes, peer)
    layout = layout_for(public.key_bits, data.rows)
    totals: list[paillier.EncryptedVector] | None = None
    for index, block in enumerate(row_blocks(data.rows)):
        with _clock.measure(TRANSFER):
            payload = ctx.receive(rows_tag(index), peer)
        encrypted = _field(_decoded(payload, peer, TAG_ROWS), "groups", peer)
        groups = _vectors(public, encrypted, layout.groups(guest_columns), peer, TAG_ROWS)
        if any(len(group) != block.stop - block.start for group in groups):
            raise ComponentError(f"feature_correlation: {peer} sent rows for another row count")
        with _timed(ctx, f"multiplied the guest's rows {block.start}-{block.stop}"):
            partial = cross_product.block_products(
                groups, data.values[block], precision_bits=correlation.PRECISION_BITS, executor=executor
            )
            totals = cross_product.add_products(totals, partial)
    with _timed(ctx, "masked the products"):
        masked, masks = cross_product.mask_products(totals or [], guest_columns, layout)
    with _clock.measure(TRANSFER):
        ctx.send(TAG_PRODUCTS, peer, encode_arrays({"products": _vector_bytes(masked)}))
    ctx.report_progress(70)
    share = -masks
    return share, _exchange_shares(ctx, peer, share, layout)


def _public_key(data: bytes, peer: Party) -> paillier.PublicKey:
    try:
        public = paillier.PublicKey.from_bytes(data)
    except ValueError as error:
        raise ComponentError(f"feature_correlation: a bad public key from {peer}: {error}") from None
    if public.key_bits < paillier.MIN_KEY_BITS:
        raise ComponentError(
            f"feature_correlation: {peer}'s key has {public.key_bits} bits, fewer than"
            f" {paillier.MIN_KEY_BITS}"
        )
    return public


def _exchange_shares(ctx: ComponentContext, peer: Party, share: np.ndarray, layout: SlotLayout) -> np.ndarray:
    with _clock.measure(TRANSFER):
        ctx.send(TAG_SHARE, peer, encode_arrays({"share": cross_product.shares_to_bytes(share, layout)}))
        received = _decoded(ctx.receive(TAG_SHARE, peer), peer, TAG_SHARE)
    try:
        theirs = cross_product.shares_from_bytes(_field(received, "share", peer), layout)
    except ValueError as error:
        raise ComponentError(f"feature_correlation: a bad share from {peer}: {error}") from None
    if theirs.shape != share.shape:
        raise ComponentError(f"feature_correlation: {peer} sent a share of shape {theirs.shape}")
    return theirs


def _vector_bytes(vectors: list[paillier.EncryptedVector]) -> np.ndarray:
    """Each vector's serialised form, concatenated (a vector carries its own length in its header)."""
    return np.array([np.frombuffer(v.to_bytes(), dtype=np.uint8) for v in vectors], dtype=np.uint8)


def _vectors(
    public: paillier.PublicKey, data: np.ndarray, expected: int, peer: Party, tag: str
) -> list[paillier.EncryptedVector]:
    if data.ndim != 2 or data.shape[0] != expected:
        raise ComponentError(f"feature_correlation: {peer} sent {tag} for another column count")
    try:
        return [paillier.EncryptedVector.from_bytes(public, row.tobytes()) for row in data]
    except ValueError as error:
        raise ComponentError(f"feature_correlation: bad ciphertexts in {tag} from {peer}: {error}") from None


def _decoded(payload: bytes, peer: Party, tag: str) -> dict[str, np.ndarray]:
    try:
        return decode_arrays(payload)
    except (ValueError, OSError):
        raise ComponentError(f"feature_correlation: a malformed {tag} from {peer}") from None


def _field(arrays: dict[str, np.ndarray], name: str, peer: Party) -> np.ndarray:
    if name not in arrays:
        raise ComponentError(f"feature_correlation: {peer}'s message lacks {name!r}")
    return arrays[name]


class _timed:
    """Counts the block as crypto time and logs how long it took (bench/feature_correlation.py reads it)."""

    def __init__(self, ctx: ComponentContext, what: str) -> None:
        self._ctx, self._what = ctx, what
        self._started = 0.0

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self._started
        _clock.totals()[CRYPTO] += elapsed
        self._ctx.log.info("correlation: %s in %.3fs", self._what, elapsed)
