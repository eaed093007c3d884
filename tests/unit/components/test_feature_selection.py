"""hetero_feature_selection after binning: the kept features equal a plaintext IV filter over the
joined data; hosts exchange anonymous ids only."""

from __future__ import annotations

import pytest

from fate_grpc.components import feature_binning, feature_selection
from fate_grpc.components.codec import decode_arrays
from fate_grpc.components.context import InputModel, Party
from fate_grpc.components.table import Table
from tests.support.local_context import LocalFederation
from tests.unit.components.breast import GUEST, HOST


@pytest.fixture(scope="module")
def binning_models(tables: dict[Party, Table]) -> dict[Party, InputModel]:
    federation = LocalFederation(
        [GUEST, HOST], inputs={p: {"train_data": t} for p, t in tables.items()}, stage="train"
    )
    federation.run(feature_binning.run)
    return {p: federation.contexts[p].models["output_model"] for p in tables}


def select(tables: dict[Party, Table], models: dict[Party, InputModel], **params: object) -> LocalFederation:
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"train_data": t} for p, t in tables.items()},
        models={p: {"input_models": [models[p]]} for p in tables},
        common_parameters=params,
        stage="train",
    )
    federation.run(feature_selection.run)
    return federation


def kept(federation: LocalFederation, party: Party) -> list[str]:
    return list(federation.contexts[party].outputs["train_output_data"].schema.feature_names)


def plaintext_ivs(binning_models: dict[Party, InputModel]) -> tuple[dict[str, float], dict[str, float]]:
    guest = binning_models[GUEST].data
    host_names = binning_models[HOST].data["anonymous"]
    own = {c: m["iv"] for c, m in guest["metrics"].items()}
    host = {host_names[a]: m["iv"] for a, m in guest["host_metrics"].items()}
    return own, host


def test_iv_threshold_keeps_what_a_plaintext_filter_keeps(
    tables: dict[Party, Table], binning_models: dict[Party, InputModel]
) -> None:
    own, host = plaintext_ivs(binning_models)
    federation = select(
        tables, binning_models, method=["iv"], iv_param={"threshold": 1.0, "host_threshold": 2.0}
    )
    assert kept(federation, GUEST) == [c for c in own if own[c] >= 1.0]
    assert kept(federation, HOST) == [c for c in host if host[c] >= 2.0]
    assert 0 < len(kept(federation, HOST)) < 20
    table = federation.contexts[GUEST].outputs["train_output_data"]
    assert table.schema.header[:2] == ("id", "y")


def test_iv_top_k_ranks_guest_and_host_features_together(
    tables: dict[Party, Table], binning_models: dict[Party, InputModel]
) -> None:
    own, host = plaintext_ivs(binning_models)
    pooled = {**{("g", c): v for c, v in own.items()}, **{("h", c): v for c, v in host.items()}}
    top = sorted(pooled, key=lambda k: pooled[k], reverse=True)[:8]
    federation = select(
        tables, binning_models, method=["iv"], iv_param={"filter_type": "top_k", "threshold": 8}
    )
    assert kept(federation, GUEST) == [c for c in own if ("g", c) in top]
    assert kept(federation, HOST) == [c for c in host if ("h", c) in top]


def test_hosts_and_guest_exchange_anonymous_ids_only(
    tables: dict[Party, Table], binning_models: dict[Party, InputModel]
) -> None:
    federation = select(tables, binning_models, method=["iv"])
    for source, destination in ((HOST, GUEST), (GUEST, HOST)):
        (message,) = federation.sent_between(source, destination)
        arrays = decode_arrays(message.payload)
        assert list(arrays) == ["ids"]
        assert all(str(i).startswith("host_10000_") for i in arrays["ids"].tolist())


