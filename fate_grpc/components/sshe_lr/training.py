"""One SSHE estimator's training loop, the same at the guest and the host: batches, reveal schedule,
early stopping, and the weights opened to their owners at the end (``secure`` has the steps)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fate_grpc.components.context import ComponentContext, ComponentError, MetricGroups
from fate_grpc.components.sshe_lr.channel import Channel
from fate_grpc.components.sshe_lr.secure import Gradient, SecureParty, SharedWeights
from fate_grpc.components.sshe_lr.settings import Settings
from fate_grpc.ml.linear.model import Convergence
from fate_grpc.ml.sshe import ring

LOSS_NAME = {"lr": "lr_loss", "linr": "linr_loss"}
LOG_2 = math.log(2.0)


@dataclass(frozen=True)
class Estimator:
    """A party's plaintext result: its own weights (the guest's intercept last)."""

    weights: npt.NDArray[np.float64]
    header: list[str]
    fit_intercept: bool
    end_epoch: int
    is_converged: bool


@dataclass(frozen=True)
class Job:
    """What one estimator's training needs at this party."""

    settings: Settings
    features: npt.NDArray[np.float64]
    header: list[str]
    fit_intercept: bool  # this party's (always false at the host)
    initial: npt.NDArray[np.float64]
    peer_count: int  # the peer's number of weights
    bounds: Sequence[tuple[int, int]]
    targets: npt.NDArray[np.float64] | None = None  # the guest's 0/1 or real targets
    groups: MetricGroups = (("default", None), ("train", None))


def design_matrix(features: npt.NDArray[np.float64], fit_intercept: bool) -> npt.NDArray[np.int64]:
    """Encoded features (with a column of ones for the intercept), as the products use them."""
    matrix = np.hstack([features, np.ones((len(features), 1))]) if fit_intercept else features
    try:
        return ring.encode_integers(matrix)
    except ValueError as exc:
        raise ComponentError(
            f"sshe: feature values cannot be encoded ({exc}); scale the features first"
        ) from None


def fit(channel: Channel, party: SecureParty, job: Job, report: Reporter) -> Estimator:
    """Train one estimator together with the peer; returns this party's opened weights."""
    settings, guest = job.settings, party.first
    matrix = design_matrix(job.features, job.fit_intercept)
    weights = party.share_weights(channel.child("init"), job.initial, job.peer_count)
    previous = (
        party.open_to_owners(channel.child("open_init"), weights)
        if settings.early_stop == "weight_diff"
        else None
    )
    convergence = Convergence(settings.early_stop, settings.tol)
    rows = len(job.features)
    converged, end_epoch = False, settings.epochs
    for epoch in range(settings.epochs):
        reveal = epoch % settings.reveal_loss_freq == 0
        loss_sum = 0.0
        for number, (start, stop) in enumerate(job.bounds):
            scope = channel.child(f"e{epoch}.b{number}")
            targets = None if job.targets is None else job.targets[start:stop]
            loss_sum += _batch(
                scope, party, settings, matrix[start:stop], targets, weights, job.peer_count, reveal
            )
        if guest and reveal:  # the loss is logged on loss epochs whatever the early stop rule (as FATE)
            loss = loss_sum / rows
            report.loss(settings.task, loss, epoch, job.groups)
            if settings.early_stop != "weight_diff":
                converged = convergence.is_converged(loss=loss, update=np.zeros(1))
        if settings.early_stop == "weight_diff":
            assert previous is not None
            previous, converged = _weight_diff(
                channel.child(f"e{epoch}.open"), party, weights, previous, settings.tol
            )
        converged = _agree(channel.child(f"e{epoch}"), guest, converged)
        report.progress(epoch, settings.epochs)
        if converged:
            end_epoch = epoch
            break
    final = party.open_to_owners(channel.child("final"), weights)
    return Estimator(final, list(job.header), job.fit_intercept, end_epoch, converged)


def _batch(
    scope: Channel,
    party: SecureParty,
    settings: Settings,
    matrix: npt.NDArray[np.int64],
    targets: npt.NDArray[np.float64] | None,
    weights: SharedWeights,
    peer_count: int,
    reveal: bool,
) -> float:
    """One batch; the guest returns the batch's loss times its rows on loss epochs (0 otherwise)."""
    rows = matrix.shape[0]
    forward = party.forward(scope, matrix, weights)
    dz = residual(settings.task, forward, targets, first=party.first)
    gradient: Gradient = party.gradient(scope, matrix, dz, peer_count)
    loss = 0.0
    if reveal:
        # The party with fewer columns computes the loss's cross term (the host when they tie).
        columns = matrix.shape[1]
        computes = columns < peer_count or (columns == peer_count and not party.first)
        squares = party.square_sum(scope, dz, gradient, computes_cross=computes)
        if squares is not None:
            mean = squares / rows
            loss = (2.0 * mean - 0.5 + LOG_2 if settings.task == "lr" else mean) * rows
    party.update(weights, gradient, settings.learning_rate / rows)
    return loss


def residual(
    task: str, forward: ring.Shares, targets: npt.NDArray[np.float64] | None, *, first: bool
) -> ring.Shares:
    """This party's share of dz: ``s/4 + 1/2 - y`` (lr) or ``s - y`` (linr); constants at the guest."""
    share = ring.multiply_public(forward, 0.25, first=first) if task == "lr" else forward
    if targets is None:
        return share
    constant = (0.5 - targets) if task == "lr" else -targets
    return ring.add(share, ring.encode(constant.reshape(-1)))


def _weight_diff(
    channel: Channel,
    party: SecureParty,
    weights: SharedWeights,
    previous: npt.NDArray[np.float64],
    tol: float,
) -> tuple[npt.NDArray[np.float64], bool]:
    """Weights opened to their owners; the host sends the norm of its change, the guest decides."""
    current = party.open_to_owners(channel, weights)
    change = float(np.linalg.norm(current - previous))
    if not party.first:
        channel.send_arrays("weight_change", value=np.array([change]))
        return current, False
    host_change = float(channel.receive_array("weight_change").reshape(-1)[0])
    return current, change + host_change < tol


def _agree(channel: Channel, guest: bool, converged: bool) -> bool:
    """The guest's convergence decision, sent to the host every epoch."""
    if guest:
        channel.send_arrays("converge_flag", value=np.array([converged]))
        return converged
    return bool(channel.receive_array("converge_flag").reshape(-1)[0])


class Reporter:
    """Metrics and progress of a training (the guest logs the loss)."""

    def __init__(self, ctx: ComponentContext, *, progress_span: tuple[int, int] = (5, 85)) -> None:
        self.ctx = ctx
        self.span = progress_span

    def loss(self, task: str, value: float, epoch: int, groups: MetricGroups) -> None:
        self.ctx.log_metric(
            LOSS_NAME[task], [value], type="loss", step=epoch, step_axis="iterations", groups=groups
        )

    def progress(self, epoch: int, epochs: int) -> None:
        low, high = self.span
        self.ctx.report_progress(min(high, low + (high - low) * (epoch + 1) // epochs))
