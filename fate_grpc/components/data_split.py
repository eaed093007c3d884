"""The data_split component: FATE's train / validate / test split, the same ids in the same split everywhere.

Protocol with ``hetero_sync=True`` (the default; the hetero case, after psi aligned the parties' ids):

1. The guest splits its rows with ``fate_grpc.ml.sampling.split_indices`` (train_size, validate_size,
   test_size, random_state; stratified on its label column when ``stratified=True``). Each split keeps the
   guest's row order.
2. guest -> each host ``data_split.ids``: three fixed-width unicode arrays ``train``, ``validate`` and
   ``test``, the match ids of each split in that order. Nothing else is sent.
3. Each host outputs, for each split, its rows with those ids in the order received. An id the host lacks
   is an error (psi should have run first). Host rows whose id the guest did not send are dropped (a
   warning says how many).

A match id that appears several times at a host is served by its copies in turn (the k-th request for an
id gets its k-th copy, cycling), so the copies psi makes for an id the guest repeats are each used once.

What each party learns: a host learns which of its ids fell into which split (so the split sizes); it does
not see the guest's labels or features, even when the split is stratified on them. The guest learns
nothing from the hosts. The hosts' own size, stratified and random_state parameters are not used.

With ``hetero_sync=False`` every party splits its own rows with its own parameters and nothing is
exchanged (local or homo use); ``stratified`` then needs a label column at that party.

Outputs: ``train_output_data``, ``validate_output_data`` and ``test_output_data``, always all three (an
empty split is an empty table with the input's schema). Metric ``summary`` (type ``data_split``) at every
party: ``{original_count, train_count, validate_count, test_count}``; with ``stratified`` the party that
split also logs ``<label>_summary`` (same keys, per label; groups default/train), as FATE does.

The helpers for the guest-decides-and-sends-ids pattern (``the_guest``, ``the_hosts``, ``match_id_array``,
``receive_id_arrays``, ``positions_of_ids``) are shared with the sample component.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.components.table import Table
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.ml.sampling import split_indices

INPUT_KEY = "input_data"
SPLITS = ("train", "validate", "test")
OUTPUT_KEYS = tuple(f"{split}_output_data" for split in SPLITS)
SIZE_PARAMS = tuple(f"{split}_size" for split in SPLITS)
TAG_IDS = "data_split.ids"
_GUEST_HOST = frozenset({"guest", "host"})

IntArray = npt.NDArray[np.int64]

SPEC = ComponentSpec(
    name="data_split",
    roles=_GUEST_HOST,
    stages={
        "default": StageSpec(
            inputs=(ArtifactSpec(INPUT_KEY, "data", _GUEST_HOST),),
            outputs=tuple(ArtifactSpec(key, "data", _GUEST_HOST, optional=True) for key in OUTPUT_KEYS),
        ),
    },
    parameters={
        # FATE reads a number in [0, 1] as a fraction (1 = all rows) and a whole number > 1 as a count.
        **{name: ParamSpec(name, check=checks.fraction_or_count()) for name in SIZE_PARAMS},
        "stratified": ParamSpec("stratified", default=False, check=checks.boolean()),
        "random_state": ParamSpec("random_state", check=checks.integer(ge=0)),
        "hetero_sync": ParamSpec("hetero_sync", default=True, check=checks.boolean()),
    },
    description="Splits rows into train/validate/test; the guest decides and sends the hosts the ids.",
)


def run(ctx: ComponentContext) -> None:
    """Split this party's `input_data` and write the three split outputs."""
    ctx = with_checked_parameters(ctx, SPEC)
    table = ctx.read_input_table(INPUT_KEY)
    if bool_param(ctx, "hetero_sync", True, "data_split"):
        if ctx.role == "guest":
            parts = _run_guest(ctx, table)
        elif ctx.role == "host":
            parts = _run_host(ctx, table)
        else:
            raise ComponentError(f"data_split runs at guest and host, not at {ctx.role}")
    else:
        parts = tuple(table.take(rows) for rows in _split_positions(ctx, table))
    ctx.report_progress(90)
    for key, part in zip(OUTPUT_KEYS, parts, strict=True):
        ctx.write_output_table(key, part)
    summary = {"original_count": len(table)}
    summary.update({f"{split}_count": len(part) for split, part in zip(SPLITS, parts, strict=True)})
    ctx.log.info("data_split summary: %s", summary)
    ctx.log_metric("summary", summary, type="data_split")
    if ctx.parameters.get("stratified") and (ctx.role == "guest" or not ctx.parameters.get("hetero_sync")):
        _log_label_summaries(ctx, table, parts)


