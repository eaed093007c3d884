"""The guest's part of coordinated_lr / coordinated_linr (it holds the labels and some features).

Per batch the guest receives each host's ``[[f * X_h w_h]]`` (f = 1/4 for lr, 1 for linr) and

* with one host: sends the host ``[[half_d]]``, ``half_d = f * X_g w_g - y/2`` (lr) or ``X_g w_g - y``
  (linr), a fresh encryption; its gradient is ``X_g^T half_d / n`` (plaintext) plus
  ``[[X_g^T (f X_h w_h) / n]]``; it assembles the encrypted Taylor loss from its plaintext part and the
  host's ``[[f X_h w_h]]``, ``[[sum (f X_h w_h)^2]]`` and ``[[penalty]]``, and sends it to the arbiter
  after its gradient values (one message);
* with several hosts: sends every host ``[[d]] = half_d + sum_h [[f X_h w_h]]`` (re-randomised); its gradient
  is ``[[X_g^T d / n]]``; no loss is computed (as FATE).

It adds its L2 term, sends ``[[gradient]]`` to the arbiter and applies the update the arbiter returns.
What the guest learns: its own data, weights and updates, the number of hosts and whether training
converged (never the loss, which only the arbiter decrypts); from hosts only
ciphertexts under the arbiter's key during training. Predicting (after training, in the predict stage, and
with validate_data after every epoch on the validate rows) it receives each host's plaintext ``X_h w_h``
per row, as in FATE's predict.
"""

