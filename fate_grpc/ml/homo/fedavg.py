"""Federated averaging: the sample-count weights, the weighted average, and the whole schedule in plaintext in
one process (the reference the secure protocol must reproduce up to its fixed-point rounding)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fate_grpc.ml.homo.model import FloatArray, HomoModel
from fate_grpc.ml.homo.training import HomoSettings, LocalTrainer, class_targets


def sample_weights(counts: Sequence[int]) -> FloatArray:
    """Each client's share n_i / sum(n) of the rows (FATE's "weighted_mean" FedAvg)."""
    values = np.asarray(counts, dtype=np.float64)
    if values.size == 0 or np.any(values <= 0):
        raise ValueError("every client needs at least one row")
    return values / values.sum()


def weighted_average(vectors: Sequence[npt.ArrayLike], weights: npt.ArrayLike) -> FloatArray:
    """``sum_i weights[i] * vectors[i]``."""
    stacked = np.vstack([np.asarray(v, dtype=np.float64).reshape(-1) for v in vectors])
    return np.asarray(np.asarray(weights, dtype=np.float64) @ stacked, dtype=np.float64)


@dataclass
class FedAvgRun:
    """The outcome of ``train_fedavg``: each client's trainer (all hold the final average), the average
    loss of each round, and per round what each client brought to it (its parameters, then its loss)."""

    trainers: list[LocalTrainer]
    losses: list[float] = field(default_factory=list)
    client_values: list[list[FloatArray]] = field(default_factory=list)

    @property
    def model(self) -> HomoModel:
        return self.trainers[0].model


def train_fedavg(
    settings: HomoSettings,
    clients: Sequence[tuple[FloatArray, FloatArray]],
    heads: int,
    *,
    initial: Sequence[HomoModel] | None = None,
) -> FedAvgRun:
    """FedAvg as homo_lr runs it: per epoch, every client one local epoch, then the weighted average of the
    parameters replaces each client's, and the weighted average of the local losses is the round's loss.

    Args:
        clients: Each client's features and labels.
        initial: Each client's starting model (default: a new one per client, as each initialises alone).
    """
    starts = (
        list(initial)
        if initial is not None
        else [_new_model(settings, x.shape[1], heads) for x, _ in clients]
    )
    trainers = [LocalTrainer(settings, model) for model in starts]
    weights = sample_weights([len(y) for _, y in clients])
    targets = [class_targets(y, heads) for _, y in clients]
    run = FedAvgRun(trainers)
    for _ in range(settings.epochs):
        losses = [t.epoch(x, y) for t, (x, _), y in zip(trainers, clients, targets, strict=True)]
        run.client_values.append(
            [np.append(t.model.vector(), loss) for t, loss in zip(trainers, losses, strict=True)]
        )
        average = weighted_average([t.model.vector() for t in trainers], weights)
        for trainer in trainers:
            trainer.model.set_vector(average)
        run.losses.append(float(weights @ np.asarray(losses)))
    return run


def _new_model(settings: HomoSettings, features: int, heads: int) -> HomoModel:
    return HomoModel.initial(
        features,
        heads,
        method=settings.init_method,
        fill_val=settings.fill_val,
        fit_intercept=settings.fit_intercept,
        random_state=settings.random_state,
    )
