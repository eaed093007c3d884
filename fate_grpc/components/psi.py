"""The psi component: ECDH private set intersection of match ids between the guest and every host.

FATE's ``curve_type="curve25519"``: ids are hashed with Elligator 2 and signed by X25519 multiplication on
Curve25519 in Montgomery form, via libsodium; see ``fate_grpc.crypto.ecdh``. The wire format is this project's
own, so a party of this system only intersects with another party of this system.

Protocol between the guest (secret k_g) and each host (secret k_h), H the hash to the curve:

1. guest -> host ``psi.guest_first_sign``: k_g·H(g) for every guest row, in guest row order.
2. host -> guest ``psi.host_first_sign``: k_h·H(h) for every host row, in host row order.
3. host -> guest ``psi.guest_second_sign``: k_h·(k_g·H(g)), in the order received.
4. guest computes k_g·(k_h·H(h)) and matches it against step 3: for each guest row, the host row with the same
   id, if any. With several hosts, a guest row is kept only if every host has its id.
5. guest -> host ``psi.host_indexer``: int64 host row positions, one per kept guest row, in guest row order.

Each party outputs its own rows (same schema): the guest its kept rows in original order, each host the rows
the indexer names, in that order, so row i is the same id at every party. Host ids must be unique; guest ids
may repeat (each such guest row is kept and the host row is repeated). The guest learns which of its rows
intersect and the matching host positions; a host learns which of its rows intersect; neither sees the
other's raw ids.
"""

from __future__ import annotations

import numpy as np

from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import UNTYPED_METRIC, ComponentContext, ComponentError, Party
from fate_grpc.components.table import Table
from fate_grpc.crypto import ecdh

INPUT_KEY = "input_data"
OUTPUT_KEY = "output_data"
TAG_GUEST_FIRST_SIGN = "psi.guest_first_sign"
TAG_HOST_FIRST_SIGN = "psi.host_first_sign"
TAG_GUEST_SECOND_SIGN = "psi.guest_second_sign"
TAG_HOST_INDEXER = "psi.host_indexer"
POINTS = "points"
POSITIONS = "positions"

SUPPORTED = {"protocol": "ecdh_psi", "curve_type": "curve25519"}


def run(ctx: ComponentContext) -> None:
    """Intersect this party's `input_data` with the other parties' and write `output_data`."""
    _check_parameters(ctx)
    table = ctx.read_input_table(INPUT_KEY)
    if ctx.role == "guest":
        output = _run_guest(ctx, table)
    elif ctx.role == "host":
        output = _run_host(ctx, table)
    else:
        raise ComponentError(f"psi runs at guest and host, not at {ctx.role}")
    ctx.write_output_table(OUTPUT_KEY, output)


def _run_guest(ctx: ComponentContext, table: Table) -> Table:
    hosts = [party for party in ctx.parties if party.role == "host"]
    if not hosts:
        raise ComponentError("psi needs at least one host")
    ids = _match_ids(table, ctx)
    secret = ecdh.new_secret()
    first_sign = encode_arrays({POINTS: ecdh.hash_and_blind(ids, secret)})
    ctx.report_progress(30)
    for host in hosts:
        ctx.send(TAG_GUEST_FIRST_SIGN, host, first_sign)

    keep = np.ones(len(ids), dtype=bool)
    host_positions: dict[Party, np.ndarray] = {}
    for host in hosts:
        positions = _match_with_host(ctx, host, secret, len(ids))
        ctx.log.info(
            "psi: %d of %d guest rows found at %s", int(np.count_nonzero(positions >= 0)), len(ids), host
        )
        keep &= positions >= 0
        host_positions[host] = positions

    rows = np.flatnonzero(keep)
    for host in hosts:
        indexer = host_positions[host][rows].astype(np.int64)
        ctx.send(TAG_HOST_INDEXER, host, encode_arrays({POSITIONS: indexer}))
    ctx.report_progress(90)
    _log_summary(ctx, len(ids), len(rows))
    return table.take(rows)


def _match_with_host(ctx: ComponentContext, host: Party, secret: bytes, guest_rows: int) -> np.ndarray:
    """For each guest row, the position of the host row with the same id, or -1."""
    host_signed = _receive_points(ctx, TAG_HOST_FIRST_SIGN, host)
    guest_double = _receive_points(ctx, TAG_GUEST_SECOND_SIGN, host)
    if len(guest_double) != guest_rows:
        raise ComponentError(
            f"psi: {TAG_GUEST_SECOND_SIGN} from {host} has {len(guest_double)} points, expected {guest_rows}"
        )
    try:
        host_double = ecdh.reblind(host_signed, secret)
        return ecdh.match_points(guest_double, host_double)
    except ecdh.InvalidPointError as error:
        raise ComponentError(f"psi: invalid points from {host}: {error}") from None


