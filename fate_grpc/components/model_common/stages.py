"""The predict and cross_validation stages as FATE 2.2 declares them for its federated models (the same
artifacts for coordinated_lr/linr and hetero_secureboost); train stages differ per model."""

from __future__ import annotations

from collections.abc import Set

from fate_grpc.domain.component_spec import ArtifactSpec, StageSpec


def predict_stage(roles: Set[str]) -> StageSpec:
    """``test_data`` + ``input_model`` -> ``test_output_data`` at every role in ``roles``."""
    return StageSpec(
        inputs=(
            ArtifactSpec("test_data", "data", frozenset(roles)),
            ArtifactSpec("input_model", "model", frozenset(roles)),
        ),
        outputs=(ArtifactSpec("test_output_data", "data", frozenset(roles)),),
    )


def cross_validation_stage(roles: Set[str]) -> StageSpec:
    """``cv_data`` -> ``cv_output_datas`` (several tables, optional: ``output_cv_data`` may be false)."""
    return StageSpec(
        inputs=(ArtifactSpec("cv_data", "data", frozenset(roles)),),
        outputs=(ArtifactSpec("cv_output_datas", "data", frozenset(roles), multi=True, optional=True),),
    )
