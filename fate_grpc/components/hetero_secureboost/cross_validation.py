"""hetero_secureboost's cross_validation stage: k folds (scikit-learn's KFold, as FATE) chosen by the guest,
which sends the hosts the row positions of each fold (rows are aligned by psi, so positions name the same
ids at every party). One training per fold, the fold's other rows scored tree by tree as validate data
(see ``validation``); its ``sbt_loss`` and ``validation`` are logged under groups default /
cross_validations k. With ``output_cv_data``, the guest writes the scores of every fold's train and
validate rows in ``cv_output_datas`` (one table, a ``cv_fold`` column telling the folds apart). As in FATE,
hosts write no data."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.components.hetero_secureboost import guest, host, outputs
from fate_grpc.components.hetero_secureboost.messages import Channel, guest_and_hosts
from fate_grpc.components.table import Table, TableSchema
from fate_grpc.ml.linear.kernels import kfold_indices

OUTPUT_KEY = "cv_output_datas"
FOLD_COLUMN = "cv_fold"


def run(ctx: ComponentContext) -> None:
    if ctx.role == "guest":
        _guest(ctx)
    else:
        _host(ctx)


def _guest(ctx: ComponentContext) -> None:
    table = ctx.read_input_table("cv_data")
    _, hosts = guest_and_hosts(ctx)
    cv = ctx.parameters["cv_param"]
    try:
        folds = list(
            kfold_indices(len(table), cv["n_splits"], shuffle=cv["shuffle"], random_state=cv["random_state"])
        )
    except ValueError as error:
        raise ComponentError(f"hetero_secureboost: {error}") from None
    root = Channel(ctx, "sbt.cv")
    root.send("folds", hosts, {"count": len(folds)})
    parts = []
    for k, (train_rows, test_rows) in enumerate(folds):
        channel = root.child(f"f{k}")
        channel.send("fold", hosts, train=train_rows, test=test_rows)
        train_table, test_table = table.take(train_rows), table.take(test_rows)
        groups = (("default", None), ("cross_validations", k))
        model, trained, validated = guest.fit(
            ctx, channel.child("train"), train_table, validate=test_table, groups=groups
        )
        if ctx.parameters["output_cv_data"] and validated is not None:
            fold = [
                outputs.prediction_table(train_table, model.objective, trained, outputs.TRAIN_SET),
                outputs.prediction_table(test_table, model.objective, validated, outputs.VALIDATE_SET),
            ]
            parts.append(_with_fold(outputs.stacked(fold), k))
        ctx.report_progress(min(95, 100 * (k + 1) // len(folds)))
    if parts:
        ctx.write_output_table(OUTPUT_KEY, outputs.stacked(parts))


def _host(ctx: ComponentContext) -> None:
    table = ctx.read_input_table("cv_data")
    guest_party, _ = guest_and_hosts(ctx)
    root = Channel(ctx, "sbt.cv")
    count = int(root.receive("folds", guest_party).header["count"])
    for k in range(count):
        channel = root.child(f"f{k}")
        fold = channel.receive("fold", guest_party)
        train_rows, test_rows = (_positions(fold.array(key), len(table), key) for key in ("train", "test"))
        host.fit(ctx, channel.child("train"), table.take(train_rows), validate=table.take(test_rows))


def _positions(value: np.ndarray, rows: int, key: str) -> np.ndarray:
    if value.dtype.kind not in "iu" or value.ndim != 1:
        raise ComponentError(f"hetero_secureboost: the guest's fold lacks integer {key} positions")
    if value.size and (int(value.min()) < 0 or int(value.max()) >= rows):
        raise ComponentError(f"hetero_secureboost: the guest's fold names rows beyond this party's {rows}")
    return value.astype(np.int64)


def _with_fold(table: Table, fold: int) -> Table:
    frame = table.frame.copy()
    frame[FOLD_COLUMN] = fold
    schema: TableSchema = replace(table.schema, header=(*table.schema.header, FOLD_COLUMN))
    return Table(frame=frame, schema=schema)