from __future__ import annotations

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError, InputModel, Party
from fate_grpc.components.coordinated_lr import tables, timing, validation
from fate_grpc.components.coordinated_lr.channel import Channel, guest_and_hosts, ids_digest, roles
from fate_grpc.components.coordinated_lr.common import (
    TRAIN_GROUPS,
    VALUE_PRECISION_BITS,
    Groups,
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
from fate_grpc.ml.linear.kernels import Task
from fate_grpc.ml.linear.training import PartyModel


def train(ctx: ComponentContext, task: Task) -> None:
    timing.reset()
    table = ctx.read_input_table("train_data")
    validate = ctx.read_input_table("validate_data") if ctx.has_input("validate_data") else None
    module = fit(ctx, Channel(ctx, f"{task}.train"), task, table, validate)
    ctx.log.info(timing.summary())
    ctx.write_output_model("output_model", *document(module))
    ctx.report_progress(90)
    parts = [predict_rows(Channel(ctx, f"{task}.predict_train"), module, table, tables.TRAIN_SET)]
    if validate is not None:
        parts.append(
            predict_rows(Channel(ctx, f"{task}.predict_validate"), module, validate, tables.VALIDATE_SET)
        )
    ctx.write_output_table("train_output_data", tables.stacked(parts))


def predict(ctx: ComponentContext, task: Task) -> None:
    table = ctx.read_input_table("test_data")
    module = load(task, ctx.read_input_model("input_model"), None, what="input_model")
    result = predict_rows(Channel(ctx, f"{task}.predict_test"), module, table, tables.TEST_SET)
    ctx.write_output_table("test_output_data", result)


def document(module: PartyModule) -> tuple[dict[str, object], dict[str, object]]:
    meta = model_meta(module.settings)
    if module.task == "lr":
        meta.update(labels=module.labels, ovr=module.ovr, threshold=module.settings.threshold)
    meta["floating_point_precision"] = module.settings.floating_point_precision
    return {"estimator": estimators_document(module, guest=True)}, meta


def load(task: Task, model: InputModel, current: dict[str, object] | None, *, what: str) -> PartyModule:
    saved, meta = saved_estimators(model, what=what)
    settings = settings_from_meta(task, meta, current, what=what)
    try:
        labels = [int(v) for v in meta.get("labels") or []]
    except (TypeError, ValueError):
        raise ComponentError(f"{what}: meta.labels must be integer class labels") from None
    if task == "lr" and len(labels) < 2:
        raise ComponentError(f"{what} is not a coordinated_lr model (its meta has no class labels)")
    module = PartyModule(task, settings, ovr=bool(meta.get("ovr")), labels=labels)
    for index, entry in saved.items():
        fit_intercept = bool(entry.get("fit_intercept", settings.fit_intercept))
        module.estimators[index] = restore_party(settings, entry, fit_intercept=fit_intercept, what=what)
    return module


def fit(
    ctx: ComponentContext, channel: Channel, task: Task, table: Table, validate: Table | None = None
) -> PartyModule:
    """Train (or continue training) at the guest; the hosts and the arbiter run their parts. With
    ``validate``, the validate rows are scored after every epoch (``validation`` metrics)."""
    _, hosts, arbiter = roles(ctx)
    if ctx.input_count("warm_start_model") > 0:
        module = load(task, ctx.read_input_model("warm_start_model"), ctx.parameters, what="warm_start_model")
    else:
        module = PartyModule(task, train_settings(task, ctx.parameters))
    check_loss_available(module.settings, len(hosts))
    header = module.estimators[0].header if module.estimators else None
    features, header = tables.feature_matrix(table, header)
    targets = tables.label_values(table)
    channel.send_arrays("rows", hosts, digest=ids_digest(table.ids.tolist()))
    validation.announce(channel, hosts, validate)
    checker = validation.GuestValidation.of(validate, header) if validate is not None else None
    classes = _classes(channel, module, targets, hosts, arbiter)
    batch_rows = min(len(targets), module.settings.batch_size or len(targets))
    per_batch = batch_rows * (1 if len(hosts) == 1 else 2) + 1
    with (
        ObfuscatorWorker(batch_rows, enabled=batch_rows < PARALLEL_MIN_ROWS) as worker,
        CryptoWorkers(batch_rows) as executor,
    ):
        public_key = channel.receive_public_key(arbiter)
        encryptor = Encryptor(public_key, worker.prefetch(public_key, per_batch), executor)
        for index, positive in enumerate(classes):
            scope = channel.child(f"c{index}") if module.ovr else channel
            model = module.estimators.get(index) or PartyModel.new(
                module.settings, header, with_intercept=module.settings.fit_intercept
            )
            y = _training_targets(task, targets, positive)
            groups = (*TRAIN_GROUPS, ("class", index)) if module.ovr else TRAIN_GROUPS
            check = None if checker is None else (checker, positive, groups)
            _fit_one(scope, model, features, y, hosts, arbiter, encryptor, check)
            module.estimators[index] = model
    return module


def _classes(
    channel: Channel, module: PartyModule, targets: np.ndarray, hosts: list[Party], arbiter: Party
) -> list[int | None]:
    """lr: tell the arbiter and hosts the label count; the positive label of each estimator (one-vs-rest
    when more than two labels, as FATE). linr: one estimator."""
    if module.task == "linr":
        return [None]
    labels = sorted({int(v) for v in targets.tolist()})
    if any(float(v) != int(v) for v in targets.tolist()):
        raise ComponentError("coordinated_lr needs integer class labels")
    if len(labels) < 2:
        raise ComponentError(f"coordinated_lr needs at least two classes in the labels; found {labels}")
    if module.labels and module.labels != labels:
        raise ComponentError(
            f"the warm start model was trained on labels {module.labels}, the data has {labels}"
        )
    module.labels = labels
    module.ovr = module.ovr or len(labels) > 2
    channel.send_arrays("label_count", [arbiter, *hosts], value=np.array([len(labels), module.ovr]))
    return list[int | None](labels) if module.ovr else [None]


def _training_targets(task: Task, targets: np.ndarray, positive: int | None) -> np.ndarray:
    if task == "linr":
        return targets.reshape(-1, 1)
    if positive is None:
        return kernels.signed_labels(targets)
    return np.where(targets == positive, 1.0, -1.0).reshape(-1, 1)


def _fit_one(
    channel: Channel,
    model: PartyModel,
    features: np.ndarray,
    y: np.ndarray,
    hosts: list[Party],
    arbiter: Party,
    encryptor: Encryptor,
    check: tuple[validation.GuestValidation, int | None, Groups] | None,
) -> None:
    settings = model.settings
    matrix = np.hstack([features, np.ones((len(features), 1))]) if model.fit_intercept else features
    bounds = kernels.batch_bounds(len(y), settings.batch_size)
    channel.send_arrays("plan", [arbiter, *hosts], bounds=np.asarray(bounds, dtype=np.int64))
    for epoch in range(settings.epochs):
        for number, (start, stop) in enumerate(bounds):
            batch = _Batch(channel.child(f"e{epoch}.b{number}"), matrix[start:stop], y[start:stop], encryptor)
            gradient = batch.gradient(model, hosts)
            if len(hosts) == 1:  # the batch loss travels with the gradient, as its last value
                gradient = paillier.EncryptedVector.concat([gradient, batch.loss(model)])
            batch.channel.send_vector("gradient", arbiter, gradient)
            converged = apply_update(batch.channel, model, arbiter, epoch)
        if check is not None:
            checker, positive, groups = check
            checker.report(channel, model, hosts, epoch, positive, groups)
        model.after_epoch(epoch, converged)
        channel.ctx.report_progress(min(85, 5 + 80 * (epoch + 1) // settings.epochs))
        if converged:
            break
    model.finish()


class _Batch:
    """One batch of the guest: residual, gradient and (one host) loss."""

    def __init__(self, channel: Channel, matrix: np.ndarray, y: np.ndarray, encryptor: Encryptor) -> None:
        self.channel, self.matrix, self.y, self.encryptor = channel, matrix, y, encryptor
        self.rows = len(y)
        self.own = np.zeros((self.rows, 1))
        self.host_forward: paillier.EncryptedVector | None = None
        self.host_terms: paillier.EncryptedVector | None = None

    def gradient(self, model: PartyModel, hosts: list[Party]) -> paillier.EncryptedVector:
        task, public_key = model.settings.task, self.encryptor.public_key
        own = self.own = kernels.forward(self.matrix, model.weights)
        half = kernels.label_residual(task, own, self.y)
        # Encrypt before waiting for the hosts: their encryption runs at the same time.
        encrypted_half = self.encryptor.encrypt(half, VALUE_PRECISION_BITS)
        if len(hosts) == 1:
            self.channel.send_vector("residual", hosts[0], encrypted_half)
        if len(hosts) == 1:  # the host's loss terms follow its forward values
            received = self.channel.receive_vector("forward", hosts[0], public_key, self.rows + 2)
            self.host_terms = received.take([self.rows, self.rows + 1])
            forwards = [received.take(range(self.rows))]
        else:
            forwards = [self.channel.receive_vector("forward", h, public_key, self.rows) for h in hosts]
        precision = matrix_precision(model.settings, self.rows)
        scaled = self.matrix / self.rows
        executor = self.encryptor.executor
        if len(hosts) == 1:
            self.host_forward = forwards[0]
            with timing.measure("homomorphic"):
                cross = transpose_matvec(scaled, forwards[0], precision_bits=precision, executor=executor)
                plain = model.penalised(kernels.gradient_sum(scaled, half))
                return cross.add(plain.reshape(-1))
        with timing.measure("homomorphic"):
            residual = encrypted_half
            for forward in forwards:
                residual = residual + forward
        residual = self.encryptor.rerandomize(residual)
        for host in hosts:
            self.channel.send_vector("residual", host, residual)
        with timing.measure("homomorphic"):
            gradient = transpose_matvec(scaled, residual, precision_bits=precision, executor=executor)
            return gradient.add(model.penalised(np.zeros_like(model.weights)).reshape(-1))

    def loss(self, model: PartyModel) -> paillier.EncryptedVector:
        """[[batch loss]] = plaintext part + cross term with the host's forward + the host's square sum and
        penalty (FATE's Taylor loss; for linr the cross term 2 (Xw_g - y) X_h w_h is included)."""
        task, rows = model.settings.task, self.rows
        own, host_forward, host_terms = self.own, self.host_forward, self.host_terms
        plain = kernels.loss_sum(task, own, self.y) / rows + model.penalty_loss()
        if task == "lr":
            cross_weights, square_factor = (own - 2.0 * self.y) / rows, 2.0 / rows
        else:
            cross_weights, square_factor = kernels.label_residual(task, own, self.y) / rows, 0.5 / rows
        assert host_forward is not None and host_terms is not None, "loss follows gradient"
        with timing.measure("homomorphic"):
            precision = matrix_precision(model.settings, rows)
            cross = transpose_matvec(cross_weights, host_forward, precision_bits=precision)
            loss = (cross + host_terms.take([0]) * square_factor + host_terms.take([1])).add(
                np.array([plain])
            )
        return self.encryptor.rerandomize(loss)


def predict_rows(channel: Channel, module: PartyModule, table: Table, kind: str) -> Table:
    """Scores of every row (hosts send their plaintext X_h w_h, as in FATE's predict) as FATE's table."""
    _, hosts = guest_and_hosts(channel.ctx)
    header = module.estimators[0].header
    features, _ = tables.feature_matrix(table, header)
    channel.send_arrays("rows", hosts, digest=ids_digest(table.ids.tolist()))
    columns = []
    for index in sorted(module.estimators):
        model = module.estimators[index]
        scope = channel.child(f"c{index}") if module.ovr else channel
        matrix = np.hstack([features, np.ones((len(features), 1))]) if model.fit_intercept else features
        z = kernels.forward(matrix, model.weights).reshape(-1)
        for host in hosts:
            part = scope.receive_array("host_forward", host).astype(np.float64).reshape(-1)
            if part.shape != z.shape:
                raise ComponentError(f"{host} sent {part.size} predictions for {z.size} rows")
            z = z + part
        columns.append(z)
    scores = np.column_stack(columns)
    if module.task == "linr":
        return tables.regression_predictions(table, scores[:, 0], kind)
    probabilities = 1.0 / (1.0 + np.exp(-scores))
    if module.ovr:
        return tables.multi_predictions(table, probabilities, module.labels, kind)
    return tables.binary_predictions(
        table, probabilities[:, 0], module.labels, module.settings.threshold, kind
    )
