"""The sample component: FATE's random (optionally per-label) down- or up-sampling of rows.

Parameters as in FATE: ``frac`` (a rate > 0, or ``{label: rate}`` to sample each label separately; labels
the mapping omits keep rate 1.0), ``n`` (an exact row count; exclusive with ``frac``; neither means
``frac=1.0``), ``replace`` (needed for rates above 1 or ``n`` above the row count) and ``random_state``.
The sampling itself is ``fate_grpc.ml.sampling.sample_indices``.

Protocol with ``hetero_sync=True`` (the default; the hetero case, after psi aligned the parties' ids):

1. The guest samples its rows (per label of its label column when ``frac`` is a mapping). The sample is in
   the guest's row order; a row drawn several times (with replacement) appears that many times in a row.
2. guest -> each host ``sample.ids``: one fixed-width unicode array ``ids``, the match id of every sampled
   row in output order, repeats included. Nothing else is sent.
3. Each host outputs its row with each id, in the order received (so the same rows, repeated the same way;
   a repeated id at the host uses its copies in turn). An id the host lacks is an error.

What each party learns: a host learns which of its ids were sampled and how often; it does not see the
guest's labels, even when the rates are per label. The guest learns nothing from the hosts. The hosts' own
frac, n, replace and random_state are checked but not used.

With ``hetero_sync=False`` every party samples its own rows with its own parameters; nothing is exchanged.

Output ``output_data`` (same schema). Metric ``summary`` (untyped, as FATE's) at every party, as FATE's:
``{"total": {"original_count", "sampled_count"}, "<label>": {"original_count", "sampled_count"}, ...}``,
one entry per label value when the table has a label column (a host usually has none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fate_grpc.components.codec import encode_arrays
from fate_grpc.components.context import UNTYPED_METRIC, ComponentContext, ComponentError
from fate_grpc.components.data_split import (
    IntArray,
    bool_param,
    label_values,
    match_id_array,
    plain_label,
    positions_of_ids,
    random_state_param,
    receive_id_arrays,
    the_guest,
    the_hosts,
)
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.components.table import Table
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.ml.sampling import sample_indices

INPUT_KEY = "input_data"
OUTPUT_KEY = "output_data"
TAG_IDS = "sample.ids"
IDS = "ids"
_GUEST_HOST = frozenset({"guest", "host"})


def label_key() -> checks.Check:
    """A key of a per-label ``frac``: an int label (a whole float is that int), a float or a string label.

    YAML gives ``{0: 0.5}`` int keys and ``{"a": 0.5}`` string keys; a string key that spells a number
    also matches that numeric label (FATE reads ``"0"`` as ``0``), see ``ml.sampling``.
    """

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise checks.ParamValueError(
                f"a label must be a number or a string, got {checks.describe(value)}"
            )
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    return check


SPEC = ComponentSpec(
    name="sample",
    roles=_GUEST_HOST,
    stages={
        "default": StageSpec(
            inputs=(ArtifactSpec(INPUT_KEY, "data", _GUEST_HOST),),
            outputs=(ArtifactSpec(OUTPUT_KEY, "data", _GUEST_HOST),),
        ),
    },
    parameters={
        "replace": ParamSpec("replace", default=False, check=checks.boolean()),
        "frac": ParamSpec(
            "frac",
            check=checks.any_of(
                checks.number(gt=0),
                checks.mapping_of(label_key(), checks.number(gt=0)),
                wanted="a rate > 0 or a mapping {label: rate > 0}",
            ),
        ),
        "n": ParamSpec("n", check=checks.integer(gt=0)),
        "random_state": ParamSpec("random_state", check=checks.integer(ge=0)),
        "hetero_sync": ParamSpec("hetero_sync", default=True, check=checks.boolean()),
    },
    description="Random (per-label) sampling of rows; the guest decides and sends hosts the sampled ids.",
)


def run(ctx: ComponentContext) -> None:
    """Sample this party's `input_data` and write `output_data`."""
    ctx = with_checked_parameters(ctx, SPEC)
    table = ctx.read_input_table(INPUT_KEY)
    frac, n, replace = _sampling_params(ctx)
    if bool_param(ctx, "hetero_sync", True, "sample"):
        if ctx.role == "guest":
            positions = _run_guest(ctx, table, frac, n, replace)
        elif ctx.role == "host":
            positions = _run_host(ctx, table)
        else:
            raise ComponentError(f"sample runs at guest and host, not at {ctx.role}")
    else:
        positions = _sample_positions(ctx, table, frac, n, replace)
    ctx.report_progress(90)
    sampled = table.take(positions)
    ctx.write_output_table(OUTPUT_KEY, sampled)
    summary = sample_summary(table, sampled)
    ctx.log.info("sample summary: %s", summary)
    ctx.log_metric("summary", summary, type=UNTYPED_METRIC)