def _log_label_summaries(ctx: ComponentContext, table: Table, parts: tuple[Table, ...]) -> None:
    """FATE's stratified split also logs ``<label>_summary`` per label, in its "train" namespace."""
    name = table.schema.label_name
    for label in sorted(table.frame[name].unique().tolist(), key=lambda v: (str(type(v)), v)):
        counts = {"original_count": int((table.frame[name] == label).sum())}
        for split, part in zip(SPLITS, parts, strict=True):
            counts[f"{split}_count"] = int((part.frame[name] == label).sum())
        ctx.log_metric(
            f"{plain_label(label)}_summary",
            counts,
            type="data_split",
            groups=(("default", None), ("train", None)),
        )


def plain_label(value: object) -> str:
    """A label value as FATE names it in metrics (1 and 1.0 both give "1")."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _run_guest(ctx: ComponentContext, table: Table) -> tuple[Table, ...]:
    hosts = the_hosts(ctx, "data_split")
    positions = _split_positions(ctx, table)
    ids = match_id_array(ctx, table, "data_split")
    payload = encode_arrays({split: ids[rows] for split, rows in zip(SPLITS, positions, strict=True)})
    for host in hosts:
        ctx.send(TAG_IDS, host, payload)
    return tuple(table.take(rows) for rows in positions)


def _run_host(ctx: ComponentContext, table: Table) -> tuple[Table, ...]:
    guest = the_guest(ctx, "data_split")
    arrays = receive_id_arrays(ctx, TAG_IDS, guest, SPLITS, "data_split")
    wanted = np.concatenate([arrays[split] for split in SPLITS])
    positions = positions_of_ids(ctx, table, wanted, "data_split")
    unused = len(table) - len(np.unique(positions))
    if unused > 0:
        ctx.log.warning(
            "data_split: %d host row(s) have an id the guest did not send; they are dropped", unused
        )
    cuts = np.cumsum([len(arrays[split]) for split in SPLITS])[:-1]
    return tuple(table.take(rows) for rows in np.split(positions, cuts))


def _split_positions(ctx: ComponentContext, table: Table) -> tuple[IntArray, IntArray, IntArray]:
    if len(table) == 0:
        raise ComponentError(f"data_split: input_data at {ctx.role} {ctx.party_id} has no rows")
    train, validate, test = (ctx.parameters.get(name) for name in SIZE_PARAMS)
    stratified = bool_param(ctx, "stratified", False, "data_split")
    labels = label_values(ctx, table, "stratified=True", "data_split") if stratified else None
    try:
        return split_indices(
            len(table),
            train,
            validate,
            test,
            stratify_labels=labels,
            random_state=random_state_param(ctx, "data_split"),
        )
    except (ValueError, TypeError) as error:
        raise ComponentError(f"data_split: {error}") from None


# --------------------------------------------------------------------------------------------------
# helpers shared with the sample component


def bool_param(ctx: ComponentContext, name: str, default: bool, component: str) -> bool:
    """The boolean parameter `name` (missing or None gives `default`)."""
    value = ctx.parameters.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ComponentError(f"{component}: {name} must be true or false, got {value!r}")
    return value


def random_state_param(ctx: ComponentContext, component: str) -> int | None:
    """The `random_state` parameter: None or an int >= 0."""
    value = ctx.parameters.get("random_state")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ComponentError(f"{component}: random_state must be an integer >= 0 or null, got {value!r}")
    return value


def the_guest(ctx: ComponentContext, component: str) -> Party:
    """The task's only guest (a host of a hetero_sync component needs it)."""
    guests = [party for party in ctx.parties if party.role == "guest"]
    if len(guests) != 1:
        raise ComponentError(
            f"{component}: hetero_sync=True needs exactly one guest, the task has {len(guests)}; "
            "set hetero_sync=False to work at each party alone"
        )
    return guests[0]


