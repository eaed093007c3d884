"""hetero_secureboost's cross_validation stage: k folds (scikit-learn's KFold, as FATE) chosen by the guest,
which sends the hosts the row positions of each fold (rows are aligned by psi, so positions name the same
ids at every party). One training per fold, the fold's other rows scored tree by tree as validate data
(see ``validation``); its ``sbt_loss`` and ``validation`` are logged under groups default /
cross_validations k. With ``output_cv_data``, the guest writes the scores of every fold's train and
validate rows in ``cv_output_datas`` (one table, a ``cv_fold`` column telling the folds apart). As in FATE,
hosts write no data."""

from __future__ import annotations

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.components.hetero_secureboost import guest, host, outputs
from fate_grpc.components.hetero_secureboost.messages import Channel, guest_and_hosts
from fate_grpc.components.model_common.folds import fold_positions, with_fold
from fate_grpc.ml.linear.kernels import kfold_indices

COMPONENT = "hetero_secureboost"  # names the component in fold errors

OUTPUT_KEY = "cv_output_datas"


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
            parts.append(with_fold(outputs.stacked(fold), k))
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
        train_rows, test_rows = (
            fold_positions(fold.array(key), len(table), key, COMPONENT) for key in ("train", "test")
        )
        host.fit(ctx, channel.child("train"), table.take(train_rows), validate=table.take(test_rows))
