"""The host's part of sshe_lr / sshe_linr (features only, no labels).

Training (``training`` / ``secure``): the host learns its own data, its opened weights at the end, the
number of classes (lr), the batch plan, the guest's weight count and whether training converged (and, with
``early_stop: weight_diff``, its own weights after every epoch). Everything else it receives is a ciphertext
under the guest's key or a statistically masked value: never a label, a residual, a loss, a guest feature
or weight. Predicting it sends the guest its plaintext ``X_h w_h`` per row, as in FATE's predict, and
writes no output data (FATE's SSHE writes prediction tables at the guest only).
"""

from __future__ import annotations

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.components.coordinated_lr import tables
from fate_grpc.components.model_common.crypto_workers import CryptoWorkers
from fate_grpc.components.sshe_lr import model, timing, training
from fate_grpc.components.sshe_lr.channel import Channel, ids_digest, peer_of
from fate_grpc.components.sshe_lr.model import PartyModule
from fate_grpc.components.sshe_lr.secure import Keys, SecureParty
from fate_grpc.components.sshe_lr.settings import settings
from fate_grpc.components.table import Table
from fate_grpc.ml.linear.kernels import Task


def train(ctx: ComponentContext, task: Task) -> None:
    timing.reset()
    table = ctx.read_input_table("train_data")
    validate = ctx.read_input_table("validate_data") if ctx.has_input("validate_data") else None
    channel = Channel(ctx, f"sshe_{task}.train", peer_of(ctx))
    module = fit(ctx, channel, task, table)
    ctx.log.info(timing.summary())
    ctx.write_output_model("output_model", *model.document(module))
    ctx.report_progress(90)
    send_predictions(channel.child("predict_train"), module, table)
    if validate is not None:
        send_predictions(channel.child("predict_validate"), module, validate)


def predict(ctx: ComponentContext, task: Task) -> None:
    table = ctx.read_input_table("test_data")
    module = model.load(
        task, ctx.read_input_model("input_model"), settings(task, ctx.parameters), what="input_model"
    )
    send_predictions(Channel(ctx, f"sshe_{task}.predict", peer_of(ctx)), module, table)


def fit(ctx: ComponentContext, channel: Channel, task: Task, table: Table) -> PartyModule:
    current = settings(task, ctx.parameters)
    module = PartyModule(task, current)
    if ctx.input_count("warm_start_model") > 0:
        module = model.load(task, ctx.read_input_model("warm_start_model"), current, what="warm_start_model")
    features, header = tables.feature_matrix(table, module.header)
    _check_rows(channel, table)
    classes = 1
    if task == "lr":
        count, ovr = (int(v) for v in channel.receive_array("label_count").reshape(-1)[:2])
        module.label_count, module.ovr = count, bool(ovr)
        classes = count if module.ovr else 1
    bounds = [(int(a), int(b)) for a, b in channel.receive_array("plan", "bounds").tolist()]
    if not bounds or bounds[-1][1] != len(features):
        raise ComponentError(f"the guest's batch plan does not cover this host's {len(features)} rows")
    channel.send_arrays("weight_count", value=np.array([features.shape[1]]))
    peer_count = int(channel.receive_array("weight_count").reshape(-1)[0])
    with CryptoWorkers(len(features)) as executor:
        party = SecureParty(Keys.exchange(channel, module.settings.key_length), executor, first=False)
        for index in range(classes):
            scope = channel.child(f"c{index}") if module.ovr else channel
            job = training.Job(
                settings=module.settings,
                features=features,
                header=header,
                fit_intercept=False,
                initial=module.starting_weights(index, features.shape[1], False),
                peer_count=peer_count,
                bounds=bounds,
            )
            module.estimators[index] = training.fit(scope, party, job, training.Reporter(ctx))
    return module


def _check_rows(channel: Channel, table: Table) -> None:
    digest = channel.receive_array("rows", "digest")
    if not np.array_equal(digest, ids_digest(table.ids.tolist())):
        raise ComponentError(
            "the host's rows are not the guest's rows in the same order; run psi on both first"
        )


def send_predictions(channel: Channel, module: PartyModule, table: Table) -> None:
    """Send the guest this host's X_h w_h for every row and estimator (FATE's predict)."""
    features, _ = tables.feature_matrix(table, module.header)
    _check_rows(channel, table)
    for index in sorted(module.estimators):
        scope = channel.child(f"c{index}") if module.ovr else channel
        scope.send_arrays("host_forward", value=features @ module.estimators[index].weights)