def the_hosts(ctx: ComponentContext, component: str) -> list[Party]:
    """The task's hosts; at least one when the guest syncs with them."""
    hosts = [party for party in ctx.parties if party.role == "host"]
    if not hosts:
        raise ComponentError(
            f"{component}: hetero_sync=True needs at least one host; set hetero_sync=False to work alone"
        )
    return hosts


def match_id_array(ctx: ComponentContext, table: Table, component: str) -> np.ndarray:
    """The match ids as a fixed-width unicode array (never object dtype, so it can be sent)."""
    ids = table.ids
    missing = int(ids.isna().sum())
    if missing:
        raise ComponentError(
            f"{component}: {missing} row(s) without a match id in column {table.schema.match_id_name!r} "
            f"at {ctx.role} {ctx.party_id}"
        )
    return np.array([str(value) for value in ids.tolist()], dtype=str)


def label_values(ctx: ComponentContext, table: Table, why: str, component: str) -> np.ndarray:
    """The label column as an array; a clear error when the table has none."""
    name = table.schema.label_name
    if not name or name not in table.frame.columns:
        raise ComponentError(
            f"{component}: {why} needs a label column, and input_data at {ctx.role} {ctx.party_id} has none"
        )
    labels = table.frame[name]
    if labels.isna().any():
        raise ComponentError(
            f"{component}: {why} needs a label on every row; column {name!r} has "
            f"{int(labels.isna().sum())} missing value(s) at {ctx.role} {ctx.party_id}"
        )
    values = labels.to_numpy()
    return values.astype(str) if values.dtype.kind == "O" else values


def receive_id_arrays(
    ctx: ComponentContext, tag: str, source: Party, names: Sequence[str], component: str
) -> dict[str, np.ndarray]:
    """Receive and check a payload of 1-d unicode id arrays named `names`."""
    payload = ctx.receive(tag, source)
    try:
        arrays = decode_arrays(payload)
    except Exception as error:  # a malformed payload from a peer is the peer's error, not ours
        raise ComponentError(
            f"{component}: undecodable {tag} from {source}: {type(error).__name__}"
        ) from None
    for name in names:
        array = arrays.get(name)
        if array is None:
            raise ComponentError(f"{component}: {tag} from {source} lacks array {name!r}")
        if array.ndim != 1 or array.dtype.kind != "U":
            raise ComponentError(
                f"{component}: {tag} array {name!r} from {source} must be 1-d unicode ids, "
                f"got {array.shape} {array.dtype}"
            )
    return {name: arrays[name] for name in names}


def positions_of_ids(ctx: ComponentContext, table: Table, wanted: np.ndarray, component: str) -> IntArray:
    """Row positions in `table` of each id in `wanted`, in order; repeated ids use their copies in turn."""
    ids = pd.Series(match_id_array(ctx, table, component).tolist(), dtype=object)
    requested = pd.Series(wanted.tolist(), dtype=object)
    copies = ids.value_counts()
    missing = ~requested.isin(copies.index)
    if missing.any():
        absent = requested[missing].unique()
        raise ComponentError(
            f"{component}: {len(absent)} of the match ids the guest sent are not in input_data at "
            f"{ctx.role} {ctx.party_id} (e.g. {', '.join(map(str, absent[:3]))}); "
            "run psi first so every party has the same ids, or set hetero_sync=False"
        )
    if len(copies) == len(ids):  # unique ids, the usual case
        return pd.Index(ids).get_indexer(pd.Index(requested)).astype(np.int64)
    turn = requested.groupby(requested, sort=False).cumcount().to_numpy() % requested.map(copies).to_numpy()
    keys = pd.MultiIndex.from_arrays([ids.to_numpy(), ids.groupby(ids, sort=False).cumcount().to_numpy()])
    return keys.get_indexer(pd.MultiIndex.from_arrays([requested.to_numpy(), turn])).astype(np.int64)
