"""hetero_secureboost at a guest and hosts in-process: accuracy, agreement with the plaintext booster split
for split, FATE's outputs and model, prediction from the saved model, multi-class, regression, several
hosts, GOSS, complete_secure, warm start and parameter errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from fate_grpc.components.codec import decode_arrays
from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.table import Table
from fate_grpc.ml.secureboost.objectives import sigmoid
from tests.unit.components.breast import GUEST, HOST
from tests.unit.components.test_hetero_secureboost_helpers import (
    HOST_2,
    oracle,
    output_model,
    run,
    small,
    split_columns,
    synthetic,
)

FATE_BREAST = {"num_trees": 5, "max_depth": 3, "max_bin": 32, "learning_rate": 0.3}


@pytest.fixture(scope="module")
def breast_run(tables: dict[Party, Table]):
    return run(tables, FATE_BREAST)


def test_breast_with_fate_settings_reaches_fate_auc_and_equals_the_plaintext_booster(
    tables, breast_run
) -> None:
    _, outputs = breast_run
    frame = outputs[GUEST]["train_output_data"].frame

    _, expected = oracle(tables, FATE_BREAST)

    assert roc_auc_score(frame["label"], frame["predict_score"]) >= 0.996
    np.testing.assert_allclose(frame["predict_score"], sigmoid(expected), atol=1e-9)


def test_trees_match_the_plaintext_booster_node_for_node(tables, breast_run) -> None:
    federation, _ = breast_run
    guest_model = output_model(federation, GUEST).data
    host_model = output_model(federation, HOST).data
    names = [*tables[GUEST].schema.feature_names, *tables[HOST].schema.feature_names]

    plain, _ = oracle(tables, FATE_BREAST)

    for ours, theirs, host_tree in zip(guest_model["trees"], plain.trees, host_model["trees"], strict=True):
        assert len(ours["nodes"]) == len(theirs)
        for node, expected, host_node in zip(ours["nodes"], theirs, host_tree["nodes"], strict=True):
            assert node["is_leaf"] == expected.is_leaf and node["sample_num"] == expected.sample_num
            assert node["weight"] == pytest.approx(expected.weight, abs=1e-9)
            if expected.is_leaf:
                continue
            expected_name = names[expected.fid]
            if node["sitename"] == "guest_9999":
                assert node["fid"] == expected_name
            else:  # the guest knows only the anonymous id; the host holds the feature
                assert node["fid"] is None and node["bid"] is None and node["split_id"] is not None
                assert host_node["fid"] is not None


def test_outputs_and_model_have_fate_shapes(breast_run) -> None:
    federation, outputs = breast_run
    frame = outputs[GUEST]["train_output_data"].frame
    guest_model = output_model(federation, GUEST).data
    host_model = output_model(federation, HOST).data

    assert list(frame.columns) == ["id", "label", "predict_score", "predict_result", "predict_detail", "type"]
    assert set(frame["type"]) == {"train_set"}
    assert frame["predict_detail"][0].startswith("\"{'0': ")
    assert set(guest_model) == {
        "hyper_param", "trees", "fid_name_mapping", "feature_importance", "init_score", "loss_history"
    }  # fmt: skip
    assert guest_model["hyper_param"]["num_trees"] == 5 and guest_model["init_score"] is None
    assert len(guest_model["loss_history"]) == 5
    assert guest_model["loss_history"] == sorted(guest_model["loss_history"], reverse=True)
    assert set(host_model["hyper_param"]) == {"num_trees", "max_depth", "max_bin", "complete_secure"}
    host_nodes = [n for t in host_model["trees"] for n in t["nodes"]]
    assert all(n["grad"] is None and n["hess"] is None and n["weight"] == 0.0 for n in host_nodes)
    guest_names = set(guest_model["fid_name_mapping"].values())
    assert set(guest_model["feature_importance"]) <= guest_names
    assert HOST not in outputs or "train_output_data" not in outputs[HOST]


def test_sbt_loss_is_logged_per_round(breast_run) -> None:
    federation, _ = breast_run

    losses = [m for m in federation.contexts[GUEST].metrics if m.name == "sbt_loss"]

    assert [m.step for m in losses] == [0, 1, 2, 3, 4]
    assert {(m.type, m.step_axis) for m in losses} == {("loss", "iterations")}
    model = output_model(federation, GUEST).data
    assert [m.value for m in losses] == model["loss_history"]
    (importance,) = [m for m in federation.contexts[GUEST].metrics if m.name == "feature_importance"]
    assert importance.value == model["feature_importance"] and importance.step is None
    assert all(entry["split"] >= 1 for entry in importance.value.values())


def test_predict_stage_gives_the_training_scores(tables, breast_run) -> None:
    federation, outputs = breast_run
    models = {party: {"input_model": output_model(federation, party)} for party in tables}

    _, predicted = run(tables, {}, stage="predict", key="test_data", models=models)

    frame = predicted[GUEST]["test_output_data"].frame
    np.testing.assert_allclose(
        frame["predict_score"], outputs[GUEST]["train_output_data"].frame["predict_score"], atol=1e-12
    )
    assert set(frame["type"]) == {"test_set"}


def test_validate_data_is_scored_tree_by_tree(tables) -> None:
    train, validate = small(tables, 120), {p: t.take(np.arange(120, 180)) for p, t in tables.items()}

    federation, outputs = run(
        train, {"num_trees": 3}, extra={p: {"validate_data": validate[p]} for p in tables}
    )

    frame = outputs[GUEST]["train_output_data"].frame
    assert frame["type"].value_counts().to_dict() == {"train_set": 120, "validate_set": 60}
    records = [m for m in federation.contexts[GUEST].metrics if m.name == "validation"]
    assert [m.step for m in records] == [0, 1, 2] and {m.type for m in records} == {"evaluation"}
    validated = frame[frame["type"] == "validate_set"]
    assert records[-1].value["auc"] == pytest.approx(
        roc_auc_score(validated["label"], validated["predict_score"])
    )
    # The same scores as predicting the validate rows with the finished model.
    models = {party: {"input_model": output_model(federation, party)} for party in tables}
    _, predicted = run(validate, {}, stage="predict", key="test_data", models=models)
    np.testing.assert_allclose(
        predicted[GUEST]["test_output_data"].frame["predict_score"], validated["predict_score"], atol=1e-12
    )


def test_a_host_without_the_guests_validate_data_is_told_so(tables) -> None:
    train, validate = small(tables, 60), tables[GUEST].take(np.arange(60, 80))

    with pytest.raises(ComponentError, match="give this host its validate_data too"):
        run(train, {"num_trees": 1}, extra={GUEST: {"validate_data": validate}})


def test_multi_class_trains_as_well_as_the_plaintext_booster() -> None:
    tables = synthetic("multi")
    params = {"objective": "multi:ce", "num_class": 4, "num_trees": 2, "max_depth": 3}

    federation, outputs = run(tables, params)

    # Not split for split: in the first round every row has the same g and h per class, so candidates of
    # different host features often tie, and the host's secret shuffle (not feature order) breaks the tie.
    plain, expected = oracle(tables, params)
    frame = outputs[GUEST]["train_output_data"].frame
    model = output_model(federation, GUEST).data
    assert len(model["trees"]) == 8  # one tree per class per round
    np.testing.assert_allclose(model["loss_history"], plain.loss_history, rtol=0.05)
    labels = tables[GUEST].frame["y"].to_numpy()
    ours = (frame["predict_result"].to_numpy() == labels).mean()
    assert ours >= (np.argmax(expected, axis=1) == labels).mean() - 0.05
    assert frame["predict_detail"][0].startswith("\"{'0': ")


def test_regression_equals_the_plaintext_booster() -> None:
    tables = synthetic("regression")
    params = {"objective": "regression:l2", "num_trees": 3, "max_depth": 3}

    federation, outputs = run(tables, params)

    model, expected = oracle(tables, params)
    frame = outputs[GUEST]["train_output_data"].frame
    np.testing.assert_allclose(frame["predict_score"], expected, atol=1e-7)
    assert output_model(federation, GUEST).data["init_score"] == pytest.approx(model.init_score)


def test_two_hosts_equal_the_plaintext_booster(tables) -> None:
    rows = small(tables, 200)
    frame = rows[GUEST].frame.merge(rows[HOST].frame, on="id")
    three = split_columns(frame, "y", [GUEST, HOST, HOST_2], [10, 10, 10])
    params = {"num_trees": 3, "max_depth": 3}

    federation, outputs = run(three, params)

    _, expected = oracle(three, params)
    np.testing.assert_allclose(
        outputs[GUEST]["train_output_data"].frame["predict_score"], sigmoid(expected), atol=1e-9
    )
    sites = {n["sitename"] for t in output_model(federation, GUEST).data["trees"] for n in t["nodes"]}
    assert sites & {"host_10000", "host_10001"}
    assert all(len(output_model(federation, h).data["trees"]) == 3 for h in (HOST, HOST_2))


def test_goss_equals_the_plaintext_booster_with_goss(tables) -> None:
    params = {"num_trees": 3, "goss": True, "goss_start_iter": 1}

    federation, outputs = run(small(tables, 300), params)

    _, expected = oracle(small(tables, 300), params)
    trees = output_model(federation, GUEST).data["trees"]
    assert [t["nodes"][0]["sample_num"] for t in trees] == [300, 90, 90]  # 20% top + 10% others
    np.testing.assert_allclose(
        outputs[GUEST]["train_output_data"].frame["predict_score"], sigmoid(expected), atol=1e-9
    )


def _split_sites(federation) -> list[set[str]]:
    trees = output_model(federation, GUEST).data["trees"]
    return [{n["sitename"] for n in t["nodes"] if not n["is_leaf"]} for t in trees]


def test_complete_secure_trees_use_guest_features_only(tables) -> None:
    rows = small(tables, 200)

    secure, _ = run(rows, {"num_trees": 2, "complete_secure": 2})
    usual, _ = run(rows, {"num_trees": 2})

    assert _split_sites(secure) == [{"guest_9999"}, {"guest_9999"}]
    assert "host_10000" in _split_sites(usual)[1]  # without it, the second tree splits on a host feature
    host_received = {m.tag.split(".")[-1] for m in secure.sent_between(GUEST, HOST)}
    assert host_received == {"setup", "gh", "tree"}  # no ciphertexts: only the masked tree shapes


def test_warm_start_continues_to_the_same_model(tables) -> None:
    rows = small(tables, 200)
    first, _ = run(rows, {"num_trees": 2})
    models = {party: {"warm_start_model": output_model(first, party)} for party in rows}

    warm, warm_outputs = run(rows, {"num_trees": 3}, models=models)
    _, straight = run(rows, {"num_trees": 5})

    np.testing.assert_allclose(
        warm_outputs[GUEST]["train_output_data"].frame["predict_score"],
        straight[GUEST]["train_output_data"].frame["predict_score"],
        atol=1e-9,
    )
    assert len(output_model(warm, HOST).data["trees"]) == 5
    assert len(output_model(warm, GUEST).data["loss_history"]) == 5


def test_warm_start_keeps_the_saved_learning_rate(tables) -> None:
    rows = small(tables, 100)
    first, _ = run(rows, {"num_trees": 1, "learning_rate": 0.2})
    models = {party: {"warm_start_model": output_model(first, party)} for party in rows}

    warm, warm_outputs = run(rows, {"num_trees": 1, "learning_rate": 0.5}, models=models)
    _, straight = run(rows, {"num_trees": 2, "learning_rate": 0.2})

    assert output_model(warm, GUEST).data["hyper_param"]["learning_rate"] == 0.2
    np.testing.assert_allclose(
        warm_outputs[GUEST]["train_output_data"].frame["predict_score"],
        straight[GUEST]["train_output_data"].frame["predict_score"],
        atol=1e-9,
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"he_param": {"kind": "mock"}}, "parameter he_param kind 'mock' is not available here"),
        ({"he_param": {"kind": "paillier", "key_length": 512}}, "key_length must be at least 1024"),
        ({"num_trees": 0}, "parameter num_trees must be an integer > 0"),
        ({"objective": "multi:ce"}, "num_class must be at least 3"),
        ({"top_rate": 1.5}, "parameter top_rate must be a number"),
    ],
)
def test_bad_parameters_are_refused_with_their_name(tables, params, message) -> None:
    with pytest.raises(ComponentError, match=message):
        run(small(tables, 30), params)


def test_rows_that_differ_between_parties_are_refused(tables) -> None:
    rows = small(tables, 40)
    rows[HOST] = tables[HOST].take(np.arange(1, 41))

    with pytest.raises(ComponentError, match="rows differ"):
        run(rows, {"num_trees": 1})


def test_cross_validation_trains_one_model_per_fold(tables) -> None:
    rows = small(tables, 150)

    federation, outputs = run(
        rows, {"num_trees": 2, "cv_param": {"n_splits": 3}}, stage="cross_validation", key="cv_data"
    )

    frame = outputs[GUEST]["cv_output_datas"].frame
    assert sorted(frame["cv_fold"].unique().tolist()) == [0, 1, 2]
    validated = frame[frame["type"] == "validate_set"]
    assert sorted(validated["id"]) == sorted(rows[GUEST].frame["id"])
    assert roc_auc_score(validated["label"], validated["predict_score"]) > 0.9
    losses = [m for m in federation.contexts[GUEST].metrics if m.name == "sbt_loss"]
    assert {m.groups for m in losses} == {(("default", None), ("cross_validations", k)) for k in range(3)}
    assert outputs[HOST] == {}


def test_cross_validation_needs_n_splits(tables) -> None:
    with pytest.raises(ComponentError, match=r"parameter cv_param\.n_splits"):
        run(small(tables, 30), {"cv_param": {"shuffle": True}}, stage="cross_validation", key="cv_data")


@pytest.mark.parametrize(
    "switches",
    [
        {"gh_pack": False},
        {"split_info_pack": False},
        {"hist_sub": False},
        {"gh_pack": False, "hist_sub": False},
    ],
)
def test_packing_and_subtraction_switches_do_not_change_the_model(tables, switches) -> None:
    rows = small(tables, 120)
    params = {"num_trees": 2, "max_depth": 3}

    _, outputs = run(rows, {**params, **switches})

    _, expected = oracle(rows, params)
    np.testing.assert_allclose(
        outputs[GUEST]["train_output_data"].frame["predict_score"], sigmoid(expected), atol=1e-9
    )


def test_two_hosts_predict_stage_gives_the_training_scores(tables) -> None:
    rows = small(tables, 150)
    frame = rows[GUEST].frame.merge(rows[HOST].frame, on="id")
    three = split_columns(frame, "y", [GUEST, HOST, HOST_2], [10, 10, 10])
    federation, trained = run(three, {"num_trees": 2})
    models = {party: {"input_model": output_model(federation, party)} for party in three}

    _, predicted = run(three, {}, stage="predict", key="test_data", models=models)

    np.testing.assert_allclose(
        predicted[GUEST]["test_output_data"].frame["predict_score"],
        trained[GUEST]["train_output_data"].frame["predict_score"],
        atol=1e-12,
    )


def test_ou_gives_the_paillier_model(tables) -> None:
    rows = small(tables, 150)
    params = {"num_trees": 2, "he_param": {"kind": "ou", "key_length": 1024}, "split_info_pack": True}

    federation, outputs = run(rows, params)

    _, expected = oracle(rows, {"num_trees": 2})
    np.testing.assert_allclose(
        outputs[GUEST]["train_output_data"].frame["predict_score"], sigmoid(expected), atol=1e-9
    )
    # As FATE: OU cannot fold several bins into one ciphertext, so every candidate travels on its own.
    hist = next(m for m in federation.sent_between(HOST, GUEST) if m.tag.endswith("t0.l0.hist"))
    assert b"OUK1" in next(m for m in federation.sent_between(GUEST, HOST) if m.tag.endswith("setup")).payload
    arrays = decode_arrays(hist.payload)
    header_bytes, ou_ciphertext_bytes = 17, 128  # an OU ciphertext is an element mod n (1024 bits)
    assert len(arrays["vector_hist0"]) == header_bytes + ou_ciphertext_bytes * len(arrays["counts"])


def test_warm_start_with_validate_data_scores_the_whole_model(tables) -> None:
    rows, validate = small(tables, 120), {p: t.take(np.arange(120, 160)) for p, t in tables.items()}
    extra = {p: {"validate_data": validate[p]} for p in tables}
    first, _ = run(rows, {"num_trees": 1}, extra=extra)
    models = {party: {"warm_start_model": output_model(first, party)} for party in rows}

    _, warm = run(rows, {"num_trees": 1}, models=models, extra=extra)
    _, straight = run(rows, {"num_trees": 2}, extra=extra)

    np.testing.assert_allclose(
        warm[GUEST]["train_output_data"].frame["predict_score"],
        straight[GUEST]["train_output_data"].frame["predict_score"],
        atol=1e-9,
    )