def _run_guest(
    ctx: ComponentContext, table: Table, frac: float | dict[Any, float] | None, n: int | None, replace: bool
) -> IntArray:
    hosts = the_hosts(ctx, "sample")
    positions = _sample_positions(ctx, table, frac, n, replace)
    payload = encode_arrays({IDS: match_id_array(ctx, table, "sample")[positions]})
    for host in hosts:
        ctx.send(TAG_IDS, host, payload)
    return positions


def _run_host(ctx: ComponentContext, table: Table) -> IntArray:
    guest = the_guest(ctx, "sample")
    wanted = receive_id_arrays(ctx, TAG_IDS, guest, (IDS,), "sample")[IDS]
    return positions_of_ids(ctx, table, wanted, "sample")


def _sample_positions(
    ctx: ComponentContext, table: Table, frac: float | dict[Any, float] | None, n: int | None, replace: bool
) -> IntArray:
    if len(table) == 0:
        raise ComponentError(f"sample: input_data at {ctx.role} {ctx.party_id} has no rows")
    labels = None
    if isinstance(frac, dict):
        labels = label_values(ctx, table, "frac as a {label: rate} mapping", "sample")
    try:
        return sample_indices(
            len(table),
            frac=frac,
            n=n,
            replace=replace,
            labels=labels,
            random_state=random_state_param(ctx, "sample"),
        )
    except (ValueError, TypeError) as error:
        raise ComponentError(f"sample: {error}") from None


def _sampling_params(ctx: ComponentContext) -> tuple[float | dict[Any, float] | None, int | None, bool]:
    """frac, n and replace, checked at every party (FATE's rules) so a mistake fails everywhere."""
    params = ctx.parameters
    frac, n = params.get("frac"), params.get("n")
    replace = bool_param(ctx, "replace", False, "sample")
    if frac is not None and n is not None:
        raise ComponentError("sample: n and frac cannot be used at the same time; set only one")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
        raise ComponentError(f"sample: n must be an integer > 0, got {n!r}")
    if frac is None:
        return None, n, replace
    rates = dict(frac) if isinstance(frac, Mapping) else {None: frac}
    for key, rate in rates.items():
        name = "frac" if key is None else f"frac[{key!r}]"
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < float("inf"):
            raise ComponentError(f"sample: {name} must be a number > 0, got {rate!r}")
        if rate > 1 and not replace:
            raise ComponentError(f"sample: {name}={rate} > 1 means up-sampling, which needs replace=True")
    if isinstance(frac, Mapping):
        return {key: float(rate) for key, rate in frac.items()}, None, replace
    return float(frac), None, replace


def sample_summary(original: Table, sampled: Table) -> dict[str, dict[str, int]]:
    """FATE's summary: totals, then per label value (sorted) when the table has a label column."""
    summary = {"total": {"original_count": len(original), "sampled_count": len(sampled)}}
    name = original.schema.label_name
    if not name or name not in original.frame.columns:
        return summary
    before = original.frame[name].value_counts(dropna=True)
    after = sampled.frame[name].value_counts(dropna=True)
    for label in sorted(before.index, key=_sort_key):
        summary[plain_label(label)] = {
            "original_count": int(before[label]),
            "sampled_count": int(after.get(label, 0)),
        }
    return summary


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float | np.number) else (1, str(value))
