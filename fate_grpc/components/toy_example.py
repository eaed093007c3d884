"""The toy_example component: FATE's connectivity test (`flow test toy`), a federation round trip.

Each party builds the same table of ``data_num`` rows: ``sample_id`` and ``match_id`` are ``str(i)`` and
``x0`` is ``i`` as a float, for i in 0..data_num-1. The rows are laid out in ``partition`` blocks (a row
goes to block ``crc32(sample_id) % partition``; rows keep their order inside a block), so the parameter
shapes the data as FATE's partitioning does.

What crosses between parties (FATE's protocol, with FATE's tags):

1. guest -> every host ``guest_index``: the guest's index of its table, three arrays of equal length:
   ``sample_id`` (unicode), ``block`` and ``offset`` (int64), one entry per row in the guest's row order.
2. Each host selects its own rows whose sample id is in the guest's index (keeping its own row order)
   and sends back ``host_index``: the same three arrays for the rows it selected.
3. The guest selects its rows in the order of the first host's index.

Both parties check that they still have ``data_num`` rows, write them as ``output_data`` and write the
model ``json_model_output``: ``{"data": {"test_role": "<role>"}, "meta": {}}``. There are no metrics.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd

from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.table import Table, TableSchema
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec

OUTPUT_DATA = "output_data"
OUTPUT_MODEL = "json_model_output"
TAG_GUEST_INDEX = "guest_index"
TAG_HOST_INDEX = "host_index"
INDEX_ARRAYS = ("sample_id", "block", "offset")
_GUEST_HOST = frozenset({"guest", "host"})
_SCHEMA = TableSchema(header=("sample_id", "match_id", "x0"), match_id_name="match_id")

SPEC = ComponentSpec(
    name="toy_example",
    roles=_GUEST_HOST,
    stages={
        "default": StageSpec(
            outputs=(
                ArtifactSpec(OUTPUT_DATA, "data", _GUEST_HOST),
                ArtifactSpec(OUTPUT_MODEL, "model", _GUEST_HOST),
            ),
        ),
    },
    parameters={
        "data_num": ParamSpec("data_num", (int,), required=True),
        "partition": ParamSpec("partition", (int,), required=True),
    },
    description="Connectivity test: guest and host exchange their row indexes and keep the same rows.",
)


def run(ctx: ComponentContext) -> None:
    """Build the toy table, exchange indexes with the other side, write the rows and the model."""
    data_num = _positive_int(ctx.parameters, "data_num")
    partition = _positive_int(ctx.parameters, "partition")
    table = build_table(data_num, partition)
    if ctx.role == "guest":
        final = _run_guest(ctx, table, partition)
    elif ctx.role == "host":
        final = _run_host(ctx, table, partition)
    else:
        raise ComponentError(f"toy_example runs at guest and host, not at {ctx.role}")
    if len(final) != data_num:
        raise ComponentError(f"toy_example: data num should be {data_num} instead of {len(final)}")
    ctx.write_output_table(OUTPUT_DATA, final)
    ctx.write_output_model(OUTPUT_MODEL, {"test_role": ctx.role}, {})
    ctx.log.info("toy_example: %s %s kept %d rows", ctx.role, ctx.party_id, len(final))


def build_table(data_num: int, partition: int) -> Table:
    """The toy rows, laid out block by block."""
    sample_ids = [str(i) for i in range(data_num)]
    frame = pd.DataFrame(
        {"sample_id": sample_ids, "match_id": sample_ids, "x0": np.arange(data_num, dtype=np.float64)}
    )
    blocks = block_of(frame["sample_id"], partition)
    order = np.argsort(blocks, kind="stable")
    return Table(frame=frame.iloc[order].reset_index(drop=True), schema=_SCHEMA)


def block_of(sample_ids: pd.Series, partition: int) -> np.ndarray:
    """The block of each row: a hash of its sample id modulo the number of partitions."""
    return np.array([zlib.crc32(s.encode()) % partition for s in sample_ids], dtype=np.int64)


def index_of(table: Table, partition: int) -> dict[str, np.ndarray]:
    """Where each row of `table` lies: sample id, block and offset inside the block, in row order."""
    sample_ids = table.frame["sample_id"].astype(str)
    blocks = block_of(sample_ids, partition)
    offsets = pd.Series(blocks).groupby(blocks).cumcount().to_numpy(dtype=np.int64)
    return {"sample_id": np.array(sample_ids.tolist(), dtype=str), "block": blocks, "offset": offsets}


def _run_guest(ctx: ComponentContext, table: Table, partition: int) -> Table:
    hosts = [party for party in ctx.parties if party.role == "host"]
    if not hosts:
        raise ComponentError("toy_example: the task has no host to exchange indexes with")
    payload = encode_arrays(index_of(table, partition))
    for host in hosts:
        ctx.send(TAG_GUEST_INDEX, host, payload)
    host_index = _receive_index(ctx, TAG_HOST_INDEX, hosts[0])
    return _select(table, host_index, keep_own_order=False)


def _run_host(ctx: ComponentContext, table: Table, partition: int) -> Table:
    guests = [party for party in ctx.parties if party.role == "guest"]
    if len(guests) != 1:
        raise ComponentError(f"toy_example needs exactly one guest, the task has {len(guests)}")
    guest_index = _receive_index(ctx, TAG_GUEST_INDEX, guests[0])
    selected = _select(table, guest_index, keep_own_order=True)
    ctx.send(TAG_HOST_INDEX, guests[0], encode_arrays(index_of(selected, partition)))
    return selected


def _select(table: Table, index: dict[str, np.ndarray], *, keep_own_order: bool) -> Table:
    """Rows whose sample id is in `index`: in this table's order, or in the index's order."""
    wanted = pd.Index(index["sample_id"].tolist())
    own = pd.Index(table.frame["sample_id"].astype(str))
    if keep_own_order:
        return table.take(np.flatnonzero(own.isin(wanted)))
    positions = own.get_indexer(wanted)
    if (positions < 0).any():
        missing = wanted[positions < 0]
        raise ComponentError(
            f"toy_example: {len(missing)} sample id(s) of the host's index are not in this table "
            f"(e.g. {', '.join(missing[:3])})"
        )
    return table.take(positions)


def _receive_index(ctx: ComponentContext, tag: str, source: Party) -> dict[str, np.ndarray]:
    try:
        arrays = decode_arrays(ctx.receive(tag, source))
    except ComponentError:
        raise
    except Exception as error:  # a malformed payload is the sender's fault, reported as such
        raise ComponentError(
            f"toy_example: undecodable {tag} from {source}: {type(error).__name__}"
        ) from None
    missing = [name for name in INDEX_ARRAYS if name not in arrays]
    if missing:
        raise ComponentError(f"toy_example: {tag} from {source} lacks array(s) {missing}")
    lengths = {arrays[name].shape for name in INDEX_ARRAYS}
    if len(lengths) != 1 or arrays["sample_id"].ndim != 1 or arrays["sample_id"].dtype.kind != "U":
        raise ComponentError(f"toy_example: {tag} from {source} is not three 1-d arrays of equal length")
    return {name: arrays[name] for name in INDEX_ARRAYS}


def _positive_int(parameters: dict[str, Any], name: str) -> int:
    value = parameters.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ComponentError(f"toy_example: parameters.{name} must be an integer > 0, got {value!r}")
    return value
