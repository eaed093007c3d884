"""validate_data scored tree by tree while training: after every tree the guest walks the validate rows
through that tree alone (each host answers for its own nodes, as in prediction), so the validate scores
grow with the model; after every round it logs ``validation`` (auc for binary, accuracy for multi-class,
mse for regression; step = round, step_axis ``iterations``), and the final scores are the validate rows'
predictions. The hosts learn what they learn in prediction: the validate rows on their own nodes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fate_grpc.components.context import ComponentContext, MetricGroups, Party
from fate_grpc.components.hetero_secureboost import features as feats
from fate_grpc.components.hetero_secureboost.messages import Channel
from fate_grpc.components.hetero_secureboost.model import Forest, GuestModel, SplitValue
from fate_grpc.components.hetero_secureboost.prediction import (
    federated_positions,
    raw_scores,
    serve_predictions,
)
from fate_grpc.components.table import Table
from fate_grpc.ml import evaluation
from fate_grpc.ml.secureboost.objectives import BINARY_BCE, MULTI_CE
from fate_grpc.ml.secureboost.tree import Node, leaf_weight_sums


@dataclass
class GuestValidation:
    """The validate rows' raw scores so far, and their labels (None: no label column, no metrics)."""

    channel: Channel
    hosts: list[Party]
    me: str
    features: np.ndarray
    labels: np.ndarray | None
    scores: np.ndarray

    @classmethod
    def start(
        cls, channel: Channel, hosts: list[Party], model: GuestModel, table: Table, me: str
    ) -> GuestValidation:
        """Scores of the validate rows before the new trees: the warm start model's, or the initial ones."""
        features, _ = feats.feature_matrix(table, model.hyper["feature_names"])
        labels = feats.label_values(table) if table.schema.label_name else None
        if model.forest.trees:
            scores = raw_scores(channel.child("warm_start"), hosts, model, features, me)
        else:
            scores = model.objective.initial_scores(len(features), model.init_score)
        return cls(channel, hosts, me, features, labels, scores)

    def add_tree(
        self, index: int, nodes: list[Node], splits: dict[int, SplitValue], model: GuestModel
    ) -> None:
        """Walk the validate rows through tree ``index`` and add its weights to their scores."""
        forest = Forest([nodes], [splits], [{}])
        positions = federated_positions(
            self.channel.child(f"t{index}"), self.hosts, forest, self.features, self.me
        )
        dim = model.objective.tree_dim
        update = leaf_weight_sums(forest.trees, positions, model.learning_rate, 1)
        if dim > 1:
            self.scores[:, index % dim] += update
        else:
            self.scores = self.scores + update

    def log(self, ctx: ComponentContext, model: GuestModel, step: int, groups: MetricGroups) -> None:
        values = self.metrics(model)
        if values:
            ctx.log_metric(
                "validation", values, type="evaluation", step=step, step_axis="iterations", groups=groups
            )

    def metrics(self, model: GuestModel) -> dict[str, float]:
        if self.labels is None:
            return {}
        predicted = model.objective.predict(self.scores)
        if model.objective.name == BINARY_BCE:
            if self.labels.min() == self.labels.max():
                return {}  # auc is undefined with one class among the validate rows
            return {"auc": evaluation.auc_score(self.labels, predicted)}
        if model.objective.name == MULTI_CE:
            return {"accuracy": float(np.mean(np.argmax(predicted, axis=1) == self.labels))}
        return {"mse": float(np.mean((predicted - self.labels) ** 2))}

    def predicted(self, model: GuestModel) -> np.ndarray:
        return model.objective.predict(self.scores)


def serve_warm_start(channel: Channel, guest: Party, forest: Forest, features: np.ndarray) -> None:
    """The host's part of ``GuestValidation.start`` with a warm start model."""
    serve_predictions(channel.child("warm_start"), guest, forest, features)


def serve_tree(
    channel: Channel,
    guest: Party,
    index: int,
    nodes: list[Node],
    splits: dict[int, SplitValue],
    features: np.ndarray,
) -> None:
    """The host's part of ``GuestValidation.add_tree``."""
    serve_predictions(channel.child(f"t{index}"), guest, Forest([nodes], [splits], [{}]), features)
