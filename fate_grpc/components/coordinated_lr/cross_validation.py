"""The cross_validation stage: k folds (scikit-learn's KFold, as FATE) decided by the guest, whose row
positions it sends to the hosts (rows are aligned by psi, so positions name the same ids everywhere) and
whose count it sends to the arbiter; one training per fold, scores of each fold's train and validate rows
in ``cv_output_datas`` (one table, a ``cv_fold`` column telling the folds apart) and the validate rows'
metrics per fold at the guest (groups default / cross_validations k)."""

from __future__ import annotations

import numpy as np

from fate_grpc.components.context import ComponentContext
from fate_grpc.components.coordinated_lr import arbiter, guest, host, tables
from fate_grpc.components.coordinated_lr.channel import Channel, roles
from fate_grpc.components.coordinated_lr.settings import cross_validation, train_settings
from fate_grpc.components.model_common.folds import fold_positions, with_fold
from fate_grpc.components.table import Table
from fate_grpc.ml import evaluation
from fate_grpc.ml.linear.kernels import Task, kfold_indices

COMPONENT = "coordinated linear models"  # names the component in fold errors

OUTPUT_KEY = "cv_output_datas"


def run(ctx: ComponentContext, task: Task) -> None:
    if ctx.role == "arbiter":
        _arbiter(ctx, task)
    elif ctx.role == "guest":
        _guest(ctx, task)
    else:
        _host(ctx, task)


def _guest(ctx: ComponentContext, task: Task) -> None:
    settings = cross_validation(task, ctx.parameters)
    table = ctx.read_input_table("cv_data")
    _, hosts, arbiter_party = roles(ctx)
    root = Channel(ctx, f"{task}.cv")
    folds = list(
        kfold_indices(
            len(table), settings.n_splits, shuffle=settings.shuffle, random_state=settings.random_state
        )
    )
    root.send_arrays("folds", [arbiter_party, *hosts], value=np.array([len(folds)]))
    outputs = []
    for k, (train_rows, test_rows) in enumerate(folds):
        channel = root.child(f"f{k}")
        channel.send_arrays("fold", hosts, train=train_rows, test=test_rows)
        train_table, test_table = table.take(train_rows), table.take(test_rows)
        module = guest.fit(ctx, channel.child("train"), task, train_table)
        validated = guest.predict_rows(
            channel.child("predict_validate"), module, test_table, tables.VALIDATE_SET
        )
        _log_fold_metrics(ctx, task, settings.metrics, validated, k)
        if settings.output_cv_data:
            trained = guest.predict_rows(
                channel.child("predict_train"), module, train_table, tables.TRAIN_SET
            )
            outputs.append(with_fold(tables.stacked([trained, validated]), k))
    if outputs:
        ctx.write_output_table(OUTPUT_KEY, tables.stacked(outputs))


def _host(ctx: ComponentContext, task: Task) -> None:
    settings = cross_validation(task, ctx.parameters)
    table = ctx.read_input_table("cv_data")
    guest_party, _, _ = roles(ctx)
    root = Channel(ctx, f"{task}.cv")
    count = int(root.receive_array("folds", guest_party).reshape(-1)[0])
    outputs = []
    for k in range(count):
        channel = root.child(f"f{k}")
        fold = channel.receive_arrays("fold", guest_party)
        train_rows, test_rows = (
            fold_positions(fold.get(key), len(table), key, COMPONENT) for key in ("train", "test")
        )
        train_table, test_table = table.take(train_rows), table.take(test_rows)
        module = host.fit(ctx, channel.child("train"), task, train_table)
        host.send_predictions(channel.child("predict_validate"), module, test_table)
        if settings.output_cv_data:
            host.send_predictions(channel.child("predict_train"), module, train_table)
            parts = [
                tables.host_rows(train_table, tables.TRAIN_SET),
                tables.host_rows(test_table, tables.VALIDATE_SET),
            ]
            outputs.append(with_fold(tables.stacked(parts), k))
    if outputs:
        ctx.write_output_table(OUTPUT_KEY, tables.stacked(outputs))


def _arbiter(ctx: ComponentContext, task: Task) -> None:
    settings = train_settings(task, ctx.parameters)
    guest_party, _, _ = roles(ctx)
    root = Channel(ctx, f"{task}.cv")
    count = int(root.receive_array("folds", guest_party).reshape(-1)[0])
    for k in range(count):
        groups = (("default", None), ("cross_validations", k))
        arbiter.fit(ctx, root.child(f"f{k}").child("train"), task, settings, {}, groups)


def _log_fold_metrics(
    ctx: ComponentContext, task: Task, metrics: list[str], validated: Table, fold: int
) -> None:
    frame = validated.frame
    multi = task == "lr" and frame["predict_result"].nunique() > 2
    kind = "regression" if task == "linr" else ("multi" if multi else "binary")
    column = "predict_result" if kind == "multi" else "predict_score"
    try:
        results = evaluation.evaluate(
            kind, frame[tables.LABEL].to_numpy(float), frame[column].to_numpy(float), metrics
        )
    except ValueError as exc:
        ctx.log.warning("cross validation fold %d: metrics not computed: %s", fold, exc)
        return
    ctx.log_metric(
        "cv_metrics",
        results,
        type="evaluation",
        groups=(("default", None), ("cross_validations", fold)),
    )
