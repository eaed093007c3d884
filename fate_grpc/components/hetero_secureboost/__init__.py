"""hetero_secureboost: FATE 2.2's vertical (hetero) SecureBoost, gradient-boosted trees over features split
between a guest (labels, Paillier or OU key) and one or more hosts, on rows aligned by psi.

One module per role (``guest``, ``host``; each docstring says exactly what that role learns). Stages:
train (``train_data``, optional ``validate_data`` and ``warm_start_model`` -> ``train_output_data`` at the
guest, ``output_model`` at every party) and predict (``test_data`` + ``input_model`` ->
``test_output_data`` at the guest) and cross_validation (``cv_data`` -> ``cv_output_datas`` at the guest).
Objectives binary:bce, multi:ce (one tree per class per round) and
regression:l2; GOSS, complete_secure, FATE's g/h packing and split-info packing, histogram subtraction.
"""

from __future__ import annotations

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.components.hetero_secureboost import cross_validation, guest, host
from fate_grpc.components.hetero_secureboost.params import TRAIN_PARAMETERS
from fate_grpc.components.model_common.stages import cross_validation_stage, predict_stage
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, StageSpec

ROLES = frozenset({"guest", "host"})
GUEST = frozenset({"guest"})

SPEC = ComponentSpec(
    name="hetero_secureboost",
    roles=ROLES,
    stages={
        "train": StageSpec(
            inputs=(
                ArtifactSpec("train_data", "data", ROLES),
                ArtifactSpec("validate_data", "data", ROLES, optional=True),
                ArtifactSpec("warm_start_model", "model", ROLES, optional=True),
            ),
            outputs=(
                ArtifactSpec("train_output_data", "data", ROLES, optional=True),
                ArtifactSpec("output_model", "model", ROLES, optional=True),
            ),
        ),
        "predict": predict_stage(ROLES),
        "cross_validation": cross_validation_stage(ROLES),
    },
    parameters=TRAIN_PARAMETERS,
    description="Hetero SecureBoost (Paillier or OU): boosted trees over the guest's and hosts' features.",
)


def run(ctx: ComponentContext) -> None:
    ctx = with_checked_parameters(ctx, SPEC)
    if ctx.stage == "cross_validation":
        cross_validation.run(ctx)
        return
    if ctx.stage not in ("train", "predict"):
        raise ComponentError(f"hetero_secureboost: stage {ctx.stage!r} is not implemented")
    role = guest if ctx.role == "guest" else host
    if ctx.stage == "predict":
        role.predict(ctx)
    else:
        role.train(ctx)
