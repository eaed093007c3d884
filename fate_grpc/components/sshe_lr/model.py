"""A party's SSHE model and FATE 2.2's model document (``output_model``) for it, both ways.

``{"data": {"estimator": E | {"0": E, ...}}, "meta": {...}}`` with
``E = {"param": {"coef_": [[w1], ...], "intercept_": [b] | null, "dtype": "float32"}, "end_epoch",
"is_converged", "fit_intercept", "header", "lr"}`` (keyed by class index when one-vs-rest); meta holds the
settings and, for lr, ``labels`` (the guest's sorted labels; null at the host), ``label_count``, ``ovr`` and
``threshold``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from fate_grpc.components.context import ComponentError, InputModel
from fate_grpc.components.sshe_lr.settings import Settings, warm_settings
from fate_grpc.components.sshe_lr.training import Estimator
from fate_grpc.ml.linear.kernels import Task
from fate_grpc.ml.linear.model import initial_weights


@dataclass
class PartyModule:
    """A party's trained estimators: one, or one per class (one-vs-rest)."""

    task: Task
    settings: Settings
    estimators: dict[int, Estimator] = field(default_factory=dict)
    ovr: bool = False
    labels: list[int] | None = None
    label_count: int | None = None

    @property
    def header(self) -> list[str] | None:
        return self.estimators[0].header if self.estimators else None

    def starting_weights(
        self, index: int, feature_count: int, fit_intercept: bool
    ) -> npt.NDArray[np.float64]:
        """Where estimator `index` starts: its warm-start weights, else `init_param`'s."""
        previous = self.estimators.get(index)
        if previous is not None:
            weights = previous.weights
        else:
            init = {**self.settings.init_param, "fit_intercept": fit_intercept}
            weights = initial_weights(feature_count, init)
        return np.asarray(weights, dtype=np.float64).reshape(-1)


def document(module: PartyModule) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data, meta) of FATE's model document."""
    estimators = {str(i): _estimator(module, e) for i, e in sorted(module.estimators.items())}
    meta = module.settings.meta()
    if module.task == "lr":
        meta.update(
            labels=module.labels,
            label_count=module.label_count,
            ovr=module.ovr,
            threshold=module.settings.threshold,
        )
    return {"estimator": estimators if module.ovr else estimators["0"]}, meta


def _estimator(module: PartyModule, estimator: Estimator) -> dict[str, Any]:
    values = [float(v) for v in estimator.weights.reshape(-1)]
    coefficients = values[:-1] if estimator.fit_intercept else values
    return {
        "param": {
            "coef_": [[v] for v in coefficients],
            "intercept_": [values[-1]] if estimator.fit_intercept else None,
            "dtype": "float32",
        },
        "end_epoch": estimator.end_epoch,
        "is_converged": estimator.is_converged,
        "fit_intercept": estimator.fit_intercept,
        "header": list(estimator.header),
        "lr": module.settings.learning_rate,
    }


def load(task: Task, model: InputModel, current: Settings, *, what: str) -> PartyModule:
    """A saved model (``input_model`` or ``warm_start_model``) with ``current``'s epochs and batch size."""
    data, meta = model.data, model.meta
    if (
        not isinstance(data, Mapping)
        or not isinstance(meta, Mapping)
        or not isinstance(data.get("estimator"), Mapping)
    ):
        raise ComponentError(f"{what} is not an sshe model (no data.estimator / meta)")
    module = PartyModule(task, warm_settings(task, meta, current, what=what), ovr=bool(meta.get("ovr")))
    try:
        labels = meta.get("labels")
        module.labels = None if labels is None else [int(v) for v in labels]
        count = meta.get("label_count")
        module.label_count = None if count is None else int(count)
    except (TypeError, ValueError):
        raise ComponentError(f"{what}: meta.labels / label_count must be integers") from None
    entries = data["estimator"]
    if module.ovr:
        try:
            items = {int(k): v for k, v in entries.items()}
        except ValueError:
            raise ComponentError(f"{what}: one-vs-rest estimators must be keyed by class index") from None
    else:
        items = {0: entries}
    for index, entry in items.items():
        module.estimators[index] = _restore(entry, what=f"{what} estimator {index}")
    return module


def _restore(entry: Any, *, what: str) -> Estimator:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("param"), Mapping):
        raise ComponentError(f"{what}: lacks its param")
    param = entry["param"]
    fit_intercept = bool(entry.get("fit_intercept", False))
    try:
        rows = [float(r[0]) if isinstance(r, list) else float(r) for r in param["coef_"]]
        if fit_intercept:
            intercept = param["intercept_"]
            rows.append(float(intercept[0]) if isinstance(intercept, list) else float(intercept))
        header = [str(h) for h in entry["header"]]
        end_epoch = int(entry.get("end_epoch", 0))
    except (KeyError, TypeError, ValueError, IndexError):
        raise ComponentError(f"{what}: coef_, intercept_ and header must be numbers and names") from None
    if len(header) != len(rows) - (1 if fit_intercept else 0):
        raise ComponentError(f"{what}: {len(header)} header names for {len(rows)} weights")
    return Estimator(
        weights=np.asarray(rows, dtype=np.float64),
        header=header,
        fit_intercept=fit_intercept,
        end_epoch=end_epoch,
        is_converged=bool(entry.get("is_converged", False)),
    )
