"""coordinated_lr at a guest, a host and an arbiter in one process: equal to plaintext training on the
joined data within fixed-point error, FATE's outputs, warm start, predict, and what each party receives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from fate_grpc.components import coordinated_lr
from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.table import Table
from fate_grpc.ml.linear.plaintext import predict_plaintext
from tests.unit.components.breast import GUEST, HOST
from tests.unit.components.coordinated import (
    ARBITER,
    FATE_BREAST,
    HOST_2,
    blocks,
    federation,
    oracle,
    small,
    split_host,
    weights_of,
)

TOLERANCE = 1e-6  # fixed point: 23 fractional bits on X/n, 32 on encrypted values


def quick(**changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {**FATE_BREAST, "epochs": 3, "batch_size": 40}
    params.update(changes)
    return params


@pytest.fixture(scope="module")
def breast_run(tables: dict[Party, Table]) -> Any:
    fed = federation(tables, FATE_BREAST)
    fed.run(coordinated_lr.run_lr)
    return fed


def test_breast_with_fates_settings_equals_plaintext_and_sklearn(
    tables: dict[Party, Table], breast_run: Any
) -> None:
    reference = oracle("lr", tables, FATE_BREAST)
    assert np.allclose(
        weights_of(breast_run, GUEST), reference.parties[0].weights.reshape(-1), atol=TOLERANCE
    )
    assert np.allclose(weights_of(breast_run, HOST), reference.parties[1].weights.reshape(-1), atol=TOLERANCE)
    output = breast_run.contexts[GUEST].outputs["train_output_data"].frame
    auc = roc_auc_score(output["label"], output["predict_score"])
    matrices, labels = blocks(tables)
    assert auc >= 0.99
    assert auc == pytest.approx(roc_auc_score(labels, predict_plaintext(reference, matrices, "lr")), abs=1e-6)
    sklearn_auc = roc_auc_score(
        labels,
        LogisticRegression(max_iter=1000)
        .fit(np.hstack(matrices), labels)
        .decision_function(np.hstack(matrices)),
    )
    assert auc >= sklearn_auc - 0.01


def test_arbiter_reports_lr_loss_per_epoch_as_fate(tables: dict[Party, Table], breast_run: Any) -> None:
    reference = oracle("lr", tables, FATE_BREAST)
    losses = [m for m in breast_run.contexts[ARBITER].metrics if m.name == "lr_loss"]
    assert [m.step for m in losses] == list(range(10))
    assert {(m.type, m.step_axis, m.groups) for m in losses} == {
        ("loss", "iterations", (("default", None), ("train", None)))
    }
    assert np.allclose([m.value[0] for m in losses], reference.losses, atol=TOLERANCE)


def test_models_have_fates_shape(breast_run: Any) -> None:
    host = breast_run.contexts[HOST].models["output_model"]
    estimator = host.data["estimator"]
    assert set(estimator) == {"param", "optimizer", "lr_scheduler", "end_epoch", "is_converged", "header"}
    assert len(estimator["param"]["coef_"]) == 20 and estimator["param"]["intercept_"] is None
    assert estimator["lr_scheduler"]["lr_scheduler"]["_last_lr"] == [0.07269999999999996]
    assert estimator["end_epoch"] == 10 and estimator["is_converged"] is False
    assert set(host.meta) >= {
        "epochs",
        "batch_size",
        "learning_rate_param",
        "init_param",
        "optimizer_param",
        "ovr",
        "label_count",
    }
    guest = breast_run.contexts[GUEST].models["output_model"]
    assert guest.data["estimator"]["fit_intercept"] is True
    assert guest.meta["labels"] == [0, 1] and guest.meta["threshold"] == 0.5
    arbiter = breast_run.contexts[ARBITER].models["output_model"]
    assert set(arbiter.data["estimator"]) == {
        "optimizer",
        "lr_scheduler",
        "end_epoch",
        "is_converged",
        "tol",
        "early_stop",
    }
    assert len(arbiter.data["estimator"]["optimizer"]["model_parameter"]) == 11 + 20


def test_train_output_has_fates_columns(breast_run: Any) -> None:
    output = breast_run.contexts[GUEST].outputs["train_output_data"]
    assert list(output.frame.columns) == [
        "id",
        "label",
        "predict_score",
        "predict_result",
        "predict_detail",
        "type",
    ]
    row = output.frame.iloc[0]
    assert (
        row["predict_detail"]
        == '"' + str({"0": 1 - float(row["predict_score"]), "1": float(row["predict_score"])}) + '"'
    )
    assert set(output.frame["type"]) == {"train_set"}
    host = breast_run.contexts[HOST].outputs["train_output_data"]
    assert list(host.frame.columns) == ["id", "type"]


def received_by(fed: Any, party: Party) -> list[Any]:
    return [item for item in fed.sent if item.destination == party]


def test_host_receives_only_ciphertexts_its_own_update_and_control(tables: dict[Party, Table]) -> None:
    fed = federation(small(tables, 60), quick())
    fed.run(coordinated_lr.run_lr)
    from fate_grpc.components.codec import decode_arrays
    from fate_grpc.crypto import paillier

    public_key = None
    names = set()
    for item in received_by(fed, HOST):
        name = item.tag.rsplit(".", 1)[-1]
        names.add(name)
        if name == "public_key":
            public_key = paillier.PublicKey.from_bytes(item.payload)
        elif name == "residual":
            assert public_key is not None
            vector = paillier.EncryptedVector.from_bytes(public_key, item.payload)
            assert len(vector) == 40 or len(vector) == 20
        elif name == "delta":
            update = decode_arrays(item.payload)
            assert update["value"].shape == (20,) and update["converged"].shape == (1,)  # its own update
        elif name in ("label_count", "plan", "rows", "validate_rows"):
            arrays = decode_arrays(item.payload)
            assert all(a.size <= 32 for a in arrays.values())  # counts, bounds, a digest, a flag
        else:
            raise AssertionError(f"the host received an unexpected message {item.tag}")
    assert names == {
        "public_key",
        "residual",
        "delta",
        "label_count",
        "plan",
        "rows",
        "validate_rows",
    }


def test_guest_and_arbiter_receive_what_the_protocol_allows(tables: dict[Party, Table]) -> None:
    from fate_grpc.components.codec import decode_arrays

    fed = federation(small(tables, 60), quick())
    fed.run(coordinated_lr.run_lr)
    guest_names = {(i.source.role, i.tag.rsplit(".", 1)[-1]) for i in received_by(fed, GUEST)}
    assert guest_names == {
        ("arbiter", "public_key"),
        ("host", "forward"),
        ("arbiter", "delta"),
        ("host", "host_forward"),  # predictions after training: FATE sends X_h w_h in plaintext
    }
    for item in received_by(fed, GUEST):
        if item.tag.endswith(".forward"):  # [[X_h w_h / 4]] and the host's loss terms: ciphertexts only
            assert item.payload[:4] == b"PAIV"
    arbiter_names = {(i.source.role, i.tag.rsplit(".", 1)[-1]) for i in received_by(fed, ARBITER)}
    assert arbiter_names == {
        ("guest", "label_count"),
        ("guest", "plan"),
        ("guest", "gradient"),
        ("host", "gradient"),
    }
    for item in received_by(fed, ARBITER):
        if item.tag.endswith(".gradient"):
            assert item.payload[:4] == b"PAIV"  # ciphertexts only
        else:
            assert all(a.size <= 16 for a in decode_arrays(item.payload).values())


def test_multi_host_equals_plaintext_without_loss(tables: dict[Party, Table]) -> None:
    parties = split_host(small(tables, 60), 8)
    params = quick(early_stop="weight_diff")
    fed = federation(parties, params)
    fed.run(coordinated_lr.run_lr)
    reference = oracle("lr", parties, params, compute_loss=False)
    for index, party in enumerate((GUEST, HOST, HOST_2)):
        assert np.allclose(
            weights_of(fed, party), reference.parties[index].weights.reshape(-1), atol=TOLERANCE
        )
    assert not [m for m in fed.contexts[ARBITER].metrics if m.name == "lr_loss"]
    for host in (HOST, HOST_2):  # a host hears only from the guest and the arbiter; [[d]] is a ciphertext
        for item in received_by(fed, host):
            assert item.source in (GUEST, ARBITER)
            if item.tag.endswith(".residual"):
                assert item.payload[:4] == b"PAIV"


def test_multi_host_refuses_a_loss_based_early_stop(tables: dict[Party, Table]) -> None:
    fed = federation(split_host(small(tables, 30), 8), quick(early_stop="diff"))
    with pytest.raises(ComponentError, match="use early_stop: weight_diff"):
        fed.run(coordinated_lr.run_lr)


@pytest.mark.parametrize(
    "optimizer",
    [
        {"method": "sgd", "penalty": "l2", "alpha": 0.01, "optimizer_params": {"lr": 0.1, "momentum": 0.9}},
        {"method": "adam", "penalty": "l2", "alpha": 0.01, "optimizer_params": {"lr": 0.05}},
        {"method": "rmsprop", "penalty": "none", "alpha": 0.0, "optimizer_params": {"lr": 0.01}},
        {"method": "adagrad", "penalty": "l1", "alpha": 0.01, "optimizer_params": {"lr": 0.1}},
    ],
    ids=lambda o: o["method"],
)
def test_each_optimizer_equals_plaintext(tables: dict[Party, Table], optimizer: dict[str, Any]) -> None:
    parties = small(tables, 60)
    params = quick(optimizer=optimizer, init_param={"method": "random_uniform", "random_state": 3})
    fed = federation(parties, params)
    fed.run(coordinated_lr.run_lr)
    reference = oracle("lr", parties, params)
    assert np.allclose(weights_of(fed, GUEST), reference.parties[0].weights.reshape(-1), atol=TOLERANCE)
    assert np.allclose(weights_of(fed, HOST), reference.parties[1].weights.reshape(-1), atol=TOLERANCE)


@pytest.mark.parametrize(
    "scheduler",
    [
        {"method": "constant", "scheduler_params": {"factor": 0.5, "total_iters": 2}},
        {"method": "step", "scheduler_params": {"step_size": 1, "gamma": 0.5}},
        {"method": "linear", "scheduler_params": {"start_factor": 0.5, "total_iters": 3}},
    ],
    ids=lambda s: s["method"],
)
def test_each_scheduler_equals_plaintext(tables: dict[Party, Table], scheduler: dict[str, Any]) -> None:
    parties = small(tables, 60)
    params = quick(learning_rate_scheduler=scheduler, epochs=4)
    fed = federation(parties, params)
    fed.run(coordinated_lr.run_lr)
    reference = oracle("lr", parties, params)
    assert np.allclose(weights_of(fed, HOST), reference.parties[1].weights.reshape(-1), atol=TOLERANCE)
    saved = fed.contexts[HOST].models["output_model"].data["estimator"]["lr_scheduler"]
    assert saved["lr_scheduler"]["_last_lr"] == [reference.parties[1].lr]


def test_early_stop_ends_every_party_at_the_same_epoch(tables: dict[Party, Table]) -> None:
    parties = small(tables, 60)
    params = quick(epochs=30, batch_size=None, tol=0.01, early_stop="diff")
    fed = federation(parties, params)
    fed.run(coordinated_lr.run_lr)
    reference = oracle("lr", parties, params)
    assert reference.coordinator.is_converged
    for party in (GUEST, HOST, ARBITER):
        estimator = fed.contexts[party].models["output_model"].data["estimator"]
        assert estimator["is_converged"] is True
        assert estimator["end_epoch"] == reference.coordinator.end_epoch < 29
    assert (
        len([m for m in fed.contexts[ARBITER].metrics if m.name == "lr_loss"])
        == reference.coordinator.end_epoch + 1
    )


def test_warm_start_continues_the_model_and_the_loss_curve(tables: dict[Party, Table]) -> None:
    parties = small(tables, 60)
    first = federation(parties, quick(epochs=2))
    first.run(coordinated_lr.run_lr)
    models = {p: {"warm_start_model": first.contexts[p].models["output_model"]} for p in (*parties, ARBITER)}
    second = federation(parties, quick(epochs=2), models=models)
    second.run(coordinated_lr.run_lr)
    start = oracle("lr", parties, quick(epochs=2))
    reference = oracle("lr", parties, quick(epochs=2), start=start)
    assert np.allclose(weights_of(second, HOST), reference.parties[1].weights.reshape(-1), atol=TOLERANCE)
    losses = [m for m in second.contexts[ARBITER].metrics if m.name == "lr_loss"]
    assert [m.step for m in losses] == [2, 3]
    assert np.allclose([m.value[0] for m in losses], reference.losses[2:], atol=TOLERANCE)
    assert reference.losses[2] < reference.losses[1]


def test_predict_gives_the_train_scores(tables: dict[Party, Table], breast_run: Any) -> None:
    models = {p: {"input_model": breast_run.contexts[p].models["output_model"]} for p in (GUEST, HOST)}
    fed = federation(tables, {}, stage="predict", key="test_data", models=models)
    outputs = fed.run(coordinated_lr.run_lr)
    predicted = outputs[GUEST]["test_output_data"].frame
    trained = breast_run.contexts[GUEST].outputs["train_output_data"].frame
    assert np.allclose(predicted["predict_score"], trained["predict_score"])
    assert set(predicted["type"]) == {"test_set"}


def test_validate_data_is_scored_every_epoch_and_output_as_validate_set(tables: dict[Party, Table]) -> None:
    train, rest = small(tables, 60), {p: t.take(np.arange(60, 90)) for p, t in tables.items()}
    fed = federation(train, quick(epochs=2), extra={p: {"validate_data": t} for p, t in rest.items()})
    outputs = fed.run(coordinated_lr.run_lr)
    frame = outputs[GUEST]["train_output_data"].frame
    assert frame["type"].value_counts().to_dict() == {"train_set": 60, "validate_set": 30}
    validated = [m for m in fed.contexts[GUEST].metrics if m.name == "validation"]
    assert [(m.step, m.step_axis, m.groups) for m in validated] == [
        (epoch, "iterations", (("default", None), ("train", None))) for epoch in range(2)
    ]
    last = frame[frame["type"] == "validate_set"]
    assert validated[-1].value["auc"] == pytest.approx(roc_auc_score(last["label"], last["predict_score"]))


def test_one_vs_rest_for_more_than_two_labels(tables: dict[Party, Table]) -> None:
    parties = small(tables, 60)
    guest = parties[GUEST]
    frame = guest.frame.copy()
    frame["y"] = np.arange(60) % 3
    parties[GUEST] = Table(frame=frame, schema=guest.schema)
    fed = federation(parties, quick(epochs=2))
    outputs = fed.run(coordinated_lr.run_lr)
    guest_model = fed.contexts[GUEST].models["output_model"]
    assert guest_model.meta["ovr"] is True and set(guest_model.data["estimator"]) == {"0", "1", "2"}
    for index, label in enumerate((0, 1, 2)):
        relabelled = dict(parties)
        relabelled_frame = frame.copy()
        relabelled_frame["y"] = (frame["y"] == label).astype(int)
        relabelled[GUEST] = Table(frame=relabelled_frame, schema=guest.schema)
        reference = oracle("lr", relabelled, quick(epochs=2))
        assert np.allclose(
            weights_of(fed, HOST, str(index)), reference.parties[1].weights.reshape(-1), atol=TOLERANCE
        )
    groups = {m.groups for m in fed.contexts[ARBITER].metrics}
    assert (("default", None), ("train", None), ("class", 2)) in groups
    assert set(outputs[GUEST]["train_output_data"].frame["predict_result"]) <= {0, 1, 2}


def test_unaligned_rows_are_refused(tables: dict[Party, Table]) -> None:
    parties = small(tables, 30)
    parties[HOST] = parties[HOST].take(np.arange(29, -1, -1))
    with pytest.raises(ComponentError, match="run psi on both first"):
        federation(parties, quick()).run(coordinated_lr.run_lr)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0}, "epochs: must be >= 1"),
        ({"batch_size": 5}, "batch_size: must be >= 10"),
        (
            {"optimizer": {"method": "lbfgs", "optimizer_params": {}}},
            "optimizer.method: 'lbfgs' is not one of",
        ),
        ({"optimizer": {"method": "sgd"}}, "optimizer.optimizer_params: required"),
        ({"init_param": {"method": "gaussian"}}, "init_param.method"),
        ({"he_param": {"kind": "ou"}}, "he_param.kind"),
    ],
)
def test_bad_parameters_name_the_field(
    tables: dict[Party, Table], change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ComponentError, match=message.replace(".", r"\.").replace("(", r"\(")):
        federation(small(tables, 20), quick(**change)).run(coordinated_lr.run_lr)


def test_whole_floats_are_accepted_where_ints_are_declared(tables: dict[Party, Table]) -> None:
    fed = federation(small(tables, 30), quick(epochs=1.0, batch_size=20.0))
    fed.run(coordinated_lr.run_lr)
    assert fed.contexts[GUEST].models["output_model"].meta["epochs"] == 1


def test_a_host_without_the_guests_validate_data_is_refused(tables: dict[Party, Table]) -> None:
    train = small(tables, 40)
    extra = {GUEST: {"validate_data": tables[GUEST].take(np.arange(40, 60))}}
    with pytest.raises(ComponentError, match="this host has no validate_data"):
        federation(train, quick(epochs=1), extra=extra).run(coordinated_lr.run_lr)


def test_predict_with_a_model_of_another_component_is_refused(tables: dict[Party, Table]) -> None:
    from fate_grpc.components.context import InputModel

    foreign = InputModel(data={"split_points": {}}, meta={"model_type": "hetero_feature_binning"})
    models = {p: {"input_model": foreign} for p in (GUEST, HOST)}
    fed = federation(small(tables, 20), {}, stage="predict", key="test_data", models=models)
    with pytest.raises(ComponentError, match="input_model is not a coordinated linear model"):
        fed.run(coordinated_lr.run_lr)
