"""The cross_validation stage of sshe_lr / sshe_linr: k folds (scikit-learn's KFold, as FATE) decided by
the guest, whose row positions it sends to the host (rows are aligned by psi); one SSHE training per fold
(loss metrics in groups default / cross_validations k, as FATE), and with ``output_cv_data`` the scores of
each fold's train and validate rows in ``cv_output_datas`` at the guest (one table, a ``cv_fold`` column
telling the folds apart). FATE declares ``metrics`` but computes none per fold; neither does this."""

from __future__ import annotations

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.components.coordinated_lr import tables
from fate_grpc.components.model_common.folds import fold_positions, with_fold
from fate_grpc.components.sshe_lr import guest, host
from fate_grpc.components.sshe_lr.channel import COMPONENT, Channel, peer_of
from fate_grpc.ml.linear.kernels import Task, kfold_indices

OUTPUT_KEY = "cv_output_datas"


def run(ctx: ComponentContext, task: Task) -> None:
    if ctx.input_count("warm_start_model") > 0:
        raise ComponentError("sshe cross validation does not take a warm_start_model (as FATE)")
    if ctx.role == "guest":
        _guest(ctx, task)
    else:
        _host(ctx, task)


def _guest(ctx: ComponentContext, task: Task) -> None:
    cv = ctx.parameters["cv_param"]
    table = ctx.read_input_table("cv_data")
    root = Channel(ctx, f"sshe_{task}.cv", peer_of(ctx))
    try:
        folds = list(
            kfold_indices(len(table), cv["n_splits"], shuffle=cv["shuffle"], random_state=cv["random_state"])
        )
    except ValueError as exc:
        raise ComponentError(str(exc)) from None
    root.send_arrays("folds", value=np.array([len(folds)]))
    outputs = []
    for k, (train_rows, test_rows) in enumerate(folds):
        channel = root.child(f"f{k}")
        channel.send_arrays("fold", train=train_rows, test=test_rows)
        train_table, test_table = table.take(train_rows), table.take(test_rows)
        groups = (("default", None), ("cross_validations", k))
        module = guest.fit(ctx, channel.child("train"), task, train_table, groups)
        if ctx.parameters["output_cv_data"]:
            trained = guest.predict_rows(
                channel.child("predict_train"), module, train_table, tables.TRAIN_SET
            )
            validated = guest.predict_rows(
                channel.child("predict_validate"), module, test_table, tables.VALIDATE_SET
            )
            outputs.append(with_fold(tables.stacked([trained, validated]), k))
    if outputs:
        ctx.write_output_table(OUTPUT_KEY, tables.stacked(outputs))


def _host(ctx: ComponentContext, task: Task) -> None:
    table = ctx.read_input_table("cv_data")
    root = Channel(ctx, f"sshe_{task}.cv", peer_of(ctx))
    count = int(root.receive_array("folds").reshape(-1)[0])
    for k in range(count):
        channel = root.child(f"f{k}")
        fold = channel.receive_arrays("fold")
        train_rows, test_rows = (
            fold_positions(fold.get(key), len(table), key, COMPONENT) for key in ("train", "test")
        )
        train_table, test_table = table.take(train_rows), table.take(test_rows)
        module = host.fit(ctx, channel.child("train"), task, train_table)
        if ctx.parameters["output_cv_data"]:
            host.send_predictions(channel.child("predict_train"), module, train_table)
            host.send_predictions(channel.child("predict_validate"), module, test_table)
