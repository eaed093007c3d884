"""The guest's part of sshe_lr / sshe_linr (it holds the labels and some features).

Training (``training`` / ``secure``): the guest learns its own data, its opened weights at the end, the
batch loss on loss epochs (``sum dz^2`` opened to it alone, as FATE reveals it), the host's weight count,
and, with ``early_stop: weight_diff``, its own weights after every epoch and the norm of the host's weight
change. Everything else it receives is a ciphertext under the host's key or a statistically masked value.
Predicting (after training on the train and validate rows, in the predict stage, and per fold in cross
validation) it receives the host's plaintext ``X_h w_h`` per row, as in FATE's predict.
"""

from __future__ import annotations

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError, MetricGroups
from fate_grpc.components.coordinated_lr import tables
from fate_grpc.components.model_common.crypto_workers import CryptoWorkers
from fate_grpc.components.sshe_lr import model, timing, training
from fate_grpc.components.sshe_lr.channel import Channel, ids_digest, peer_of
from fate_grpc.components.sshe_lr.model import PartyModule
from fate_grpc.components.sshe_lr.secure import Keys, SecureParty
from fate_grpc.components.sshe_lr.settings import settings
from fate_grpc.components.table import Table
from fate_grpc.ml.linear.kernels import Task, batch_bounds

TRAIN_GROUPS: MetricGroups = (("default", None), ("train", None))


def train(ctx: ComponentContext, task: Task) -> None:
    timing.reset()
    table = ctx.read_input_table("train_data")
    validate = ctx.read_input_table("validate_data") if ctx.has_input("validate_data") else None
    channel = Channel(ctx, f"sshe_{task}.train", peer_of(ctx))
    module = fit(ctx, channel, task, table, TRAIN_GROUPS)
    ctx.log.info(timing.summary())
    ctx.write_output_model("output_model", *model.document(module))
    ctx.report_progress(90)
    parts = [predict_rows(channel.child("predict_train"), module, table, tables.TRAIN_SET)]
    if validate is not None:
        parts.append(predict_rows(channel.child("predict_validate"), module, validate, tables.VALIDATE_SET))
    ctx.write_output_table("train_output_data", tables.stacked(parts))


def predict(ctx: ComponentContext, task: Task) -> None:
    table = ctx.read_input_table("test_data")
    module = model.load(
        task, ctx.read_input_model("input_model"), settings(task, ctx.parameters), what="input_model"
    )
    _check_task(module, task, "input_model")
    channel = Channel(ctx, f"sshe_{task}.predict", peer_of(ctx))
    ctx.write_output_table("test_output_data", predict_rows(channel, module, table, tables.TEST_SET))


def fit(
    ctx: ComponentContext, channel: Channel, task: Task, table: Table, groups: MetricGroups
) -> PartyModule:
    """Train (or continue training) at the guest, the host running its part."""
    current = settings(task, ctx.parameters)
    module = PartyModule(task, current)
    if ctx.input_count("warm_start_model") > 0:
        module = model.load(task, ctx.read_input_model("warm_start_model"), current, what="warm_start_model")
        _check_task(module, task, "warm_start_model")
    features, header = tables.feature_matrix(table, module.header)
    targets = tables.label_values(table)
    channel.send_arrays("rows", digest=ids_digest(table.ids.tolist()))
    classes = _classes(channel, module, targets)
    bounds = batch_bounds(len(targets), module.settings.batch_size)
    channel.send_arrays("plan", bounds=np.asarray(bounds, dtype=np.int64))
    fit_intercept = module.settings.fit_intercept
    if module.estimators:
        fit_intercept = module.estimators[0].fit_intercept
    own_count = features.shape[1] + (1 if fit_intercept else 0)
    channel.send_arrays("weight_count", value=np.array([own_count]))
    peer_count = int(channel.receive_array("weight_count").reshape(-1)[0])
    with CryptoWorkers(len(targets)) as executor:
        party = SecureParty(Keys.exchange(channel, module.settings.key_length), executor, first=True)
        for index, positive in enumerate(classes):
            scope = channel.child(f"c{index}") if module.ovr else channel
            job = training.Job(
                settings=module.settings,
                features=features,
                header=header,
                fit_intercept=fit_intercept,
                initial=module.starting_weights(index, features.shape[1], fit_intercept),
                peer_count=peer_count,
                bounds=bounds,
                targets=_targets(task, targets, positive),
                groups=(*groups, ("class", index)) if module.ovr else groups,
            )
            module.estimators[index] = training.fit(scope, party, job, training.Reporter(ctx))
    return module


def _check_task(module: PartyModule, task: Task, what: str) -> None:
    if task == "lr" and not module.labels:
        raise ComponentError(f"{what} is not an sshe_lr model (its meta has no class labels)")


def _classes(channel: Channel, module: PartyModule, targets: np.ndarray) -> list[int | None]:
    """lr: the sorted labels (one estimator per class when more than two, as FATE), told to the host.
    linr: one estimator."""
    if module.task == "linr":
        return [None]
    if any(float(v) != int(v) for v in targets.tolist()):
        raise ComponentError("sshe_lr needs integer class labels")
    labels = sorted({int(v) for v in targets.tolist()})
    if len(labels) < 2:
        raise ComponentError(f"sshe_lr needs at least two classes in the labels; found {labels}")
    if module.labels and module.labels != labels:
        raise ComponentError(
            f"the warm start model was trained on labels {module.labels}, the data has {labels}"
        )
    module.labels, module.label_count = labels, len(labels)
    module.ovr = module.ovr or len(labels) > 2
    channel.send_arrays("label_count", value=np.array([len(labels), int(module.ovr)]))
    return list[int | None](labels) if module.ovr else [None]


def _targets(task: Task, targets: np.ndarray, positive: int | None) -> np.ndarray:
    if task == "linr":
        return targets.astype(np.float64)
    if positive is None:  # binary: the larger label is the positive class (1 for FATE's 0/1 labels)
        positive = int(max(targets))
    return (targets == positive).astype(np.float64)


def predict_rows(channel: Channel, module: PartyModule, table: Table, kind: str) -> Table:
    """Scores of every row (the host sends its plaintext X_h w_h, as in FATE's predict) as FATE's table."""
    features, _ = tables.feature_matrix(table, module.header)
    channel.send_arrays("rows", digest=ids_digest(table.ids.tolist()))
    columns = []
    for index in sorted(module.estimators):
        estimator = module.estimators[index]
        matrix = np.hstack([features, np.ones((len(features), 1))]) if estimator.fit_intercept else features
        z = matrix @ estimator.weights
        scope = channel.child(f"c{index}") if module.ovr else channel
        part = scope.receive_array("host_forward").astype(np.float64).reshape(-1)
        if part.shape != z.shape:
            raise ComponentError(f"the host sent {part.size} predictions for {z.size} rows")
        columns.append(z + part)
    scores = np.column_stack(columns)
    if module.task == "linr":
        return tables.regression_predictions(table, scores[:, 0], kind)
    probabilities = 1.0 / (1.0 + np.exp(-scores))
    labels = module.labels or [0, 1]
    if module.ovr:
        return tables.multi_predictions(table, probabilities, labels, kind)
    return tables.binary_predictions(table, probabilities[:, 0], labels, module.settings.threshold, kind)
