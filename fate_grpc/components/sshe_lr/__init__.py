"""sshe_lr and sshe_linr: FATE 2.2's vertical (hetero) logistic and linear regression without an arbiter.
The guest (labels, some features) and one host (other features of the same rows, aligned by psi) hold the
weights as additive secret shares and train on shares, with Paillier (each party its own key) for the
products of one party's features with the other's shares.

Modules: ``settings`` (FATE's parameters), ``secure`` (the two-party steps; its docstring says what each
party learns), ``training`` (the epoch loop), ``guest`` / ``host`` (roles), ``model`` (FATE's model
document), ``cross_validation``; the arithmetic is in ``fate_grpc.ml.sshe.ring`` and
``fate_grpc.crypto.sshe_products``. Stages: train (``train_data``, optional ``validate_data`` and
``warm_start_model`` -> ``train_output_data`` at the guest, ``output_model`` at both), predict
(``test_data`` + ``input_model`` -> ``test_output_data`` at the guest), cross_validation (``cv_data`` ->
``cv_output_datas`` at the guest).
"""

from __future__ import annotations

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.components.model_common.stages import cross_validation_stage
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.components.sshe_lr import cross_validation, guest, host
from fate_grpc.components.sshe_lr.settings import parameters
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, StageSpec
from fate_grpc.ml.linear.kernels import Task

ROLES = frozenset({"guest", "host"})
GUEST = frozenset({"guest"})


def _spec(name: str, description: str) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        roles=ROLES,
        stages={
            "train": StageSpec(
                inputs=(
                    ArtifactSpec("train_data", "data", ROLES),
                    ArtifactSpec("validate_data", "data", ROLES, optional=True),
                    ArtifactSpec("warm_start_model", "model", ROLES, optional=True),
                ),
                outputs=(
                    ArtifactSpec("train_output_data", "data", GUEST),
                    ArtifactSpec("output_model", "model", ROLES),
                ),
            ),
            "predict": StageSpec(
                inputs=(
                    ArtifactSpec("test_data", "data", ROLES),
                    ArtifactSpec("input_model", "model", ROLES),
                ),
                outputs=(ArtifactSpec("test_output_data", "data", GUEST),),
            ),
            "cross_validation": cross_validation_stage(ROLES),
        },
        parameters=parameters(),
        description=description,
    )


SPEC_LR = _spec(
    "sshe_lr",
    "Hetero logistic regression on secret-shared weights, guest and one host, no arbiter (Paillier).",
)
SPEC_LINR = _spec(
    "sshe_linr",
    "Hetero linear regression on secret-shared weights, guest and one host, no arbiter (Paillier).",
)


def run_lr(ctx: ComponentContext) -> None:
    _run(with_checked_parameters(ctx, SPEC_LR), "lr")


def run_linr(ctx: ComponentContext) -> None:
    _run(with_checked_parameters(ctx, SPEC_LINR), "linr")


def _run(ctx: ComponentContext, task: Task) -> None:
    if ctx.stage == "cross_validation":
        cross_validation.run(ctx, task)
        return
    if ctx.stage not in ("train", "predict"):
        raise ComponentError(f"sshe_{task}: stage {ctx.stage!r} is not implemented")
    role = guest if ctx.role == "guest" else host
    if ctx.stage == "predict":
        role.predict(ctx, task)
    else:
        role.train(ctx, task)
