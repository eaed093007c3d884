"""The union component: FATE's row-wise union (vstack) of several tables at each party.

Each party stacks its own ``input_datas`` tables in input order into ``output_data``; nothing is exchanged
and no party learns anything about another. Every table must have the same columns and the same column
roles (match id, label, weight) as the first one; a table whose columns are merely in another order is
reordered to the first table's header. Rows keep their order within each table; match ids repeated across
the tables are kept (a warning says how many).

Metric ``summary`` (untyped, as FATE's) at every party: the rows of each input, then ``"total"``.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from fate_grpc.components.context import UNTYPED_METRIC, ComponentContext, ComponentError
from fate_grpc.components.table import Table, TableSchema
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, StageSpec

INPUT_KEY = "input_datas"
OUTPUT_KEY = "output_data"
_GUEST_HOST = frozenset({"guest", "host"})
_ROLES = (("match id", "match_id_name"), ("label", "label_name"), ("weight", "weight_name"))

SPEC = ComponentSpec(
    name="union",
    roles=_GUEST_HOST,
    stages={
        "default": StageSpec(
            inputs=(
                ArtifactSpec(INPUT_KEY, "data", _GUEST_HOST, multi=True, former_keys=("input_data_list",)),
            ),
            outputs=(ArtifactSpec(OUTPUT_KEY, "data", _GUEST_HOST),),
        ),
    },
    parameters={},
    description="Stacks each party's input tables (same header) row-wise, in input order.",
)


def run(ctx: ComponentContext) -> None:
    """Stack this party's `input_datas` into `output_data`."""
    count = ctx.input_count(INPUT_KEY)
    if count == 0:
        raise ComponentError(f"union: no table in {INPUT_KEY} at {ctx.role} {ctx.party_id}")
    tables = [ctx.read_input_table(INPUT_KEY, index) for index in range(count)]
    output = union_tables(tables)
    repeated = int(output.ids.duplicated().sum())
    if repeated:
        ctx.log.warning("union: %d row(s) repeat a match id already in an earlier row", repeated)
    ctx.write_output_table(OUTPUT_KEY, output)
    summary = union_summary(ctx, tables, output)
    ctx.log.info("union summary: %s", summary)
    ctx.log_metric("summary", summary, type=UNTYPED_METRIC)


def union_summary(ctx: ComponentContext, tables: list[Table], output: Table) -> dict[str, int]:
    """FATE's union summary: rows per input, then ``total``.

    FATE keys an input by ``<producer task>.<its artifact id>``, an id made of FATE-Flow's task id; here
    the id is the input's position (``<producer task>.input_datas_<i>``), so two outputs of one task
    (data_split's train and validate) stay apart.
    """
    summary = {
        f"{ctx.input_producer(INPUT_KEY, index) or 'input'}.{INPUT_KEY}_{index}": len(table)
        for index, table in enumerate(tables)
    }
    summary["total"] = len(output)
    return summary


def union_tables(tables: list[Table]) -> Table:
    """The tables stacked in order, with the first one's schema; ComponentError if a schema differs."""
    first = tables[0].schema
    frames = []
    for index, table in enumerate(tables):
        _check_schema(first, table.schema, index)
        frames.append(table.frame[list(first.header)])
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    return replace(tables[0], frame=frame)


def _check_schema(first: TableSchema, other: TableSchema, index: int) -> None:
    where = f"union: {INPUT_KEY}[{index}]"
    missing = [c for c in first.header if c not in other.header]
    extra = [c for c in other.header if c not in first.header]
    if missing or extra:
        details = []
        if missing:
            details.append(f"lacks column(s) {missing}")
        if extra:
            details.append(f"has extra column(s) {extra}")
        raise ComponentError(
            f"{where} {' and '.join(details)} compared with {INPUT_KEY}[0]; "
            "all tables must have the same header"
        )
    for role, attribute in _ROLES:
        mine, theirs = getattr(first, attribute), getattr(other, attribute)
        if mine != theirs:
            raise ComponentError(
                f"{where} has {role} column {theirs!r} but {INPUT_KEY}[0] has {mine!r}; "
                "all tables must have the same column roles"
            )