def _run_host(ctx: ComponentContext, table: Table) -> Table:
    guest = _the_guest(ctx)
    ids = _match_ids(table, ctx)
    duplicates = len(ids) - len(set(ids))
    if duplicates:
        raise ComponentError(
            f"psi: {duplicates} duplicate match id(s) in column {table.schema.match_id_name!r} at "
            f"{ctx.role} {ctx.party_id}; host match ids must be unique"
        )
    secret = ecdh.new_secret()
    ctx.send(TAG_HOST_FIRST_SIGN, guest, encode_arrays({POINTS: ecdh.hash_and_blind(ids, secret)}))
    ctx.report_progress(30)
    guest_signed = _receive_points(ctx, TAG_GUEST_FIRST_SIGN, guest)
    try:
        guest_double = ecdh.reblind(guest_signed, secret)
    except ecdh.InvalidPointError as error:
        raise ComponentError(f"psi: invalid points from {guest}: {error}") from None
    ctx.send(TAG_GUEST_SECOND_SIGN, guest, encode_arrays({POINTS: guest_double}))
    ctx.report_progress(60)

    indexer = _receive_indexer(ctx, guest, len(ids))
    _log_summary(ctx, len(ids), len(np.unique(indexer)))
    return table.take(indexer)


def _the_guest(ctx: ComponentContext) -> Party:
    guests = [party for party in ctx.parties if party.role == "guest"]
    if len(guests) != 1:
        raise ComponentError(f"psi needs exactly one guest, the task has {len(guests)}")
    return guests[0]


def _match_ids(table: Table, ctx: ComponentContext) -> list[str]:
    ids = table.ids
    missing = int(ids.isna().sum())
    if missing:
        raise ComponentError(
            f"psi: {missing} row(s) without a match id in column {table.schema.match_id_name!r} "
            f"at {ctx.role} {ctx.party_id}"
        )
    return [str(value) for value in ids.tolist()]


def _receive_points(ctx: ComponentContext, tag: str, source: Party) -> np.ndarray:
    array = _receive_array(ctx, tag, source, POINTS)
    try:
        return ecdh.check_points(array)
    except ecdh.InvalidPointError as error:
        raise ComponentError(f"psi: invalid points from {source} under {tag}: {error}") from None


def _receive_indexer(ctx: ComponentContext, guest: Party, host_rows: int) -> np.ndarray:
    indexer = _receive_array(ctx, TAG_HOST_INDEXER, guest, POSITIONS)
    if indexer.ndim != 1 or indexer.dtype != np.int64:
        raise ComponentError(
            f"psi: {TAG_HOST_INDEXER} from {guest} must be a 1-d int64 array, "
            f"got {indexer.shape} {indexer.dtype}"
        )
    if len(indexer) and (int(indexer.min()) < 0 or int(indexer.max()) >= host_rows):
        raise ComponentError(f"psi: {TAG_HOST_INDEXER} from {guest} names rows outside 0..{host_rows - 1}")
    return indexer


def _receive_array(ctx: ComponentContext, tag: str, source: Party, name: str) -> np.ndarray:
    payload = ctx.receive(tag, source)
    try:
        arrays = decode_arrays(payload)
    except Exception as error:  # a malformed payload from a peer is the peer's error, not ours
        raise ComponentError(f"psi: undecodable {tag} from {source}: {type(error).__name__}") from None
    if name not in arrays:
        raise ComponentError(f"psi: {tag} from {source} lacks array {name!r}")
    return arrays[name]


def _check_parameters(ctx: ComponentContext) -> None:
    for name, supported in SUPPORTED.items():
        value = ctx.parameters.get(name, supported)
        if value != supported:
            raise ComponentError(f"psi: {name}={value!r} is not supported (only {supported!r})")


def _log_summary(ctx: ComponentContext, input_count: int, intersect_count: int) -> None:
    rate = intersect_count / input_count if input_count else 0.0
    ctx.log.info(
        "psi summary: input_count=%d intersect_count=%d intersect_rate=%.4f method=curve25519",
        input_count,
        intersect_count,
        rate,
    )
    # FATE's psi metrics at each party: `intersect_id_count` (type custom) and the untyped `summary`.
    ctx.log_metric("intersect_id_count", {"intersect_count": intersect_count}, type="custom")
    ctx.log_metric(
        "summary",
        {
            "input_count": input_count,
            "intersect_count": intersect_count,
            "intersect_rate": rate,
            "method": "curve25519",
        },
        type=UNTYPED_METRIC,
    )
    if intersect_count == 0:
        ctx.log.warning("psi: the intersection is empty; output_data has no rows")
