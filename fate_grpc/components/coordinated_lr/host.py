"""A host's part of coordinated_lr / coordinated_linr (features only, no labels).

Per batch the host sends the guest ``[[f * X_h w_h]]`` (f = 1/4 for lr, 1 for linr; fresh encryptions under
the arbiter's key), receives ``[[half_d]]`` (one host) or ``[[d]]`` (several hosts) and computes its
encrypted gradient ``[[X_h^T d / n]]`` (+ its L2 term), which goes to the arbiter; with one host it also
sends the guest ``[[sum (f X_h w_h)^2]]`` and ``[[its penalty]]`` for the loss (appended to the forward
message). It applies the update the
arbiter returns.

What a host learns: its own data, weights and updates; the number of classes (lr), the batch plan, whether
training converged; everything else it receives is a ciphertext under the arbiter's key, which it does not
hold. It never sees a label, a residual, a guest feature or weight, or another host's anything. Predicting
(and, when the task has validate_data, after every epoch on the validate rows) it sends its plaintext
``X_h w_h`` to the guest, as in FATE's predict.
"""

from __future__ import annotations

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError, InputModel, Party
from fate_grpc.components.coordinated_lr import tables, timing, validation
from fate_grpc.components.coordinated_lr.channel import Channel, guest_and_hosts, ids_digest, roles
from fate_grpc.components.coordinated_lr.common import (
    VALUE_PRECISION_BITS,
    PartyModule,
    apply_update,
    check_loss_available,
    estimators_document,
    matrix_precision,
    model_meta,
    restore_party,
    saved_estimators,
    settings_from_meta,
)
from fate_grpc.components.coordinated_lr.obfuscators import Encryptor, ObfuscatorWorker
from fate_grpc.components.coordinated_lr.settings import train_settings
from fate_grpc.components.model_common.crypto_workers import PARALLEL_MIN_ROWS, CryptoWorkers
from fate_grpc.components.table import Table
from fate_grpc.crypto import paillier
from fate_grpc.crypto.paillier_linalg import transpose_matvec
from fate_grpc.ml.linear import kernels
from fate_grpc.ml.linear.training import PartyModel


def train(ctx: ComponentContext, task: kernels.Task) -> None:
    timing.reset()
    table = ctx.read_input_table("train_data")
    validate = ctx.read_input_table("validate_data") if ctx.has_input("validate_data") else None
    module = fit(ctx, Channel(ctx, f"{task}.train"), task, table, validate)
    ctx.log.info(timing.summary())
    ctx.write_output_model("output_model", *document(module))
    ctx.report_progress(90)
    send_predictions(Channel(ctx, f"{task}.predict_train"), module, table)
    parts = [tables.host_rows(table, tables.TRAIN_SET)]
    if validate is not None:
        send_predictions(Channel(ctx, f"{task}.predict_validate"), module, validate)
        parts.append(tables.host_rows(validate, tables.VALIDATE_SET))
    ctx.write_output_table("train_output_data", tables.stacked(parts))


def predict(ctx: ComponentContext, task: kernels.Task) -> None:
    table = ctx.read_input_table("test_data")
    module = load(task, ctx.read_input_model("input_model"), None, what="input_model")
    send_predictions(Channel(ctx, f"{task}.predict_test"), module, table)
    ctx.write_output_table("test_output_data", tables.host_rows(table, tables.TEST_SET))


def document(module: PartyModule) -> tuple[dict[str, object], dict[str, object]]:
    meta = model_meta(module.settings)
    if module.task == "lr":
        meta.update(label_count=module.label_count, ovr=module.ovr)
    meta["floating_point_precision"] = module.settings.floating_point_precision
    return {"estimator": estimators_document(module, guest=False)}, meta


def load(
    task: kernels.Task, model: InputModel, current: dict[str, object] | None, *, what: str
) -> PartyModule:
    saved, meta = saved_estimators(model, what=what)
    settings = settings_from_meta(task, meta, current, what=what)
    count = meta.get("label_count")
    module = PartyModule(
        task, settings, ovr=bool(meta.get("ovr")), label_count=None if count is None else int(count)
    )
    for index, entry in saved.items():
        module.estimators[index] = restore_party(settings, entry, fit_intercept=False, what=what)
    return module


