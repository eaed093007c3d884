"""sshe_lr / sshe_linr parameters: FATE 2.2's names, value forms and defaults, and the settings they make.

FATE's SSHE has no ``he_param`` (its key size comes from its safety configuration, 1024 bits); this one
accepts ``he_param`` ``{kind: paillier, key_length >= 1024}`` with that default, so that a user can ask
for 2048-bit keys. ``init_param.method`` ``consts`` (``fill_val``) works here; FATE's SSHE raises
NotImplementedError for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fate_grpc.components.context import ComponentError
from fate_grpc.crypto import paillier
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import ParamSpec
from fate_grpc.ml.linear.kernels import Task
from fate_grpc.ml.linear.model import EARLY_STOP, INIT_METHODS

DEFAULT_INIT = {"method": "random_uniform", "fill_val": 0.0, "fit_intercept": True, "random_state": None}
DEFAULT_HE = {"kind": "paillier", "key_length": 1024}
DEFAULT_CV = {"n_splits": 5, "shuffle": False, "random_state": None}

INIT_PARAM = checks.record(
    {
        "method": checks.choice(*INIT_METHODS),
        "fill_val": checks.number(),
        "fit_intercept": checks.boolean(),
        "random_state": checks.integer(ge=0),
    },
    defaults={"method": "zeros", "fill_val": 0.0, "fit_intercept": True, "random_state": None},
)


def _he_rule(value: dict[str, Any]) -> str | None:
    if value["key_length"] < paillier.MIN_KEY_BITS:
        return f"key_length must be at least {paillier.MIN_KEY_BITS}, got {value['key_length']}"
    return None


HE_PARAM = checks.refine(
    checks.record(
        {"kind": checks.choice("paillier"), "key_length": checks.integer()},
        required=("kind",),
        defaults={"key_length": 1024},
    ),
    _he_rule,
)
CV_PARAM = checks.record(
    {"n_splits": checks.integer(gt=1), "shuffle": checks.boolean(), "random_state": checks.integer(ge=0)},
    required=("n_splits",),
    defaults={"shuffle": False, "random_state": None},
)


def _not_supported(value: bool) -> str | None:
    # FATE 2.2 raises "currently not supported" for True (plaintext training with revealed weights).
    return "true is currently not supported (as in FATE 2.2)" if value else None


def _param(name: str, default: Any, check: checks.Check) -> tuple[str, ParamSpec]:
    return name, ParamSpec(name, default=default, check=check)


def parameters() -> dict[str, ParamSpec]:
    """The declared parameters of both components (sshe_linr also carries FATE's unused threshold)."""
    return dict(
        [
            _param("epochs", 20, checks.integer(gt=0)),
            _param("batch_size", None, checks.integer(ge=10)),
            _param("tol", 1e-4, checks.number(ge=0)),
            _param("early_stop", "diff", checks.choice(*EARLY_STOP)),
            _param("learning_rate", 0.05, checks.number(ge=0)),
            _param("reveal_every_epoch", False, checks.refine(checks.boolean(), _not_supported)),
            _param("init_param", dict(DEFAULT_INIT), INIT_PARAM),
            _param("threshold", 0.5, checks.number(ge=0, le=1)),
            _param("reveal_loss_freq", 1, checks.integer(ge=1)),
            _param("he_param", dict(DEFAULT_HE), HE_PARAM),
            _param("cv_param", dict(DEFAULT_CV), CV_PARAM),
            _param("metrics", ["auc"], checks.list_of(checks.string(), single=True)),
            _param("output_cv_data", True, checks.boolean()),
        ]
    )


@dataclass(frozen=True)
class Settings:
    """What one SSHE training needs (both parties hold the same, checked values)."""

    task: Task
    epochs: int
    batch_size: int | None
    tol: float
    early_stop: str
    learning_rate: float
    init_param: dict[str, Any]
    threshold: float
    reveal_loss_freq: int
    key_length: int

    @property
    def fit_intercept(self) -> bool:
        return bool(self.init_param["fit_intercept"])

    def meta(self) -> dict[str, Any]:
        """FATE's model meta entries of the settings."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "init_param": dict(self.init_param),
            "early_stop": self.early_stop,
            "tol": self.tol,
            "reveal_every_epoch": False,
            "reveal_loss_freq": self.reveal_loss_freq,
        }


def settings(task: Task, params: Mapping[str, Any]) -> Settings:
    """Settings from checked parameters (``parameters.checked_parameters`` filled the defaults)."""
    return Settings(
        task=task,
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        tol=params["tol"],
        early_stop=params["early_stop"],
        learning_rate=params["learning_rate"],
        init_param=dict(params["init_param"]),
        threshold=params["threshold"],
        reveal_loss_freq=params["reveal_loss_freq"],
        key_length=params["he_param"]["key_length"],
    )


def warm_settings(task: Task, meta: Mapping[str, Any], current: Settings, *, what: str) -> Settings:
    """A warm start's settings: learning rate, tolerance, early stop and init from the stored model, epochs
    and batch size from the new task (as FATE)."""
    try:
        return Settings(
            task=task,
            epochs=current.epochs,
            batch_size=current.batch_size,
            tol=float(meta.get("tol", current.tol)),
            early_stop=str(meta.get("early_stop", current.early_stop)),
            learning_rate=float(meta.get("learning_rate", current.learning_rate)),
            init_param=dict(meta.get("init_param") or current.init_param),
            threshold=float(meta.get("threshold", current.threshold)),
            reveal_loss_freq=int(meta.get("reveal_loss_freq", current.reveal_loss_freq)),
            key_length=current.key_length,
        )
    except (TypeError, ValueError):
        raise ComponentError(f"{what}: its meta holds settings of the wrong type") from None
