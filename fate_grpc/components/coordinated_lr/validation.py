"""Validation after every epoch when the train stage has ``validate_data`` (FATE 2.2 only scores it after
training; FATE 1.x users had ``validation_freqs``): the hosts send the guest their plaintext ``X_h w_h`` on
the validate rows, as they do for predictions, and the guest reports ``validation`` metrics per epoch
(auc for lr, per class when one-vs-rest; mse for linr), step_axis iterations, so the curve is visible while
training. The guest thereby learns each host's X_h w_h on the validate rows once per epoch instead of once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.coordinated_lr import tables
from fate_grpc.components.coordinated_lr.channel import Channel, ids_digest
from fate_grpc.components.coordinated_lr.common import Groups
from fate_grpc.components.table import Table
from fate_grpc.ml import evaluation
from fate_grpc.ml.linear import kernels
from fate_grpc.ml.linear.training import PartyModel

TAG = "validate_forward"


@dataclass(frozen=True)
class GuestValidation:
    """The guest's validate rows: features (as the model reads them) and targets."""

    features: np.ndarray
    targets: np.ndarray

    @classmethod
    def of(cls, table: Table, header: list[str]) -> GuestValidation:
        features, _ = tables.feature_matrix(table, header)
        return cls(features, tables.label_values(table))

    def report(
        self,
        channel: Channel,
        model: PartyModel,
        hosts: list[Party],
        epoch: int,
        positive: int | None,
        groups: Groups,
    ) -> None:
        matrix = (
            np.hstack([self.features, np.ones((len(self.features), 1))])
            if model.fit_intercept
            else self.features
        )
        z = kernels.forward(matrix, model.weights).reshape(-1)
        for host in hosts:
            part = channel.receive_array(f"e{epoch}.{TAG}", host).astype(np.float64).reshape(-1)
            if part.shape != z.shape:
                raise ComponentError(f"{host} sent {part.size} validation values for {z.size} rows")
            z = z + part
        if model.settings.task == "linr":
            values = {"mse": float(np.mean((z - self.targets) ** 2))}
        else:
            truth = (self.targets == (1 if positive is None else positive)).astype(np.float64)
            if truth.min() == truth.max():
                return  # auc is undefined with one class in the validate rows
            values = {"auc": evaluation.auc_score(truth, 1.0 / (1.0 + np.exp(-z)))}
        channel.ctx.log_metric(
            "validation",
            values,
            type="evaluation",
            step=model.epochs_done + epoch,
            step_axis="iterations",
            groups=groups,
        )


def announce(channel: Channel, hosts: list[Party], table: Table | None) -> None:
    """Tell the hosts whether (and on which rows) the guest validates: a digest of the ids, or nothing."""
    digest = ids_digest(table.ids.tolist()) if table is not None else np.zeros(0, dtype=np.uint8)
    channel.send_arrays("validate_rows", hosts, digest=digest)


def host_features(
    channel: Channel, guest: Party, table: Table | None, header: list[str]
) -> np.ndarray | None:
    """The host's validate features if the guest validates on the same rows; None if it does not."""
    digest = channel.receive_array("validate_rows", guest, "digest")
    if digest.size == 0:
        return None
    if table is None:
        raise ComponentError("the guest validates each epoch but this host has no validate_data")
    if not np.array_equal(digest, ids_digest(table.ids.tolist())):
        raise ComponentError("the host's validate_data rows differ from the guest's; run psi on them first")
    return tables.feature_matrix(table, header)[0]


def host_send(channel: Channel, guest: Party, features: np.ndarray, model: PartyModel, epoch: int) -> None:
    channel.send_arrays(f"e{epoch}.{TAG}", guest, value=kernels.forward(features, model.weights).reshape(-1))