def fit(
    ctx: ComponentContext, channel: Channel, task: kernels.Task, table: Table, validate: Table | None = None
) -> PartyModule:
    guest, hosts, arbiter = roles(ctx)
    if ctx.input_count("warm_start_model") > 0:
        module = load(task, ctx.read_input_model("warm_start_model"), ctx.parameters, what="warm_start_model")
    else:
        module = PartyModule(task, train_settings(task, ctx.parameters))
    check_loss_available(module.settings, len(hosts))
    header = module.estimators[0].header if module.estimators else None
    features, header = tables.feature_matrix(table, header)
    _check_rows(channel, guest, table)
    validate_features = validation.host_features(channel, guest, validate, header)
    classes = 1
    if task == "lr":
        count, ovr = (int(v) for v in channel.receive_array("label_count", guest).reshape(-1)[:2])
        module.label_count, module.ovr = count, bool(ovr)
        classes = count if module.ovr else 1
    batch_rows = min(len(features), module.settings.batch_size or len(features))
    with (
        ObfuscatorWorker(batch_rows, enabled=batch_rows < PARALLEL_MIN_ROWS) as worker,
        CryptoWorkers(batch_rows) as executor,
    ):
        public_key = channel.receive_public_key(arbiter)
        encryptor = Encryptor(public_key, worker.prefetch(public_key, batch_rows + 2), executor)
        for index in range(classes):
            scope = channel.child(f"c{index}") if module.ovr else channel
            model = module.estimators.get(index) or PartyModel.new(
                module.settings, header, with_intercept=False
            )
            _fit_one(scope, model, features, guest, arbiter, len(hosts), encryptor, validate_features)
            module.estimators[index] = model
    return module


def _check_rows(channel: Channel, guest: Party, table: Table) -> None:
    digest = channel.receive_array("rows", guest, "digest")
    if not np.array_equal(digest, ids_digest(table.ids.tolist())):
        raise ComponentError(
            "the host's rows are not the guest's rows in the same order; run psi on both first"
        )


def _fit_one(
    channel: Channel,
    model: PartyModel,
    features: np.ndarray,
    guest: Party,
    arbiter: Party,
    host_count: int,
    encryptor: Encryptor,
    validate_features: np.ndarray | None,
) -> None:
    settings = model.settings
    bounds = [(int(a), int(b)) for a, b in channel.receive_array("plan", guest, "bounds").tolist()]
    if not bounds or bounds[-1][1] != len(features):
        raise ComponentError(f"the guest's batch plan does not cover this host's {len(features)} rows")
    for epoch in range(settings.epochs):
        for number, (start, stop) in enumerate(bounds):
            scope = channel.child(f"e{epoch}.b{number}")
            gradient = _batch_gradient(scope, model, features[start:stop], guest, host_count, encryptor)
            scope.send_vector("gradient", arbiter, gradient)
            converged = apply_update(scope, model, arbiter, epoch)
        if validate_features is not None:
            validation.host_send(channel, guest, validate_features, model, epoch)
        model.after_epoch(epoch, converged)
        channel.ctx.report_progress(min(85, 5 + 80 * (epoch + 1) // settings.epochs))
        if converged:
            break
    model.finish()


def _batch_gradient(
    scope: Channel, model: PartyModel, matrix: np.ndarray, guest: Party, host_count: int, encryptor: Encryptor
) -> paillier.EncryptedVector:
    task, rows, public_key = model.settings.task, len(matrix), encryptor.public_key
    forward = kernels.FORWARD_FACTOR[task] * kernels.forward(matrix, model.weights)
    values = forward.reshape(-1)
    if host_count == 1:
        # The loss terms depend only on this forward and the weights: they travel in the same message.
        squares = float((forward.T @ forward).item())
        values = np.concatenate([values, [squares, model.penalty_loss()]])
    scope.send_vector("forward", guest, encryptor.encrypt(values, VALUE_PRECISION_BITS))
    residual = scope.receive_vector("residual", guest, public_key, rows)
    scaled = matrix / rows
    precision = matrix_precision(model.settings, rows)
    with timing.measure("homomorphic"):
        gradient = transpose_matvec(scaled, residual, precision_bits=precision, executor=encryptor.executor)
        if host_count == 1:
            own_part = kernels.gradient_sum(scaled, forward)  # the host's own f X_h w_h completes d
            return gradient.add(model.penalised(own_part).reshape(-1))
        return gradient.add(model.penalised(np.zeros_like(model.weights)).reshape(-1))


def send_predictions(channel: Channel, module: PartyModule, table: Table) -> None:
    """Send the guest this host's X_h w_h for every row and estimator (FATE's predict)."""
    guest, _ = guest_and_hosts(channel.ctx)
    features, _ = tables.feature_matrix(table, module.estimators[0].header)
    _check_rows(channel, guest, table)
    for index in sorted(module.estimators):
        scope = channel.child(f"c{index}") if module.ovr else channel
        scope.send_arrays(
            "host_forward",
            guest,
            value=kernels.forward(features, module.estimators[index].weights).reshape(-1),
        )
