"""The arbiter's part of coordinated_lr / coordinated_linr: it holds the Paillier key pair.

It makes a key pair (``he_param.key_length`` bits) per training and sends the public key to the guest and
every host. Per batch it decrypts each party's ``[[gradient]]``, runs the optimizer (``optimizer.method``,
``optimizer_params``, the scheduler's current lr) on the concatenated gradients and returns each party its
own slice of the update; with one host it also decrypts the batch loss. Per epoch it reports the summed
batch losses as ``lr_loss`` / ``linr_loss`` (type loss, step_axis iterations), decides convergence and tells
every party with the epoch's last updates.

What the arbiter learns (as in FATE): each party's plaintext gradient per batch (with the L2 term) and so
every update, the loss per batch (one host), the number of classes, batches and features per party. It
never receives a label, a feature, a residual, a forward result or a weight (although with zero initial
weights and no L1 the sum of updates equals the weights).
"""

from __future__ import annotations

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError, InputModel, Party
from fate_grpc.components.coordinated_lr import timing
from fate_grpc.components.coordinated_lr.channel import Channel, roles
from fate_grpc.components.coordinated_lr.common import (
    LOSS_NAME,
    TRAIN_GROUPS,
    Groups,
    check_loss_available,
    saved_estimators,
    settings_from_meta,
)
from fate_grpc.components.coordinated_lr.settings import train_settings
from fate_grpc.crypto import paillier
from fate_grpc.ml.linear.kernels import Task
from fate_grpc.ml.linear.training import Coordinator, TrainSettings


def train(ctx: ComponentContext, task: Task) -> None:
    timing.reset()
    settings, restored = _settings_and_state(ctx, task)
    coordinators = fit(ctx, Channel(ctx, f"{task}.train"), task, settings, restored, TRAIN_GROUPS)
    ctx.log.info(timing.summary())
    ovr = len(coordinators) > 1 or restored_ovr(ctx)
    estimators = {str(i): c.estimator() for i, c in sorted(coordinators.items())}
    data = {"estimator": estimators if ovr else estimators["0"]}
    meta = {
        "epochs": settings.epochs,
        "ovr": ovr,
        "early_stop": settings.early_stop,
        "tol": settings.tol,
        "batch_size": settings.batch_size,
        "learning_rate_param": settings.learning_rate_param(),
        "optimizer_param": settings.optimizer_param(),
    }
    if task == "linr":
        meta.pop("ovr")
    ctx.write_output_model("output_model", data, meta)


def restored_ovr(ctx: ComponentContext) -> bool:
    if not ctx.input_count("warm_start_model") > 0:
        return False
    meta = ctx.read_input_model("warm_start_model").meta
    return bool(isinstance(meta, dict) and meta.get("ovr"))


def _settings_and_state(ctx: ComponentContext, task: Task) -> tuple[TrainSettings, dict[int, Coordinator]]:
    if not ctx.input_count("warm_start_model") > 0:
        return train_settings(task, ctx.parameters), {}
    model: InputModel = ctx.read_input_model("warm_start_model")
    saved, meta = saved_estimators(model, what="warm_start_model")
    settings = settings_from_meta(task, meta, ctx.parameters, what="warm_start_model")
    restored = {}
    for index, entry in saved.items():
        try:
            restored[index] = Coordinator.restore(settings, entry)
        except (ValueError, KeyError) as exc:
            raise ComponentError(f"warm_start_model: {exc}") from None
    return settings, restored


def fit(
    ctx: ComponentContext,
    channel: Channel,
    task: Task,
    settings: TrainSettings,
    restored: dict[int, Coordinator],
    groups: Groups,
) -> dict[int, Coordinator]:
    """Coordinate one training: key, then per class (one-vs-rest) the batches and epochs."""
    guest, hosts, _ = roles(ctx)
    check_loss_available(settings, len(hosts))
    with timing.measure("encrypt"):  # key generation counts as encryption set-up
        public_key, private_key = paillier.generate_keypair(settings.key_length)
    channel.send_public_key([guest, *hosts], public_key)
    classes, ovr = 1, False
    if task == "lr":
        count, flag = (int(v) for v in channel.receive_array("label_count", guest).reshape(-1)[:2])
        ovr = bool(flag)
        classes = count if ovr else 1
    coordinators: dict[int, Coordinator] = {}
    for index in range(classes):
        scope = channel.child(f"c{index}") if ovr else channel
        coordinator = restored.get(index) or Coordinator(settings)
        class_groups = (*groups, ("class", index)) if ovr else groups
        _coordinate(ctx, scope, coordinator, guest, hosts, private_key, LOSS_NAME[task], class_groups)
        coordinators[index] = coordinator
    return coordinators


def _coordinate(
    ctx: ComponentContext,
    channel: Channel,
    coordinator: Coordinator,
    guest: Party,
    hosts: list[Party],
    private_key: paillier.PrivateKey,
    loss_name: str,
    groups: Groups,
) -> None:
    settings = coordinator.settings
    batches = len(channel.receive_array("plan", guest, "bounds"))
    parties = [guest, *hosts]
    public_key = private_key.public_key
    for epoch in range(settings.epochs):
        coordinator.begin_epoch()
        for number in range(batches):
            scope = channel.child(f"e{epoch}.b{number}")
            gradients = [
                _decrypt(private_key, scope.receive_vector("gradient", p, public_key)) for p in parties
            ]
            if len(hosts) == 1:  # the guest's last value is the batch loss
                coordinator.add_loss(float(gradients[0][-1, 0]))
                gradients[0] = gradients[0][:-1]
            deltas = coordinator.step(gradients)
            # The epoch's verdict travels with its last updates (no extra round trip per epoch).
            last = number == batches - 1
            converged = coordinator.end_epoch_check(epoch) if last else False
            for party, delta in zip(parties, deltas, strict=True):
                scope.send_arrays("delta", party, value=delta.reshape(-1), converged=np.array([converged]))
        if coordinator.epoch_loss is not None:
            step = coordinator.epochs_done + epoch
            ctx.log_metric(
                loss_name,
                [coordinator.epoch_loss],
                type="loss",
                step=step,
                step_axis="iterations",
                groups=groups,
            )
        coordinator.after_epoch(epoch)
        ctx.report_progress(min(95, 5 + 90 * (epoch + 1) // settings.epochs))
        if converged:
            break
    coordinator.finish()


def _decrypt(private_key: paillier.PrivateKey, vector: paillier.EncryptedVector) -> np.ndarray:
    with timing.measure("decrypt"):
        return paillier.decrypt(private_key, vector).reshape(-1, 1)
