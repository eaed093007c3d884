"""homo_lr across an in-process federation: every message the arbiter receives is recorded, and it never
holds one client's unmasked model; the federated model equals plaintext FedAvg and scores within 1% AUC of
logistic regression on the pooled rows (breast's homo split, a default_credit-sized split); multi-class
with ovr; dropout and disagreement fail with the party named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.multiclass import OneVsRestClassifier

from fate_grpc.components import homo_lr
from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.components.codec import decode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.homo_lr import arbiter, client
from fate_grpc.components.homo_lr.aggregation import SecureClient, Shape, client_setup
from fate_grpc.components.homo_lr.channel import Channel
from fate_grpc.components.homo_lr.channel import arbiter as arbiter_of
from fate_grpc.components.homo_lr.channel import clients as clients_of
from fate_grpc.components.homo_lr.params import train_settings
from fate_grpc.components.parameters import checked_parameters, with_checked_parameters
from fate_grpc.components.table import Table
from fate_grpc.crypto import secure_aggregation as secagg
from fate_grpc.domain.dag import parse_dag
from fate_grpc.errors import FateGrpcError
from fate_grpc.ml.homo.fedavg import FedAvgRun, sample_weights, train_fedavg
from fate_grpc.ml.homo.model import HomoModel
from tests.support.local_context import LocalFederation, read_csv_table, table_from_frame

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
DAGS = DATA.parent / "dags"
GUEST, HOST, HOST_2 = Party("guest", "9999"), Party("host", "10000"), Party("host", "10001")
ARBITER = Party("arbiter", "10002")
BREAST = {
    "epochs": 10,
    "batch_size": 16,
    "optimizer": {"method": "sgd", "penalty": "l2", "alpha": 0.01, "optimizer_params": {"lr": 0.1}},
    "init_param": {"method": "zeros", "fit_intercept": True},
}


def breast_homo() -> dict[Party, Table]:
    return {
        GUEST: read_csv_table(DATA / "breast_homo_guest.csv", "id", label_name="y"),
        HOST: read_csv_table(DATA / "breast_homo_host.csv", "id", label_name="y"),
    }


def federation(tables: dict[Party, Table], params: dict[str, Any], **kwargs: Any) -> LocalFederation:
    inputs = {party: {"train_data": table} for party, table in tables.items()}
    return LocalFederation(
        [*tables, ARBITER],
        inputs=inputs,
        common_parameters=params,
        stage="train",
        run_timeout_s=300,
        **kwargs,
    )


def arrays(table: Table) -> tuple[np.ndarray, np.ndarray]:
    features = list(table.schema.feature_names)
    return table.frame[features].to_numpy(float), table.frame[table.schema.label_name].to_numpy(float)


def oracle(tables: dict[Party, Table], params: dict[str, Any], heads: int = 1) -> FedAvgRun:
    settings = train_settings(checked_parameters(homo_lr.SPEC, params))
    return train_fedavg(settings, [arrays(t) for t in tables.values()], heads)


def model_vector(fed: LocalFederation, party: Party) -> np.ndarray:
    document = fed.contexts[party].models["output_model"].data
    return HomoModel.from_state_dict(document["param"]["model"]).vector()


def received_by_arbiter(fed: LocalFederation) -> dict[str, dict[Party, dict[str, np.ndarray]]]:
    """Every message the arbiter received: tag -> sender -> arrays."""
    found: dict[str, dict[Party, dict[str, np.ndarray]]] = {}
    for item in fed.sent:
        if item.destination == ARBITER:
            found.setdefault(item.tag, {})[item.source] = decode_arrays(item.payload)
    return found


@pytest.fixture(scope="module")
def breast_run() -> tuple[LocalFederation, dict[Party, Table]]:
    tables = breast_homo()
    fed = federation(tables, BREAST)
    fed.run(homo_lr.run)
    return fed, tables


def test_the_arbiter_never_sees_one_clients_unmasked_model(breast_run: Any) -> None:
    fed, tables = breast_run
    expected = oracle(tables, BREAST)
    weights = sample_weights([len(t) for t in tables.values()])
    received = received_by_arbiter(fed)

    assert set(received) == {"homo_lr.train.setup"} | {f"homo_lr.train.r{r}.masked" for r in range(10)}
    for round_number in range(10):
        vectors = received[f"homo_lr.train.r{round_number}.masked"]
        truths = expected.client_values[round_number]
        for rank, party in enumerate(tables):
            seen = secagg.decode(vectors[party]["value"])
            # Whether read as the client's weighted or raw values, every entry is far from the truth.
            assert np.min(np.abs(seen - weights[rank] * truths[rank])) > 1.0
            assert np.min(np.abs(seen / weights[rank] - truths[rank])) > 1.0
        total = secagg.unmasked_sum([vectors[p]["value"] for p in tables], truths[0].size)
        assert np.allclose(total, weights @ np.vstack(truths), atol=1e-9)
    # Key agreement runs between the clients; the arbiter gets no key.
    assert not any("pair_key" in item.tag for item in fed.sent if ARBITER in (item.source, item.destination))


def test_the_federated_model_is_plaintext_fedavg_and_as_good_as_pooled_lr(breast_run: Any) -> None:
    fed, tables = breast_run
    expected = oracle(tables, BREAST)

    for party in tables:
        assert np.allclose(model_vector(fed, party), expected.model.vector(), atol=1e-8)
    arbiter_losses = [m.value for m in fed.contexts[ARBITER].metrics if m.name == "loss"]
    assert np.allclose(arbiter_losses, expected.losses, atol=1e-9)
    pooled = pd.concat([t.frame for t in tables.values()], ignore_index=True)
    features, labels = pooled.drop(columns=["id", "y"]).to_numpy(float), pooled["y"].to_numpy(float)
    reference = LogisticRegression(max_iter=2000).fit(features, labels)
    reference_auc = roc_auc_score(labels, reference.predict_proba(features)[:, 1])
    outputs = pd.concat([fed.contexts[p].outputs["train_output_data"].frame for p in tables])
    assert roc_auc_score(outputs["label"], outputs["predict_score"]) >= reference_auc - 0.01


def test_outputs_and_metrics_have_fates_shapes(breast_run: Any) -> None:
    fed, tables = breast_run
    guest = fed.contexts[GUEST]

    model = guest.models["output_model"]
    assert set(model.data) == {"param", "meta"} and model.data["meta"] == model.meta
    assert set(model.data["param"]) == {"model", "optimizer"}
    assert model.meta["optimizer_param"]["optimizer_params"] == {"lr": 0.1, "weight_decay": 0.01}
    assert set(model.meta) == {
        "batch_size", "max_iter", "threshold", "optimizer_param", "learning_rate_param", "init_param", "ovr",
        "label_num",
    }  # fmt: skip
    frame = guest.outputs["train_output_data"].frame
    assert list(frame.columns) == ["id", "label", "predict_score", "predict_result", "predict_detail", "type"]
    assert set(frame["type"]) == {"train_set"} and len(frame) == len(tables[GUEST])
    losses = [m for m in guest.metrics if m.name == "loss"]
    assert [m.step for m in losses] == list(range(1, 11))
    assert {(m.type, m.step_axis, m.groups) for m in losses} == {
        ("loss", "nn_loss", (("default", None), ("train", None)))
    }
    server = [m for m in fed.contexts[ARBITER].metrics if m.name == "loss"]
    assert [m.step for m in server] == list(range(10)) and server[0].step_axis == "aggregation"
    assert not fed.contexts[ARBITER].models and not fed.contexts[ARBITER].outputs


def test_predict_stage_reproduces_the_train_scores(breast_run: Any) -> None:
    fed, tables = breast_run
    models = {p: {"input_model": fed.contexts[p].models["output_model"]} for p in tables}
    predict = LocalFederation(
        [*tables, ARBITER],
        inputs={p: {"test_data": t} for p, t in tables.items()},
        stage="predict",
        models=models,
    )

    outputs = predict.run(homo_lr.run)

    for party in tables:
        test = outputs[party]["test_output_data"].frame
        train = fed.contexts[party].outputs["train_output_data"].frame
        assert set(test["type"]) == {"test_set"}
        assert np.allclose(test["predict_score"], train["predict_score"])


def test_warm_start_continues_from_the_saved_weights(breast_run: Any) -> None:
    fed, tables = breast_run
    models = {p: {"warm_start_model": fed.contexts[p].models["output_model"]} for p in tables}
    params = {**BREAST, "epochs": 3}
    warm = federation(tables, params, models=models)

    warm.run(homo_lr.run)

    starts = [
        HomoModel.from_state_dict(m["warm_start_model"].data["param"]["model"]) for m in models.values()
    ]
    settings = train_settings(checked_parameters(homo_lr.SPEC, params))
    expected = train_fedavg(settings, [arrays(t) for t in tables.values()], 1, initial=starts)
    assert np.allclose(model_vector(warm, GUEST), expected.model.vector(), atol=1e-8)


def default_credit_split(clients: int = 3, rows: int = 8000) -> dict[Party, Table]:
    """default_credit's rows (guest and host columns joined, standardised) split like FATE's
    default_credit_homo: ``clients`` parties of ``rows`` rows each."""
    guest = pd.read_csv(DATA / "default_credit_hetero_guest.csv")
    host = pd.read_csv(DATA / "default_credit_hetero_host.csv")
    joined = guest.merge(host, on="id").iloc[: clients * rows].reset_index(drop=True)
    columns = [c for c in joined.columns if c not in ("id", "y")]
    joined[columns] = (joined[columns] - joined[columns].mean()) / joined[columns].std(ddof=0)
    joined["id"] = joined["id"].astype(str)
    parties = [GUEST, HOST, HOST_2][:clients]
    return {
        party: table_from_frame(joined.iloc[i * rows : (i + 1) * rows], "id", label_name="y")
        for i, party in enumerate(parties)
    }


def test_default_credit_sized_three_clients_within_one_percent_auc() -> None:
    tables = default_credit_split()
    params = {
        "epochs": 10,
        "batch_size": 100,
        "optimizer": {"method": "sgd", "penalty": "l2", "alpha": 0.01, "optimizer_params": {"lr": 0.05}},
        "init_param": {"method": "zeros"},
    }
    fed = federation(tables, params)

    fed.run(homo_lr.run)

    pooled = pd.concat([t.frame for t in tables.values()], ignore_index=True)
    features, labels = pooled.drop(columns=["id", "y"]).to_numpy(float), pooled["y"].to_numpy(float)
    reference = LogisticRegression(max_iter=2000).fit(features, labels)
    reference_auc = roc_auc_score(labels, reference.predict_proba(features)[:, 1])
    outputs = pd.concat([fed.contexts[p].outputs["train_output_data"].frame for p in tables])
    assert roc_auc_score(outputs["label"], outputs["predict_score"]) >= reference_auc - 0.01
    assert np.allclose(model_vector(fed, HOST_2), oracle(tables, params).model.vector(), atol=1e-8)


def iris_split() -> dict[Party, Table]:
    from sklearn.datasets import load_iris

    features, labels = load_iris(return_X_y=True)
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    order = np.random.default_rng(0).permutation(len(labels))
    frame = pd.DataFrame(features[order], columns=[f"x{j}" for j in range(4)])
    frame.insert(0, "y", labels[order])
    frame.insert(0, "id", [str(i) for i in range(len(labels))])
    # The host never sees class 2: its model still has three heads (label_num), unlike FATE's.
    host_rows = frame.iloc[75:]
    guest_rows = pd.concat([frame.iloc[:75], host_rows[host_rows["y"] == 2]])
    return {
        GUEST: table_from_frame(guest_rows, "id", label_name="y"),
        HOST: table_from_frame(host_rows[host_rows["y"] != 2], "id", label_name="y"),
    }


def test_multi_class_ovr_within_one_percent_auc_of_pooled_one_vs_rest() -> None:
    tables = iris_split()
    params = {
        "epochs": 100,
        "batch_size": 16,
        "ovr": True,
        "label_num": 3,
        "optimizer": {"method": "sgd", "penalty": "none", "optimizer_params": {"lr": 0.5}},
        "init_param": {"method": "zeros"},
    }
    fed = federation(tables, params)

    fed.run(homo_lr.run)

    assert np.allclose(model_vector(fed, HOST), oracle(tables, params, heads=3).model.vector(), atol=1e-8)
    pooled = pd.concat([t.frame for t in tables.values()], ignore_index=True)
    features, labels = pooled.drop(columns=["id", "y"]).to_numpy(float), pooled["y"].to_numpy(int)
    reference = OneVsRestClassifier(LogisticRegression(max_iter=2000)).fit(features, labels)
    reference_auc = roc_auc_score(labels, reference.predict_proba(features), multi_class="ovr")
    outputs = pd.concat([fed.contexts[p].outputs["train_output_data"].frame for p in tables])
    details = outputs["predict_detail"].str.strip('"').str.replace("'", '"').map(json.loads)
    scores = np.array([[d[str(c)] for c in range(3)] for d in details])
    assert roc_auc_score(outputs["label"].astype(int), scores, multi_class="ovr") >= reference_auc - 0.01
    assert np.array_equal(outputs["predict_result"], scores.argmax(axis=1))
    assert np.allclose(outputs["predict_score"], scores.max(axis=1))
    assert fed.contexts[HOST].models["output_model"].data["param"]["model"]["label_num"] == 3


def test_more_than_two_labels_without_ovr_is_refused_with_the_fix() -> None:
    fed = federation(iris_split(), {"epochs": 1})

    with pytest.raises(ComponentError, match="set ovr: true and label_num"):
        fed.run(homo_lr.run)


def test_clients_with_different_features_fail_naming_the_party() -> None:
    tables = breast_homo()
    host = tables[HOST]
    tables[HOST] = table_from_frame(host.frame.drop(columns=["x29"]), "id", label_name="y")
    fed = federation(tables, {"epochs": 1})

    with pytest.raises(ComponentError, match="host 10000 has 29 features"):
        fed.run(homo_lr.run)


def drop_out_after_round_zero(ctx: ComponentContext) -> None:
    """A client that takes part in setup, key agreement and round 0, then disappears."""
    ctx = with_checked_parameters(ctx, homo_lr.SPEC)
    table = ctx.read_input_table("train_data")
    labels = arrays(table)[1]
    channel = Channel(ctx, "homo_lr.train", 10)
    server = arbiter_of(ctx)
    weight = client_setup(
        channel, server, len(labels), Shape(30, 1, True, 3), list(table.schema.feature_names)
    )
    secure = SecureClient.agree(channel, clients_of(ctx), Party(ctx.role, ctx.party_id), server, weight)
    secure.submit(0, np.zeros(31), 0.5)
    secure.average(0, 31)


def test_a_client_that_drops_out_mid_training_fails_the_round_naming_it() -> None:
    tables = breast_homo()
    fed = federation(tables, {"epochs": 3})

    def component(ctx: ComponentContext) -> None:
        if ctx.role == "arbiter":
            arbiter.train(with_checked_parameters(ctx, homo_lr.SPEC), timeout_s=2.0)
        elif ctx.party_id == HOST.party_id:
            drop_out_after_round_zero(ctx)
        else:
            client.train(with_checked_parameters(ctx, homo_lr.SPEC), timeout_s=30.0)

    with pytest.raises(ComponentError, match=r"round 1 failed: no masked model from host 10000"):
        fed.run(component)


def test_a_single_client_is_refused() -> None:
    tables = breast_homo()
    fed = LocalFederation(
        [GUEST, ARBITER], inputs={GUEST: {"train_data": tables[GUEST]}}, common_parameters={}, stage="train"
    )

    with pytest.raises(ComponentError, match="at least two clients"):
        fed.run(homo_lr.run)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"batch_size": 0}, "batch_size must be an integer > 0"),
        ({"threshold": 1}, "threshold must lie strictly between 0 and 1"),
        ({"init_param": {"method": "random_uniform"}}, "init_param.method 'random_uniform' is not available"),
        ({"optimizer": {"method": "adam", "optimizer_params": {"momentum": 0.9}}}, "adam takes no parameter"),
        ({"optimizer": {"method": "sgd"}}, r"optimizer\.optimizer_params is required"),
        (
            {"optimizer": {"method": "rprop", "optimizer_params": {}}},
            r"optimizer\.penalty l2 is torch's weight",
        ),
        ({"learning_rate_scheduler": {"method": "step"}}, "step_size is required"),
        ({"label_num": 1}, "label_num must be an integer >= 2"),
        ({"epochs": 0}, "epochs must be an integer > 0"),
    ],
)
def test_bad_parameters_are_refused_with_their_path(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ComponentError, match=message):
        checked_parameters(homo_lr.SPEC, params)


def test_ovr_needs_label_num() -> None:
    with pytest.raises(ComponentError, match="label_num is required"):
        train_settings(checked_parameters(homo_lr.SPEC, {"ovr": True}))


def test_defaults_are_fates() -> None:
    settings = train_settings(checked_parameters(homo_lr.SPEC, {}))

    assert (settings.epochs, settings.batch_size, settings.threshold) == (20, 100, 0.5)
    assert (settings.optimizer_method, settings.penalty, settings.alpha) == ("sgd", "l2", 1.0)
    assert settings.torch_optimizer_params() == {"lr": 0.01, "weight_decay": 1.0}
    assert (settings.scheduler_method, settings.scheduler_params) == ("constant", {"factor": 1.0})
    assert (settings.init_method, settings.fit_intercept, settings.ovr, settings.label_num) == (
        "random",
        True,
        False,
        None,
    )


def test_validate_data_rows_are_predicted_with_the_train_rows() -> None:
    tables = breast_homo()
    validate = {p: t.take(np.arange(20)) for p, t in tables.items()}
    inputs = {p: {"train_data": t, "validate_data": validate[p]} for p, t in tables.items()}
    fed = LocalFederation([*tables, ARBITER], inputs=inputs, common_parameters={"epochs": 2}, stage="train")

    fed.run(homo_lr.run)

    frame = fed.contexts[HOST].outputs["train_output_data"].frame
    assert frame["type"].value_counts().to_dict() == {"train_set": len(tables[HOST]), "validate_set": 20}


def test_a_dag_with_a_bad_value_is_refused_at_submit_with_the_field_path() -> None:
    document = yaml.safe_load((DAGS / "homo_lr.yaml").read_text())
    optimizer = document["dag"]["tasks"]["homo_lr_0"]["parameters"]["optimizer"]
    optimizer["optimizer_params"]["betas"] = [0.9, 0.99]

    with pytest.raises(FateGrpcError) as refused:
        parse_dag(document, builtin_catalog())

    (violation,) = refused.value.violations
    assert violation.field == "dag.tasks.homo_lr_0.parameters.optimizer.optimizer_params"
    assert "sgd takes no parameter betas" in violation.reason
