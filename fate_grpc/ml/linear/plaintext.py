"""Coordinated linear training on joined plaintext data in one process: the reference the federated
protocol must match (same batches, Taylor loss, penalties, optimizer, schedule and early stop, no encryption).

The columns stay split into the parties' blocks (guest first, with its intercept column last; then each host)
so that the per-party rules (the intercept is not penalised, L1 soft-thresholding per party) apply as in
the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fate_grpc.ml.linear import kernels
from fate_grpc.ml.linear.model import FloatArray
from fate_grpc.ml.linear.training import Coordinator, PartyModel, TrainSettings


@dataclass
class PlaintextRun:
    """The result of ``train_plaintext``: the party models, the arbiter state and the loss per epoch."""

    parties: list[PartyModel]
    coordinator: Coordinator
    losses: list[float] = field(default_factory=list)


def train_plaintext(
    settings: TrainSettings,
    blocks: list[FloatArray],
    labels: FloatArray,
    *,
    start: PlaintextRun | None = None,
    compute_loss: bool = True,
) -> PlaintextRun:
    """Train on ``blocks`` (guest features first, without the intercept column; then each host's).

    Args:
        labels: 0/1 labels (lr) or targets (linr), one per row.
        start: A previous run to continue (warm start).
        compute_loss: False reproduces the multi-host protocol, which computes no loss.
    """
    run = start or PlaintextRun(
        parties=[
            PartyModel.new(
                settings,
                [f"x{j}" for j in range(b.shape[1])],
                with_intercept=i == 0 and settings.fit_intercept,
            )
            for i, b in enumerate(blocks)
        ],
        coordinator=Coordinator(settings),
    )
    for party in run.parties:
        party.settings = settings
    run.coordinator.settings = settings
    matrices = [_with_intercept(b, p.fit_intercept) for b, p in zip(blocks, run.parties, strict=True)]
    y = kernels.signed_labels(labels) if settings.task == "lr" else np.asarray(labels, float).reshape(-1, 1)
    bounds = kernels.batch_bounds(len(y), settings.batch_size)
    for epoch in range(settings.epochs):
        run.coordinator.begin_epoch()
        for a, b in bounds:
            _train_batch(settings, run, [m[a:b] for m in matrices], y[a:b], epoch, compute_loss)
        converged = run.coordinator.end_epoch_check(epoch)
        if run.coordinator.epoch_loss is not None:
            run.losses.append(run.coordinator.epoch_loss)
        run.coordinator.after_epoch(epoch)
        for party in run.parties:
            party.after_epoch(epoch, converged)
        if converged:
            break
    run.coordinator.finish()
    for party in run.parties:
        party.finish()
    return run


def _train_batch(
    settings: TrainSettings,
    run: PlaintextRun,
    matrices: list[FloatArray],
    y: FloatArray,
    epoch: int,
    compute_loss: bool,
) -> None:
    rows = len(y)
    z = sum(
        (kernels.forward(m, p.weights) for m, p in zip(matrices, run.parties, strict=True)),
        np.zeros((rows, 1)),
    )
    d = kernels.residual(settings.task, z, y)
    gradients = [
        p.penalised(kernels.gradient_sum(m, d) / rows) for m, p in zip(matrices, run.parties, strict=True)
    ]
    if compute_loss:
        loss = kernels.loss_sum(settings.task, z, y) / rows + sum(p.penalty_loss() for p in run.parties)
        run.coordinator.add_loss(loss)
    deltas = run.coordinator.step(gradients)
    for party, delta in zip(run.parties, deltas, strict=True):
        party.apply(delta, epoch)


def _with_intercept(block: FloatArray, fit_intercept: bool) -> FloatArray:
    return np.hstack([block, np.ones((len(block), 1))]) if fit_intercept else block


def predict_plaintext(run: PlaintextRun, blocks: list[FloatArray], task: kernels.Task) -> FloatArray:
    """Scores of the trained model: sigmoid(z) for lr, z for linr."""
    z = sum(
        (
            kernels.forward(_with_intercept(b, p.fit_intercept), p.weights)
            for b, p in zip(blocks, run.parties, strict=True)
        ),
        np.zeros((len(blocks[0]), 1)),
    )
    scores: FloatArray = 1.0 / (1.0 + np.exp(-z)) if task == "lr" else z
    return scores.reshape(-1)
