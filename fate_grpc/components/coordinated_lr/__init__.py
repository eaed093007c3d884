"""coordinated_lr and coordinated_linr: FATE 2.2's vertical (hetero) logistic and linear regression with an
arbiter that holds the Paillier key. The guest has the labels and some features, each host other features
of the same rows (aligned by psi); weights stay with the party that owns the features.

One module per role (``guest``, ``host``, ``arbiter``; each docstring says exactly what that role learns),
``cross_validation`` for that stage. Stages: train (``train_data``, optional ``validate_data`` and
``warm_start_model`` -> ``train_output_data`` at guest and hosts, ``output_model`` at every role), predict
(``test_data`` + ``input_model`` -> ``test_output_data``), cross_validation (``cv_data`` ->
``cv_output_datas``).
"""

from __future__ import annotations

from fate_grpc.components.context import ComponentContext
from fate_grpc.components.coordinated_lr import arbiter, cross_validation, guest, host
from fate_grpc.components.coordinated_lr.settings import (
    DEFAULT_CV,
    DEFAULT_HE,
    DEFAULT_INIT,
    DEFAULT_OPTIMIZER,
    DEFAULT_SCHEDULER,
)
from fate_grpc.components.model_common.stages import cross_validation_stage, predict_stage
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.ml.linear.kernels import Task

ALL_ROLES = frozenset({"guest", "host", "arbiter"})
DATA_ROLES = frozenset({"guest", "host"})
_NUMBER = (int, float)


def _parameters(task: Task) -> dict[str, ParamSpec]:
    params = {
        "epochs": ParamSpec("epochs", _NUMBER, default=20),
        "batch_size": ParamSpec("batch_size", _NUMBER, default=None),
        "optimizer": ParamSpec("optimizer", (dict,), default=DEFAULT_OPTIMIZER),
        "learning_rate_scheduler": ParamSpec("learning_rate_scheduler", (dict,), default=DEFAULT_SCHEDULER),
        "floating_point_precision": ParamSpec("floating_point_precision", _NUMBER, default=23),
        "tol": ParamSpec("tol", _NUMBER, default=1e-4),
        "early_stop": ParamSpec("early_stop", (str,), default="diff"),
        "he_param": ParamSpec("he_param", (dict,), default=DEFAULT_HE),
        "init_param": ParamSpec("init_param", (dict,), default=DEFAULT_INIT),
        "cv_param": ParamSpec("cv_param", (dict,), default=DEFAULT_CV),
        "metrics": ParamSpec("metrics", (list, str), default=["auc"] if task == "lr" else ["mse"]),
        "output_cv_data": ParamSpec("output_cv_data", (bool,), default=True),
    }
    if task == "lr":
        params["threshold"] = ParamSpec("threshold", _NUMBER, default=0.5)
    return params


def _spec(task: Task, name: str, description: str) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        roles=ALL_ROLES,
        stages={
            "train": StageSpec(
                inputs=(
                    ArtifactSpec("train_data", "data", DATA_ROLES),
                    ArtifactSpec("validate_data", "data", DATA_ROLES, optional=True),
                    ArtifactSpec("warm_start_model", "model", ALL_ROLES, optional=True),
                ),
                outputs=(
                    ArtifactSpec("train_output_data", "data", DATA_ROLES),
                    ArtifactSpec("output_model", "model", ALL_ROLES),
                ),
            ),
            "predict": predict_stage(DATA_ROLES),
            "cross_validation": cross_validation_stage(DATA_ROLES),
        },
        parameters=_parameters(task),
        description=description,
    )


SPEC_LR = _spec(
    "lr",
    "coordinated_lr",
    "Hetero logistic regression with an arbiter (Paillier): Taylor loss, one-vs-rest for multi-class.",
)
SPEC_LINR = _spec(
    "linr", "coordinated_linr", "Hetero linear regression with an arbiter (Paillier), squared loss."
)


def run_lr(ctx: ComponentContext) -> None:
    _run(ctx, "lr")


def run_linr(ctx: ComponentContext) -> None:
    _run(ctx, "linr")


def _run(ctx: ComponentContext, task: Task) -> None:
    if ctx.stage == "cross_validation":
        cross_validation.run(ctx, task)
    elif ctx.stage == "predict":
        if ctx.role == "guest":
            guest.predict(ctx, task)
        elif ctx.role == "host":
            host.predict(ctx, task)
        # The arbiter has no part in prediction (FATE's predict stage does nothing there).
    elif ctx.role == "guest":
        guest.train(ctx, task)
    elif ctx.role == "host":
        host.train(ctx, task)
    else:
        arbiter.train(ctx, task)
