"""union at a guest and a host, checked against pandas concat."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from fate_grpc.components import union
from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.table import Table
from tests.support.local_context import LocalFederation
from tests.unit.components.breast import GUEST, HOST


def halves(table: Table) -> list[Table]:
    return [table.take(list(range(0, 200))), table.take(list(range(200, len(table))))]


def run_union(inputs: dict[Party, list[Table]]) -> tuple[LocalFederation, dict[Party, Table]]:
    federation = LocalFederation(list(inputs), inputs={p: {"input_datas": t} for p, t in inputs.items()})
    out = federation.run(union.run)
    return federation, {party: outputs["output_data"] for party, outputs in out.items()}


def test_union_of_two_tables_equals_pandas_concat(tables: dict[Party, Table]) -> None:
    reversed_parts = {party: halves(table)[::-1] for party, table in tables.items()}
    federation, out = run_union(reversed_parts)
    assert federation.sent == []
    for party, parts in reversed_parts.items():
        expected = pd.concat([part.frame for part in parts], ignore_index=True)
        pd.testing.assert_frame_equal(out[party].frame, expected)
        assert out[party].schema == tables[party].schema
        [metric] = federation.contexts[party].metrics
        assert (metric.name, metric.type) == ("summary", "")  # FATE logs it untyped (null)
        assert metric.value == {
            "input_datas_0.input_datas_0": 369,
            "input_datas_1.input_datas_1": 200,
            "total": 569,
        }


def test_columns_in_another_order_follow_the_first_header(tables: dict[Party, Table]) -> None:
    first, second = halves(tables[HOST])
    order = ["x3", "id", *[c for c in second.schema.header if c not in ("x3", "id")]]
    moved = Table(second.frame[order], replace(second.schema, header=tuple(order)))
    _, out = run_union({HOST: [first, moved]})
    pd.testing.assert_frame_equal(out[HOST].frame, tables[HOST].frame)


def test_a_table_with_another_header_is_rejected(tables: dict[Party, Table]) -> None:
    first, second = halves(tables[HOST])
    other = Table(
        second.frame.drop(columns=["x19"]).rename(columns={"x0": "z0"}),
        replace(
            second.schema, header=tuple("z0" if c == "x0" else c for c in second.schema.header if c != "x19")
        ),
    )
    with pytest.raises(
        ComponentError,
        match=r"input_datas\[1\] lacks column\(s\) \['x0', 'x19'\] and has extra column\(s\) \['z0'\]",
    ):
        run_union({HOST: [first, other]})


def test_a_table_with_other_column_roles_is_rejected(tables: dict[Party, Table]) -> None:
    first, second = halves(tables[GUEST])
    unlabelled = replace(second, schema=replace(second.schema, label_name=""))
    with pytest.raises(
        ComponentError, match=r"input_datas\[1\] has label column '' but input_datas\[0\] has 'y'"
    ):
        run_union({GUEST: [first, unlabelled]})


def test_a_single_table_passes_through_and_none_is_an_error(tables: dict[Party, Table]) -> None:
    _, out = run_union({HOST: [tables[HOST]]})
    pd.testing.assert_frame_equal(out[HOST].frame, tables[HOST].frame)
    federation = LocalFederation([HOST], inputs={HOST: {}})
    with pytest.raises(ComponentError, match="union: no table in input_datas at host 10000"):
        federation.run(union.run)


def test_spec_declares_fate_keys() -> None:
    spec = union.SPEC
    assert spec.name == "union" and spec.roles == frozenset({"guest", "host"})
    [data_in] = spec.stages["default"].inputs
    assert (data_in.key, data_in.kind, data_in.multi) == ("input_datas", "data", True)
    assert [a.key for a in spec.stages["default"].outputs] == ["output_data"]
