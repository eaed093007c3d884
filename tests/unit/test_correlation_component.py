"""feature_correlation at a guest and a host: cross correlations equal numpy's on the joined data, FATE's
model shape at each party, its parameters, and the errors a user can cause."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml

from fate_grpc.components import feature_correlation, feature_selection, statistics
from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.feature_correlation import protocol
from fate_grpc.components.table import Table
from fate_grpc.domain.dag import parse_dag
from fate_grpc.errors import FateGrpcError
from tests.support.local_context import LocalFederation, table_from_frame
from tests.support.nodes import DAGS
from tests.unit.components.breast import DATA, GUEST, HOST


def run(tables: dict[Party, Table], **parameters) -> LocalFederation:
    federation = LocalFederation(
        list(tables),
        inputs={party: {"input_data": table} for party, table in tables.items()},
        common_parameters=parameters,
        run_timeout_s=300,
    )
    federation.run(feature_correlation.run)
    return federation


def model(federation: LocalFederation, party: Party):
    return federation.contexts[party].models["output_model"]


def joined_tables(name: str, rows: int | None = None) -> dict[Party, Table]:
    guest = pd.read_csv(DATA / f"{name}_hetero_guest.csv", nrows=rows)
    host = pd.read_csv(DATA / f"{name}_hetero_host.csv").set_index("id").loc[guest["id"]].reset_index()
    return {
        GUEST: table_from_frame(guest, "id", label_name="y"),
        HOST: table_from_frame(host, "id"),
    }


def features(table: Table) -> np.ndarray:
    return table.frame[list(table.schema.feature_names)].to_numpy(dtype=np.float64)


@pytest.fixture(scope="module")
def breast() -> tuple[dict[Party, Table], LocalFederation]:
    tables = joined_tables("breast")
    return tables, run(tables)


@pytest.mark.parametrize("dataset", ["breast", "default_credit"])
def test_cross_correlation_equals_numpy_on_the_joined_data(dataset: str, breast) -> None:
    tables, federation = (
        breast if dataset == "breast" else (tables := joined_tables(dataset, 4000), run(tables))
    )
    x_guest, x_host = features(tables[GUEST]), features(tables[HOST])
    expected = np.corrcoef(np.hstack([x_guest, x_host]).T)[: x_guest.shape[1], x_guest.shape[1] :]
    guest_names = list(tables[GUEST].schema.feature_names)
    host_names = list(tables[HOST].schema.feature_names)

    guest_remote = model(federation, GUEST).data["remote_corr"]
    host_remote = model(federation, HOST).data["remote_corr"]

    for j, host_column in enumerate(host_names):
        for i, guest_column in enumerate(guest_names):
            at_guest = guest_remote[f"host_10000_{j}"][guest_column]
            at_host = host_remote[host_column][f"guest_9999_{i}"]
            assert at_guest == pytest.approx(expected[i, j], abs=1e-6)
            assert at_host == at_guest
    for party, x in ((GUEST, x_guest), (HOST, x_host)):
        local = model(federation, party).data["local_corr"]
        names = list(tables[party].schema.feature_names)
        got = np.array([[local[c][r] for c in names] for r in names])
        np.testing.assert_allclose(got, np.corrcoef(x.T), atol=1e-12)


def test_rows_sent_in_blocks_give_the_same_correlations(breast, monkeypatch: pytest.MonkeyPatch) -> None:
    tables, whole = breast
    monkeypatch.setattr(protocol, "ROW_BLOCK", 200)

    federation = run(tables, calc_local_vif=False)

    tags = [m.tag for m in federation.sent_between(GUEST, HOST)]
    assert [protocol.rows_tag(k) for k in range(3)] == [t for t in tags if t.startswith(protocol.TAG_ROWS)]
    assert model(federation, GUEST).data["remote_corr"] == model(whole, GUEST).data["remote_corr"]
    assert model(federation, HOST).data["remote_corr"] == model(whole, HOST).data["remote_corr"]


def test_model_has_fates_shape_at_each_party(breast) -> None:
    tables, federation = breast
    for party, own, other in ((GUEST, "guest_9999", "host_10000"), (HOST, "host_10000", "guest_9999")):
        document = model(federation, party)
        names = list(tables[party].schema.feature_names)
        assert set(document.data) == {"local_corr", "remote_corr", "vif"}
        assert document.meta == {
            "model_type": "feature_correlation",
            "column_anonymous_map": {c: f"{own}_{i}" for i, c in enumerate(names)},
        }
        assert list(document.data["vif"]) == ["vif"] and list(document.data["vif"]["vif"]) == names
        remote = document.data["remote_corr"]
        if party == GUEST:  # columns: host anonymous names; rows: guest columns
            assert list(remote) == [f"{other}_{j}" for j in range(20)]
            assert list(remote[f"{other}_0"]) == names
        else:  # columns: host columns; rows: guest anonymous names
            assert list(remote) == names
            assert list(remote["x0"]) == [f"{other}_{i}" for i in range(10)]


def test_local_only_exchanges_nothing_but_the_flag_and_writes_no_remote_part(breast) -> None:
    tables, _ = breast

    federation = run(tables, local_only=True, calc_local_vif=False)

    assert [m.tag for m in federation.sent] == [protocol.TAG_SETUP, protocol.TAG_SETUP]
    for party in (GUEST, HOST):
        document = model(federation, party)
        assert document.data["remote_corr"] is None and document.data["vif"] is None
        assert document.meta == {"model_type": "feature_correlation", "column_anonymous_map": None}


def test_skip_col_by_name_and_by_anonymous_name(breast) -> None:
    tables, _ = breast
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={party: {"input_data": table} for party, table in tables.items()},
        parameters={
            GUEST: {"skip_col": ["x1", "x3", "not_a_column"]},
            HOST: {"skip_col": ["host_10000_0", "guest_9999_5"], "use_anonymous": True},
        },
        run_timeout_s=300,
    )

    federation.run(feature_correlation.run)

    guest_model, host_model = model(federation, GUEST), model(federation, HOST)
    assert "x1" not in guest_model.data["local_corr"] and len(guest_model.data["local_corr"]) == 8
    assert list(guest_model.data["remote_corr"]) == [f"host_10000_{j}" for j in range(1, 20)]
    assert list(host_model.data["remote_corr"]["x1"]) == [
        f"guest_9999_{i}" for i in range(10) if i not in (1, 3)
    ]


def test_a_constant_column_has_null_correlations_and_refuses_vif(breast) -> None:
    tables, _ = breast
    frame = tables[HOST].frame.copy()
    frame["x4"] = 1.5
    changed = {GUEST: tables[GUEST], HOST: replace(tables[HOST], frame=frame)}

    federation = run(changed, calc_local_vif=False)

    assert all(v is None for v in model(federation, GUEST).data["remote_corr"]["host_10000_4"].values())
    assert model(federation, HOST).data["local_corr"]["x4"]["x0"] is None
    assert model(federation, GUEST).data["remote_corr"]["host_10000_3"]["x0"] is not None
    with pytest.raises(ComponentError, match=r"columns \['x4'\] at host 10000 are constant"):
        run(changed)


def test_user_errors_are_named(breast) -> None:
    tables, _ = breast
    with pytest.raises(
        ComponentError,
        match=r"local_only differs between the parties \(true at guest 9999, false at host 10000\)",
    ):
        LocalFederation(
            [GUEST, HOST],
            inputs={party: {"input_data": table} for party, table in tables.items()},
            parameters={GUEST: {"local_only": True}},
        ).run(feature_correlation.run)
    shuffled = {GUEST: tables[GUEST], HOST: tables[HOST].take(np.arange(len(tables[HOST]))[::-1])}
    with pytest.raises(ComponentError, match="not the same rows in the same order; run psi first"):
        run(shuffled)
    second_host = Party("host", "10001")
    with pytest.raises(ComponentError, match="one guest and one host"):
        run({**tables, second_host: tables[HOST]})
    with pytest.raises(ComponentError, match="parameter calc_local_vif"):
        run(tables, calc_local_vif="yes")


def test_declaration_matches_fate() -> None:
    spec = builtin_catalog()["feature_correlation"]

    assert spec.roles == {"guest", "host"}
    assert list(spec.stages) == ["default"]
    assert {name: p.default for name, p in spec.parameters.items()} == {
        "local_only": False,
        "calc_local_vif": True,
        "skip_col": None,
        "use_anonymous": False,
    }


def test_selection_takes_a_correlation_model_among_its_input_models_and_ignores_it(breast) -> None:
    """FATE 2.2's hetero_feature_selection has no correlation filter (manual, iv, statistics only): a
    correlation model in input_models is accepted and unused, as FATE keys it by model_type and never reads
    it."""
    tables, correlations = breast
    stats = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"input_data": t} for p, t in tables.items()},
        common_parameters={"metrics": ["std"]},
    )
    stats.run(statistics.run)
    kept = {}
    for with_correlation in (False, True):
        models = {
            p: [stats.contexts[p].models["output_model"]]
            + ([model(correlations, p)] if with_correlation else [])
            for p in tables
        }
        selection = LocalFederation(
            [GUEST, HOST],
            inputs={p: {"train_data": t} for p, t in tables.items()},
            models={p: {"input_models": models[p]} for p in tables},
            common_parameters={
                "method": ["statistics"],
                "statistic_param": {"metrics": "std", "filter_type": "top_k", "threshold": 3},
            },
            stage="train",
        )
        outputs = selection.run(feature_selection.run)
        kept[with_correlation] = {p: list(outputs[p]["train_output_data"].frame.columns) for p in tables}

    assert kept[True] == kept[False]


def test_bad_parameters_are_refused_at_submit_with_their_field_paths() -> None:
    document = yaml.safe_load((DAGS / "feature_correlation.yaml").read_text())
    document["dag"]["tasks"]["feature_corr_0"]["parameters"] = {
        "local_only": "no",
        "skip_col": "x1",
        "select_cols": ["x1"],  # the estimator's argument in FATE, not a parameter of the component
    }

    with pytest.raises(FateGrpcError) as caught:
        parse_dag(yaml.safe_dump(document), builtin_catalog())

    fields = {v.field: v.reason for v in caught.value.violations}
    prefix = "dag.tasks.feature_corr_0.parameters."
    assert fields[prefix + "local_only"] == "must be true or false, got string 'no'"
    assert fields[prefix + "skip_col"].startswith("must be a list of column names")
    assert fields[prefix + "select_cols"].startswith("unknown parameter of component feature_correlation")