def test_manual_then_iv_and_predict(
    tables: dict[Party, Table], binning_models: dict[Party, InputModel]
) -> None:
    federation = select(
        tables,
        binning_models,
        method=["manual", "iv"],
        manual_param={"filter_out_col": ["x0", "x1"]},
        iv_param={"threshold": 0.0},
    )
    assert "x0" not in kept(federation, GUEST) and "x0" not in kept(federation, HOST)
    assert len(kept(federation, HOST)) == 18
    predict = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"test_data": t} for p, t in tables.items()},
        models={p: {"input_model": federation.contexts[p].models["train_output_model"]} for p in tables},
        stage="predict",
    )
    out = predict.run(feature_selection.run)
    for party in tables:
        assert list(out[party]["test_output_data"].schema.feature_names) == kept(federation, party)


def test_keep_one_keeps_the_best_feature_of_each_party(
    tables: dict[Party, Table], binning_models: dict[Party, InputModel]
) -> None:
    own, host = plaintext_ivs(binning_models)
    federation = select(tables, binning_models, method=["iv"], iv_param={"threshold": 1e9})
    assert kept(federation, GUEST) == [max(own, key=lambda c: own[c])]
    assert kept(federation, HOST) == [max(host, key=lambda c: host[c])]


def test_iv_without_a_binning_model_is_a_clear_error(tables: dict[Party, Table]) -> None:
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"train_data": t} for p, t in tables.items()},
        common_parameters={"method": ["iv"]},
        stage="train",
        receive_timeout_s=5,
    )
    with pytest.raises(Exception, match="hetero_feature_binning model"):
        federation.run(feature_selection.run)


def test_statistics_filter_uses_each_partys_own_statistics_model(tables: dict[Party, Table]) -> None:
    from fate_grpc.components import statistics

    stats = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"input_data": t} for p, t in tables.items()},
        common_parameters={"metrics": ["std"]},
    )
    stats.run(statistics.run)
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"train_data": t} for p, t in tables.items()},
        models={p: {"input_models": [stats.contexts[p].models["output_model"]]} for p in tables},
        common_parameters={
            "method": ["statistics"],
            "statistic_param": {"metrics": "std", "filter_type": "top_k", "threshold": 3},
        },
        stage="train",
    )
    federation.run(feature_selection.run)
    for party, table in tables.items():
        features = list(table.schema.feature_names)
        std = table.frame[features].std(ddof=1)
        expected = [c for c in features if c in set(std.sort_values(ascending=False).index[:3])]
        assert kept(federation, party) == expected
    assert federation.sent == []  # statistics filters are local


def test_keep_col_keeps_a_column_an_earlier_filter_dropped(
    tables: dict[Party, Table], binning_models: dict[Party, InputModel]
) -> None:
    own, _ = plaintext_ivs(binning_models)
    weakest = min(own, key=lambda c: own[c])
    federation = select(
        tables,
        binning_models,
        method=["iv", "manual"],
        iv_param={"filter_type": "top_k", "threshold": 3},
        manual_param={"keep_col": [weakest]},
    )
    iv_only = select(tables, binning_models, method=["iv"], iv_param={"filter_type": "top_k", "threshold": 3})
    # FATE's manual step sets keep_col columns back to selected, whatever the IV filter decided.
    assert weakest not in kept(iv_only, GUEST)
    assert kept(federation, GUEST) == [c for c in own if c in {weakest, *kept(iv_only, GUEST)}]


def test_use_anonymous_reads_select_col_and_manual_param_as_anonymous_names(
    tables: dict[Party, Table], binning_models: dict[Party, InputModel]
) -> None:
    federation = select(
        tables,
        binning_models,
        method=["manual"],
        use_anonymous=True,
        select_col=["guest_9999_0", "guest_9999_1", "host_10000_3", "host_10000_4"],
        manual_param={"filter_out_col": ["guest_9999_1", "host_10000_4"]},
    )
    assert kept(federation, GUEST) == [f"x{i}" for i in range(10) if i != 1]
    assert kept(federation, HOST) == [f"x{i}" for i in range(20) if i != 4]
